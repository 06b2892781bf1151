#!/usr/bin/env bash
# What the instrumentation hook costs a 1-task run without instrumentation: the engine of an earlier commit against
# the current sources, both compiled and laid out the same way, in alternating JVMs (see docs/benchmarks.md,
# "Instrumentation hook").
# Usage: scripts/bench-hook.sh [before commit, default: the commit before the hook] [measured runs] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE="${1:-725d131}"
RUNS="${2:-20000}"
ROUNDS="${3:-6}"
mvn -B -q -pl runtime-reactive test-compile
mvn -B -q -pl runtime-reactive dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$PWD/runtime-reactive/target/bench.classpath"
DEPS="$(cat runtime-reactive/target/bench.classpath)"
BENCH=runtime-reactive/target/test-classes/dev/fluxgraph/bench
build() { # $1: directory, $2: a git tree-ish or "worktree"; the engine's classes and the benchmark's
  rm -rf "$1" && mkdir -p "$1/src" "$1/classes/dev/fluxgraph/bench"
  if [ "$2" = worktree ]; then
    mkdir -p "$1/src/runtime-reactive/src/main" && cp -r runtime-reactive/src/main/java "$1/src/runtime-reactive/src/main/"
  else
    git archive "$2" runtime-reactive/src/main/java | tar -x -C "$1/src"
  fi
  javac -nowarn --release 17 -cp "$DEPS" -d "$1/classes" $(find "$1/src" -name '*.java')
  cp "$BENCH"/HookOverheadBenchmark*.class "$BENCH"/OneTaskWorkload*.class "$1/classes/dev/fluxgraph/bench/"
}
build runtime-reactive/target/bench-before "$BEFORE"
build runtime-reactive/target/bench-after worktree
cp "$BENCH"/HookedWorkload*.class runtime-reactive/target/bench-after/classes/dev/fluxgraph/bench/
run() { # $1: before|after, $2: label, then more arguments
  java -cp "runtime-reactive/target/bench-$1/classes:$DEPS" dev.fluxgraph.bench.HookOverheadBenchmark "$2" "${@:3}"
}
for ROUND in $(seq "$ROUNDS"); do # before first in odd rounds, after first in even ones
  if [ $((ROUND % 2)) -eq 1 ]; then
    run before "before ($BEFORE), round $ROUND" "$RUNS"; run after "after, round $ROUND" "$RUNS"
  else
    run after "after, round $ROUND" "$RUNS"; run before "before ($BEFORE), round $ROUND" "$RUNS"
  fi
done
run after "after, with an empty hook" "$RUNS" empty-hook
