#!/usr/bin/env bash
# How a run's cost grows with its thread: a long history and a growing state, in memory and on PostgreSQL
# (see docs/benchmarks.md). Builds in the reactor (no install).
# Usage: scripts/bench-thread-length.sh [r2dbc-url or - for an embedded PostgreSQL] [earlier checkpoints] [messages] [history|state|all]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -pl runtime-reactive,checkpoint-r2dbc test-compile dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$PWD/checkpoint-r2dbc/target/bench-thread-length.classpath"
exec java -cp "checkpoint-r2dbc/target/test-classes:checkpoint-r2dbc/target/classes:$(cat checkpoint-r2dbc/target/bench-thread-length.classpath)" \
    dev.fluxgraph.postgres.bench.ThreadLengthBenchmark "${1:--}" "${2:-10000}" "${3:-1000}" "${4:-all}"
