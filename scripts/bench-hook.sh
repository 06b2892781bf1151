#!/usr/bin/env bash
# What the instrumentation hook costs a 1-task run without instrumentation: the engine of an earlier commit against
# the current one, in alternating JVMs, each workflow's median divided by a plain-Reactor reference measured
# interleaved in the same JVM (see docs/benchmarks.md, "Instrumentation hook").
# Usage: scripts/bench-hook.sh [before commit, default: the commit before the hook] [measured runs] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE="${1:-725d131}"
RUNS="${2:-20000}"
ROUNDS="${3:-3}"
mvn -B -q -pl runtime-reactive test-compile
mvn -B -q -pl runtime-reactive dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$PWD/runtime-reactive/target/bench.classpath"
DEPS="$(cat runtime-reactive/target/bench.classpath)"
OUT="runtime-reactive/target/bench-before"
rm -rf "$OUT" && mkdir -p "$OUT/src" "$OUT/classes" "$OUT/test-classes"
git archive "$BEFORE" runtime-reactive/src/main/java | tar -x -C "$OUT/src"
javac -nowarn --release 17 -cp "$DEPS" -d "$OUT/classes" $(find "$OUT/src" -name '*.java')
# the benchmark without the classes that need the hook, for the engine before it
cp runtime-reactive/target/test-classes/dev/fluxgraph/bench/{HookOverheadBenchmark,OneTaskWorkload}*.class \
    "$OUT/test-classes/" 2>/dev/null || true
mkdir -p "$OUT/test-classes/dev/fluxgraph/bench" && mv "$OUT"/test-classes/*.class "$OUT/test-classes/dev/fluxgraph/bench/"
for ROUND in $(seq "$ROUNDS"); do
  java -cp "$OUT/test-classes:$OUT/classes:$DEPS" dev.fluxgraph.bench.HookOverheadBenchmark "before ($BEFORE), round $ROUND" "$RUNS"
  java -cp "runtime-reactive/target/test-classes:runtime-reactive/target/classes:$DEPS" \
      dev.fluxgraph.bench.HookOverheadBenchmark "after, round $ROUND" "$RUNS"
done
java -cp "runtime-reactive/target/test-classes:runtime-reactive/target/classes:$DEPS" \
    dev.fluxgraph.bench.HookOverheadBenchmark "after, with an empty hook" "$RUNS" empty-hook
