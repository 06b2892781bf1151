#!/usr/bin/env bash
# Streamed runs per second and time to first/last event over loopback, in-memory and PostgreSQL
# (see docs/benchmarks.md). Usage: scripts/bench-server.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q install -DskipTests -DskipITs
mvn -B -q -pl server dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$PWD/server/target/bench.classpath"
exec java -cp "server/target/test-classes:server/target/classes:$(cat server/target/bench.classpath)" \
    dev.fluxgraph.server.bench.ServerBenchmark "${1:-10}"
