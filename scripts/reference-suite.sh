#!/usr/bin/env bash
# Measures how much of the reference server's own API test suite (langgraphjs, libs/langgraph-api/tests/api.test.mts)
# passes against a Fluxgraph server serving our Java ports of its test graphs (server/src/test/java/.../refgraphs).
#
# A measuring tool, not part of CI: it needs the network (the suite from GitHub at a pinned commit, vitest and the
# SDK from npm), and the suite is not ours; nothing of it is kept in this repository. The reference's files go to a
# temporary directory and are deleted afterwards.
#
#   scripts/reference-suite.sh [--storage memory|postgres|both] [--keep] [-- <vitest arguments>]
#
# Environment: LANGGRAPHJS_DIR  a local git clone of langchain-ai/langgraphjs to read the suite from instead of
#                               cloning (the pinned commit is checked out from it with git archive);
#              REFSUITE_PORT    the port for the server (default: a free one).
# Prints one line per test (vitest's verbose reporter) and, per storage, "<storage>: N passed, N failed".
set -euo pipefail

COMMIT=f8bdf16d4fe23a79e945ea5dc6f86bbf09abb77d
REPO_URL=https://github.com/langchain-ai/langgraphjs.git
# the client libraries the suite imports, at the versions of that commit's workspace
NPM_PACKAGES=(vitest@4 @langchain/langgraph-sdk@1.9.31 @langchain/langgraph@1.4.12 @langchain/core@1 postgres@3
  wait-port@1 zod@4)

storage=both
keep=false
vitest_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --storage) storage="$2"; shift 2 ;;
    --keep) keep=true; shift ;;
    --) shift; vitest_args=("$@"); break ;;
    *) echo "reference-suite: unknown argument $1 (--storage memory|postgres|both, --keep, -- <vitest args>)" >&2
       exit 2 ;;
  esac
done
case "$storage" in memory|postgres|both) ;; *) echo "reference-suite: --storage is memory, postgres or both" >&2
  exit 2 ;; esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/fluxgraph-refsuite.XXXXXX")"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [[ "$keep" == false ]]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

echo "== the suite at $COMMIT"
if [[ -n "${LANGGRAPHJS_DIR:-}" ]]; then
  git -C "$LANGGRAPHJS_DIR" archive "$COMMIT" libs/langgraph-api/tests | tar -x -C "$work"
else
  git clone --quiet --filter=blob:none --no-checkout "$REPO_URL" "$work/langgraphjs"
  git -C "$work/langgraphjs" archive "$COMMIT" libs/langgraph-api/tests | tar -x -C "$work"
fi
suite="$work/suite"
mkdir -p "$suite"
cp -r "$work/libs/langgraph-api/tests/." "$suite/"
# the suite talks to http://localhost:2024; ours listens elsewhere (2024 may be taken), on IPv4 loopback
(cd "$suite" && printf '{"name":"refsuite","private":true,"type":"module"}\n' > package.json \
  && npm install --silent --no-audit --no-fund "${NPM_PACKAGES[@]}" >/dev/null)

echo "== building the server and the graph ports"
(cd "$root" && mvn -B -q -pl server -am test-compile \
  && mvn -B -q -pl server -am dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$work/cp.txt")
# the reactor's own modules from this work tree, not from ~/.m2
deps="$(tr ':' '\n' < "$work/cp.txt" | grep -v '/dev/fluxgraph/' | paste -sd: -)"
mkdir -p "$work/graphs/META-INF/services"
echo dev.fluxgraph.server.refgraphs.ReferenceGraphs > "$work/graphs/META-INF/services/dev.fluxgraph.server.GraphProvider"
classpath="$root/server/target/test-classes:$root/server/target/classes:$root/runtime-reactive/target/classes"
classpath="$classpath:$root/checkpoint-r2dbc/target/classes:$work/graphs:$deps"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

measure() {
  local name="$1"; shift
  local port="${REFSUITE_PORT:-$(free_port)}"
  local log="$work/server-$name.log"
  echo "== $name: server on 127.0.0.1:$port"
  (cd "$work" && exec java -cp "$classpath" dev.fluxgraph.server.FluxgraphServer --port "$port" --enable-truncate \
    --graph-config "$(graph_config)" "$@") > "$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do
    grep -q "listening on" "$log" && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$log"; echo "reference-suite: the server ended" >&2; exit 1; }
    sleep 0.5
  done
  sed -i "s#http://localhost:2024#http://127.0.0.1:$port#g" "$suite/api.test.mts"
  local report="$work/report-$name.json"
  (cd "$suite" && npx vitest run api.test.mts --reporter=verbose --reporter=json --outputFile="$report" \
    ${vitest_args[@]+"${vitest_args[@]}"}) || true
  sed -i "s#http://127.0.0.1:$port#http://localhost:2024#g" "$suite/api.test.mts"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  node -e '
    const r = require(process.argv[1]);
    console.log(`${process.argv[2]}: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
  ' "$report" "$name" | tee -a "$work/summary.txt"
}

# the suite's langgraph.json gives these defaults to two graphs' own assistants (its env's LANGGRAPH_CONFIG)
graph_config() {
  printf '%s' '{"agent": {"configurable": {"model_name": "openai"}}, "simple_runtime": {"context": {"model": "unknown"}}}'
}

if [[ "$storage" == memory || "$storage" == both ]]; then measure memory --in-memory; fi
if [[ "$storage" == postgres || "$storage" == both ]]; then measure postgres --data-dir "$work/postgres"; fi
echo "== summary"; cat "$work/summary.txt"
