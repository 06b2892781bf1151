#!/usr/bin/env bash
# The main job. Until the HTTP server lands (see the README's feature table) this builds the project and runs a
# sample workflow: ./run.sh lists nothing and runs simple-workflow; ./run.sh <sample> [args] runs another one;
# ./run.sh list shows them all.
set -euo pipefail
cd "$(dirname "$0")"
mvn -B -q install -DskipTests -DskipITs
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(simple-workflow)
exec mvn -B -q -pl samples exec:java -Dexec.mainClass=dev.fluxgraph.samples.SampleRunner \
    -Dexec.args="${args[*]}"
