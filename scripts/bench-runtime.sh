#!/usr/bin/env bash
# Per-run latency of 1-task and 100-parallel-task workflows on InMemorySaver (see docs/benchmarks.md).
# Usage: scripts/bench-runtime.sh [measured runs]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q install -DskipTests -DskipITs
mvn -B -q -pl runtime-reactive dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$PWD/runtime-reactive/target/bench.classpath"
exec java -cp "runtime-reactive/target/test-classes:runtime-reactive/target/classes:$(cat runtime-reactive/target/bench.classpath)" \
    dev.fluxgraph.bench.RuntimeBenchmark "${1:-40000}"
