#!/usr/bin/env bash
# The whole test suite: unit tests (*Test, Surefire) and integration tests (*IT, Failsafe) of every module,
# including the official LangGraph JS client against the server (installed here with npm from package-lock.json).
set -euo pipefail
cd "$(dirname "$0")"
(cd server/src/test/js && npm ci --no-audit --no-fund --loglevel=error)
exec mvn -B verify "$@"
