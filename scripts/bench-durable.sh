#!/usr/bin/env bash
# Issue 12's performance check (see docs/benchmarks.md, "Runs as work items in PostgreSQL"): the server of this work
# tree ("new") against the one of an earlier commit ("old", default 32706d0, the last before runs became work items
# in PostgreSQL), each started with its own command line (FluxgraphServer.main) in its own JVM, measured by the same
# load generator (ServerBenchmark --url: 64 streaming clients over loopback, every run checked), in rounds that
# interleave the builds: old and new on PostgreSQL, new as two processes of one PostgreSQL (the clients spread over
# both), old and new in memory. PostgreSQL is one embedded PostgreSQL 17 with the server's durable settings (fsync,
# synchronous_commit and full_page_writes on, as the command line's embedded default), a fresh database per
# measurement. Then RecoveryBenchmark: kill -9 of one of two server processes, time until its runs end on the other.
# Nothing is installed: each tree is built in its own directory and run from its class directories.
# STATEMENTS=1 loads pg_stat_statements and prints each PostgreSQL measurement's statements per run (a profile: it
# costs some throughput itself). DURABLE=0 starts that PostgreSQL with zonky's test settings instead (fsync and
# synchronous_commit off, as scripts/bench-reference.sh's figures), for comparison.
# CLIENTS=N sets the load generator's concurrent clients (default 64, which saturates two cores).
# MEMORY_ONLY=1 measures the two builds in memory only (no PostgreSQL, no recovery trials), for the in-memory target:
# both servers start once and warm up, then each round measures them back to back, the order swapped every round (a
# single measurement on this shared machine moves by up to 1.5x; pairs taken seconds apart move together).
# The old tree may also be a directory of sources (an experiment; copied, without its target directories).
# Usage: scripts/bench-durable.sh [seconds per measurement] [rounds] [warm-up seconds] [old commit or directory]
#                                 [recovery trials, 0 for none] [runs per recovery trial]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-15}"
ROUNDS="${2:-3}"
WARMUP="${3:-40}"
OLD_REV="${4:-32706d0}"
TRIALS="${5:-5}"
RECOVERY_RUNS="${6:-10}"
WORK=$(mktemp -d /tmp/fluxgraph-bench-durable.XXXXXX)
OUT="$WORK/figures.txt"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# builds: this tree with its tests (the benchmark classes), the old commit's main code from `git archive`
mvn -B -q -pl server -am test-compile dependency:build-classpath -Dmdep.includeScope=runtime \
    -Dmdep.outputFile="$WORK/new.classpath"
mkdir "$WORK/old"
if [ -d "$OLD_REV" ]; then
  tar -C "$OLD_REV" --exclude=target --exclude=.git -c . | tar -x -C "$WORK/old"
else
  git archive "$OLD_REV" | tar -x -C "$WORK/old"
fi
(cd "$WORK/old" && mvn -B -q -pl server -am compile dependency:build-classpath -Dmdep.includeScope=runtime \
    -Dmdep.outputFile="$WORK/old.classpath")
# the graphs (BenchGraphs, compiled here) in a directory of their own, with their services file, for both servers
GRAPHS="$WORK/graphs"
mkdir -p "$GRAPHS/META-INF/services" "$GRAPHS/dev/fluxgraph/server/bench"
cp server/target/test-classes/dev/fluxgraph/server/bench/BenchGraphs*.class "$GRAPHS/dev/fluxgraph/server/bench/"
echo dev.fluxgraph.server.bench.BenchGraphs > "$GRAPHS/META-INF/services/dev.fluxgraph.server.GraphProvider"
TOOLS_CP="server/target/test-classes:server/target/classes:$(cat "$WORK/new.classpath")"
NEW_CP="$PWD/server/target/classes:$(cat "$WORK/new.classpath"):$GRAPHS"
OLD_CP="$WORK/old/server/target/classes:$(cat "$WORK/old.classpath"):$GRAPHS"

MEMORY_ONLY="${MEMORY_ONLY:-0}"
[ "$MEMORY_ONLY" = 1 ] && TRIALS=0
databases=()
for round in $(seq 1 "$ROUNDS"); do databases+=("old_$round" "new_$round" "two_$round"); done
DURABLE_SETTINGS=$([ "${DURABLE:-1}" = 0 ] && echo false || echo true)
if [ "$MEMORY_ONLY" != 1 ]; then
java -Dbench.statements="${STATEMENTS:+true}" -Dbench.durable="$DURABLE_SETTINGS" -cp "$TOOLS_CP" \
    dev.fluxgraph.server.bench.DurablePostgres "$WORK/postgres" "${databases[@]}" >"$WORK/postgres.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 240); do grep -q '^postgres on port' "$WORK/postgres.log" && break; sleep 0.5; done
PG_PORT=$(sed -n 's/^postgres on port \([0-9]*\).*/\1/p' "$WORK/postgres.log")
[ -n "$PG_PORT" ] || { cat "$WORK/postgres.log" >&2; exit 1; }
PG_PID=$(ss -ltnpH "sport = :$PG_PORT" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
fi

OLD_NAME=$([ -d "$OLD_REV" ] && echo "$OLD_REV" || git rev-parse --short "$OLD_REV")
NEW_NAME="$(git rev-parse --short HEAD) (main code of $(git log -1 --format=%h -- '*/src/main/*'))"
git diff --quiet HEAD -- '*/src/main/*' || NEW_NAME="$NEW_NAME plus uncommitted changes"
echo "$(java -version 2>&1 | head -1), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs);" \
  "old $OLD_NAME, new $NEW_NAME; ${CLIENTS:-64} clients; ${SECONDS_EACH} s per measurement after ${WARMUP} s, ${ROUNDS} rounds;" \
  "$(sed -n 's/^postgres on port [0-9]* (\(.*\))/PostgreSQL: \1/p' "$WORK/postgres.log" 2>/dev/null)"

server_pid=
server_port=
start_server() {  # name class-path options...
  local name=$1 cp=$2 log="$WORK/$1.log"
  shift 2
  : >"$log"  # before the server's own redirection, which happens in the background
  java -cp "$cp" dev.fluxgraph.server.FluxgraphServer --port 0 "$@" >"$log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  server_port=
  for _ in $(seq 1 240); do
    server_port=$(sed -n 's#.*listening on http://127\.0\.0\.1:\([0-9]*\) .*#\1#p' "$log" | head -1)
    [ -n "$server_port" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.5
  done
  echo "server $name did not start:" >&2
  cat "$log" >&2
  exit 1
}
stop_server() {  # pid
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
measure() {  # name urls pids
  echo "$1 (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  java -Dbench.clients="${CLIENTS:-64}" -cp "$TOOLS_CP" dev.fluxgraph.server.bench.ServerBenchmark "$SECONDS_EACH" --url "$2" --name "$1" \
      --pids "$3" --warmup "$WARMUP" 2>&1 | grep -v '^SLF4J' | tee -a "$OUT" || true
}
pg_url() { echo "r2dbc:postgresql://postgres@localhost:$PG_PORT/$1"; }
# PostgreSQL's counters of a database (PgStats), and after the server stopped their differences per run
pg_stats() { java -cp "$TOOLS_CP" dev.fluxgraph.server.bench.PgStats "$PG_PORT" "$@" 2>&1 | grep -v '^SLF4J'; }

if [ "$MEMORY_ONLY" = 1 ]; then
  start_server old-mem "$OLD_CP" --in-memory
  old_pid=$server_pid old_port=$server_port
  start_server new-mem "$NEW_CP" --in-memory
  new_pid=$server_pid new_port=$server_port
  WARMUP_EACH=$WARMUP
  for build in old new; do  # warm-up only (ServerBenchmark warms up for --warmup, then measures)
    port_var=${build}_port pid_var=${build}_pid
    SECONDS_EACH=1 measure "$build-mem-warmup" "http://127.0.0.1:${!port_var}" "${!pid_var}" >/dev/null
  done
  WARMUP=3
  for round in $(seq 1 "$ROUNDS"); do
    order=$([ $((round % 2)) = 1 ] && echo "old new" || echo "new old")
    for build in $order; do
      port_var=${build}_port pid_var=${build}_pid
      measure "$build-mem#$round" "http://127.0.0.1:${!port_var}" "${!pid_var}"
    done
  done
  WARMUP=$WARMUP_EACH
  stop_server "$old_pid"
  stop_server "$new_pid"
  ROUNDS_DONE=$ROUNDS
fi
for round in $(seq 1 "$ROUNDS"); do
  [ -n "${ROUNDS_DONE:-}" ] && break
  for build in old new; do
    cp=$([ "$build" = old ] && echo "$OLD_CP" || echo "$NEW_CP")
    before=$(pg_stats "${build}_$round")
    start_server "$build-pg-$round" "$cp" --database-url "$(pg_url "${build}_$round")"
    measure "$build-pg#$round" "http://127.0.0.1:$server_port" "$server_pid,$PG_PID"
    stop_server "$server_pid"
    echo "$build-pg#$round PostgreSQL: $(pg_stats "${build}_$round" "$before")" | tee -a "$OUT"
  done
  if [ "$MEMORY_ONLY" != 1 ]; then
  before=$(pg_stats "two_$round")
  start_server "two-a-$round" "$NEW_CP" --database-url "$(pg_url "two_$round")"
  first_pid=$server_pid first_port=$server_port
  start_server "two-b-$round" "$NEW_CP" --database-url "$(pg_url "two_$round")"
  measure "new-pg-2p#$round" "http://127.0.0.1:$first_port,http://127.0.0.1:$server_port" \
      "$first_pid,$server_pid,$PG_PID"
  stop_server "$first_pid"
  stop_server "$server_pid"
  echo "new-pg-2p#$round PostgreSQL: $(pg_stats "two_$round" "$before")" | tee -a "$OUT"
  fi
  for build in old new; do
    cp=$([ "$build" = old ] && echo "$OLD_CP" || echo "$NEW_CP")
    start_server "$build-mem-$round" "$cp" --in-memory
    measure "$build-mem#$round" "http://127.0.0.1:$server_port" "$server_pid"
    stop_server "$server_pid"
  done
done
echo "(load average: $(cut -d' ' -f1-3 /proc/loadavg))"

# per round: new / old (runs/s; first event p50 and p99), two processes / one; then the range over the rounds
if [ "$ROUNDS" -gt 0 ]; then  # 0 rounds: the recovery trials only
awk '$3 == "runs/s" {
       split($1, label, "#"); r = label[2]; runs[label[1], r] = $2; p50[label[1], r] = $7; p99[label[1], r] = $10
       if (r > rounds) rounds = r }
     $2 == "server" && $3 == "CPU" { split($1, label, "#"); cpu[label[1], label[2]] = $8 }
     function range(name, lo, hi) { printf "%-44s %s\n", name, (lo == hi) ? sprintf("%.2f", lo) \
       : sprintf("%.2f to %.2f", lo, hi) }
     END {
       for (r = 1; r <= rounds; r++) {
         d = runs["new-mem", r] / runs["old-mem", r]
         if (runs["old-pg", r] == 0) {  # MEMORY_ONLY
           printf "round %d: in memory runs/s new/old %.2f, server CPU per run new/old %.2f\n", r, d,
             cpu["new-mem", r] / cpu["old-mem", r]
           if (r == 1 || d < d1) d1 = d; if (r == 1 || d > d2) d2 = d
           sumNew += runs["new-mem", r]; sumOld += runs["old-mem", r]
           cpuNew += cpu["new-mem", r]; cpuOld += cpu["old-mem", r]
           continue
         }
         a = runs["new-pg", r] / runs["old-pg", r]; b = p50["new-pg", r] / p50["old-pg", r]
         c = p99["new-pg", r] / p99["old-pg", r]
         e = runs["new-pg-2p", r] / runs["new-pg", r]
         printf "round %d: PostgreSQL runs/s new/old %.2f, first event p50 new/old %.2f, p99 %.2f;" \
           " in memory runs/s new/old %.2f; two processes / one (new) %.2f\n", r, a, b, c, d, e
         if (r == 1 || a < a1) a1 = a; if (r == 1 || a > a2) a2 = a
         if (r == 1 || b < b1) b1 = b; if (r == 1 || b > b2) b2 = b
         if (r == 1 || d < d1) d1 = d; if (r == 1 || d > d2) d2 = d
         if (r == 1 || e < e1) e1 = e; if (r == 1 || e > e2) e2 = e
       }
       if (a2 > 0) {
         range("PostgreSQL runs/s, new / old (target >= 0.80):", a1, a2)
         range("first event p50, new / old (target <= 1.5):", b1, b2)
       }
       range("in memory runs/s, new / old (target 0.90-1.10):", d1, d2)
       if (sumOld > 0) printf "%-44s %.2f (runs/s), %.2f (server CPU per run)\n", "in memory, all rounds, new / old:",
         sumNew / sumOld, cpuNew / cpuOld
       if (a2 > 0) range("two processes / one process, runs/s:", e1, e2) }' "$OUT"
if grep -q FAILED "$OUT"; then
  echo "some runs failed: the figures above do not count them (see FAILED above)" >&2
  exit 1
fi
fi

if [ "$TRIALS" -gt 0 ]; then
  java -cp "$TOOLS_CP" dev.fluxgraph.server.bench.RecoveryBenchmark "$TRIALS" "$RECOVERY_RUNS" "$GRAPHS" \
      "$WORK/recovery" 2>&1 | grep -v '^SLF4J'
fi
