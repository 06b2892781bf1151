#!/usr/bin/env bash
# Fluxgraph's server against the reference LangGraph JS server (@langchain/langgraph-api, in-memory dev server),
# same 1-task workflow, same load generator (64 streaming clients over loopback), each server in its own process,
# measured back to back in one session (see docs/benchmarks.md).
# Usage: scripts/bench-reference.sh [seconds per measurement] [rounds] [warm-up seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-10}"
ROUNDS="${2:-2}"
WARMUP="${3:-30}"
OURS=2032
THEIRS=2031
OURS_PG=2034

mvn -B -q install -DskipTests -DskipITs
mvn -B -q -pl server dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$PWD/server/target/bench.classpath"
CLASSPATH="server/target/test-classes:server/target/classes:$(cat server/target/bench.classpath)"
(cd bench/reference-js && npm install --no-audit --no-fund >/dev/null 2>&1)  # npm ci rejects this lock file (optional platform packages)

pids=()
cleanup() {
  for port in "$THEIRS" "$OURS" "$OURS_PG"; do  # npx's node outlives npx: stop whoever listens
    for pid in $(ss -ltnpH "sport = :$port" | grep -o 'pid=[0-9]*' | cut -d= -f2); do kill "$pid" 2>/dev/null || true; done
  done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
if ss -ltnH "sport = :$THEIRS or sport = :$OURS or sport = :$OURS_PG" | grep -q .; then
  echo "port $THEIRS or $OURS is in use" >&2
  exit 1
fi

wait_ok() {
  for _ in $(seq 1 120); do
    if curl -sf "http://127.0.0.1:$1/ok" >/dev/null; then return 0; fi
    sleep 0.5
  done
  echo "server on port $1 did not start" >&2
  exit 1
}

(cd bench/reference-js && LANGSMITH_TRACING=false LANGCHAIN_TRACING_V2=false \
    exec npx langgraphjs dev --port "$THEIRS" --host 127.0.0.1 --no-browser >/tmp/fluxgraph-bench-reference.log 2>&1) &
pids+=($!)
java -cp "$CLASSPATH" dev.fluxgraph.server.bench.ServerBenchmark --serve "$OURS" >/tmp/fluxgraph-bench-ours.log 2>&1 &
pids+=($!)
java -cp "$CLASSPATH" dev.fluxgraph.server.bench.ServerBenchmark --serve "$OURS_PG" --postgres \
    >/tmp/fluxgraph-bench-ours-pg.log 2>&1 &
pids+=($!)
wait_ok "$THEIRS"
wait_ok "$OURS"
wait_ok "$OURS_PG"

# every process of a server (npx starts node, which may start more), comma-separated, for CPU accounting
tree() {
  local all="$1" child
  for child in $(pgrep -P "$1" || true); do all="$all,$(tree "$child")"; done
  echo "$all"
}
# the process listening on a port (npx's node may hand the socket to a child)
listener() { ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }
THEIR_PIDS=$(tree "$(listener "$THEIRS")")
OUR_PIDS=$(tree "$(listener "$OURS")")
OUR_PG_PIDS=$(tree "$(listener "$OURS_PG")")  # the JVM only: PostgreSQL runs detached (pg_ctl)

echo "node $(node --version), @langchain/langgraph-api $(node -p 'require("./bench/reference-js/node_modules/@langchain/langgraph-api/package.json").version'), $(java -version 2>&1 | head -1), $(nproc) cores"
# Each server is warmed up and measured by one load-generator process (both JITs need tens of seconds);
# the other server idles meanwhile.
echo "fluxgraph (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
java -cp "$CLASSPATH" dev.fluxgraph.server.bench.ServerBenchmark "$SECONDS_EACH" --url "http://127.0.0.1:$OURS" \
    --name fluxgraph --pids "$OUR_PIDS" --warmup "$WARMUP" --rounds "$ROUNDS"
echo "fluxgraph on embedded PostgreSQL, same machine (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
java -cp "$CLASSPATH" dev.fluxgraph.server.bench.ServerBenchmark "$SECONDS_EACH" --url "http://127.0.0.1:$OURS_PG" \
    --name fluxgraph-pg --pids "$OUR_PG_PIDS" --warmup "$WARMUP" --rounds "$ROUNDS"
echo "reference (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
java -cp "$CLASSPATH" dev.fluxgraph.server.bench.ServerBenchmark "$SECONDS_EACH" --url "http://127.0.0.1:$THEIRS" \
    --name reference --pids "$THEIR_PIDS" --warmup "$WARMUP" --rounds "$ROUNDS"
