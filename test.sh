#!/usr/bin/env bash
# The whole test suite: unit tests (*Test, Surefire) and integration tests (*IT, Failsafe) of every module.
set -euo pipefail
cd "$(dirname "$0")"
exec mvn -B verify "$@"
