#!/usr/bin/env bash
# Fluxgraph's server against the reference LangGraph JS server (@langchain/langgraph-api, in-memory dev server
# started by the official CLI), same 1-task workflow, same load generator (64 streaming clients over loopback,
# every run checked), each server in its own process, measured back to back in one session; prints each server's
# figures and the runs/s ratios (see docs/benchmarks.md).
# Usage: scripts/bench-reference.sh [seconds per measurement] [rounds] [warm-up seconds] [--stateless]
#   --stateless: POST /runs/stream (no thread) instead of POST /threads + POST /threads/{id}/runs/stream
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-15}"
ROUNDS="${2:-2}"
WARMUP="${3:-60}"
MODE="${4:-}"
THEIRS=2031
OURS=2032
OURS_PG=2034
OUT=$(mktemp)

mvn -B -q install -DskipTests -DskipITs
mvn -B -q -pl server dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$PWD/server/target/bench.classpath"
CLASSPATH="server/target/test-classes:server/target/classes:$(cat server/target/bench.classpath)"
# npm ci needs every optional platform package of @tailwindcss/oxide (pulled by @langchain/langgraph-ui) in the lock
# file; a registry that only serves the linux ones (as on the machine that wrote it) leaves them out, and npm ci
# refuses the file. npm install then installs the same locked versions.
(cd bench/reference-js && { npm ci --no-audit --no-fund >/dev/null 2>&1 \
    || npm install --no-audit --no-fund >/dev/null 2>&1; })

if ss -ltnH "sport = :$THEIRS or sport = :$OURS or sport = :$OURS_PG" | grep -q .; then
  echo "port $THEIRS, $OURS or $OURS_PG is in use" >&2
  exit 1
fi
pids=()
groups=()
cleanup() {
  for group in "${groups[@]}"; do kill -- "-$group" 2>/dev/null || true; done  # CLI, tsx watch and the server
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -f "$OUT"
}
trap cleanup EXIT

wait_ok() {
  for _ in $(seq 1 120); do
    if curl -sf "http://127.0.0.1:$1/ok" >/dev/null; then return 0; fi
    sleep 0.5
  done
  echo "server on port $1 did not start" >&2
  exit 1
}
# the process listening on a port (the CLI runs the server in a child process)
listener() { ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true; }

# The reference, from an empty state (the dev server keeps every thread and run, persisted in .langgraph_api, and
# scans them all on each operation), with tracing and the CLI's usage analytics off and request logging at warn.
rm -rf bench/reference-js/.langgraph_api
(cd bench/reference-js && LANGSMITH_TRACING=false LANGSMITH_TRACING_V2=false LANGCHAIN_TRACING=false \
    LANGCHAIN_TRACING_V2=false LANGGRAPH_CLI_NO_ANALYTICS=1 LOG_LEVEL=warn \
    exec setsid node_modules/.bin/langgraphjs dev --port "$THEIRS" --host 127.0.0.1 --no-browser \
    >/tmp/fluxgraph-bench-reference.log 2>&1) &
groups+=($!)
java -cp "$CLASSPATH" dev.fluxgraph.server.bench.ServerBenchmark --serve "$OURS" >/tmp/fluxgraph-bench-ours.log 2>&1 &
pids+=($!)
java -cp "$CLASSPATH" dev.fluxgraph.server.bench.ServerBenchmark --serve "$OURS_PG" --postgres \
    >/tmp/fluxgraph-bench-ours-pg.log 2>&1 &
pids+=($!)
wait_ok "$THEIRS"
wait_ok "$OURS"
wait_ok "$OURS_PG"
THEIR_PIDS=$(listener "$THEIRS")
OUR_PIDS=$(listener "$OURS")
# the JVM and PostgreSQL's postmaster (pg_ctl detaches it; the load generator adds its backends)
PG_PORT=$(sed -n 's/^postgres on port //p' /tmp/fluxgraph-bench-ours-pg.log)
OUR_PG_PIDS="$(listener "$OURS_PG"),$(listener "$PG_PORT")"

echo "node $(node --version), @langchain/langgraph-api $(node -p \
  'require("./bench/reference-js/node_modules/@langchain/langgraph-api/package.json").version'),\
 @langchain/langgraph $(node -p 'require("./bench/reference-js/node_modules/@langchain/langgraph/package.json").version'),\
 $(java -version 2>&1 | head -1), $(nproc) cores, ${SECONDS_EACH} s x ${ROUNDS} after ${WARMUP} s ${MODE:-threads}"
# Each server is warmed up and measured by one load-generator process (the JITs need tens of seconds);
# the other servers idle meanwhile.
measure() {  # name port pids
  echo "$1 (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  java -cp "$CLASSPATH" dev.fluxgraph.server.bench.ServerBenchmark "$SECONDS_EACH" --url "http://127.0.0.1:$2" \
      --name "$1" --pids "$3" --warmup "$WARMUP" --rounds "$ROUNDS" $MODE 2>&1 | grep -v '^SLF4J' | tee -a "$OUT" || true
}
measure reference "$THEIRS" "$THEIR_PIDS"
measure fluxgraph "$OURS" "$OUR_PIDS"
measure fluxgraph-pg "$OURS_PG" "$OUR_PG_PIDS"
echo "(load average: $(cut -d' ' -f1-3 /proc/loadavg))"
# mean runs/s over the rounds, and the ratios to the reference
awk '$3 == "runs/s" || $4 == "runs/s" {
       name = $1; value = ($3 == "runs/s") ? $2 : $3; sum[name] += value; count[name]++ }
     END {
       ref = sum["reference"] / count["reference"]
       printf "mean runs/s: reference %.0f, fluxgraph %.0f, fluxgraph-pg %.0f\n", ref,
           sum["fluxgraph"] / count["fluxgraph"], sum["fluxgraph-pg"] / count["fluxgraph-pg"]
       printf "ratio to the reference: fluxgraph %.1fx, fluxgraph-pg %.1fx\n",
           sum["fluxgraph"] / count["fluxgraph"] / ref, sum["fluxgraph-pg"] / count["fluxgraph-pg"] / ref }' "$OUT"
if grep -q FAILED "$OUT"; then
  echo "some runs failed: the figures above do not count them (see FAILED above)" >&2
  exit 1
fi
