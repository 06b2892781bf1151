#!/usr/bin/env bash
# Runs one sample on the terminal: ./samples.sh lists them, ./samples.sh human-in-the-loop foo baz runs one.
set -euo pipefail
cd "$(dirname "$0")"
mvn -B -q install -DskipTests -DskipITs
exec mvn -B -q -pl samples exec:java -Dexec.mainClass=dev.fluxgraph.samples.SampleRunner -Dexec.args="$*"
