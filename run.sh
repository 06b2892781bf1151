#!/usr/bin/env bash
# The main job. Until the HTTP server lands (see the feature table), this builds the project and runs the
# quick-start workflow; extra arguments go to it (e.g. ./run.sh 42).
set -euo pipefail
cd "$(dirname "$0")"
mvn -B -q install -DskipTests
exec mvn -B -q -pl samples exec:java -Dexec.mainClass=dev.fluxgraph.samples.QuickStart -Dexec.args="$*"
