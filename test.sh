#!/usr/bin/env bash
# The whole test suite: unit tests (*Test, Surefire) and integration tests (*IT, Failsafe) of every module,
# including the official LangGraph JS client against the server and a useStream page in headless Chromium (both
# installed here with npm from their package-lock.json; BrowserIT installs Debian's chromium when it is missing).
set -euo pipefail
cd "$(dirname "$0")"
(cd server/src/test/js && npm ci --no-audit --no-fund --loglevel=error)
(cd server/src/test/browser && npm ci --no-audit --no-fund --loglevel=error)
exec mvn -B verify "$@"
