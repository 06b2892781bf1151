#!/usr/bin/env bash
# PostgresSaver throughput vs the same PostgreSQL's raw insert rate (see docs/benchmarks.md).
# Usage: scripts/bench-postgres.sh [r2dbc-url or - for an embedded PostgreSQL] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q install -DskipTests -DskipITs
mvn -B -q -pl checkpoint-r2dbc dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$PWD/checkpoint-r2dbc/target/bench.classpath"
exec java -cp "checkpoint-r2dbc/target/test-classes:checkpoint-r2dbc/target/classes:$(cat checkpoint-r2dbc/target/bench.classpath)" \
    dev.fluxgraph.postgres.bench.PostgresBenchmark "${1:--}" "${2:-10}"
