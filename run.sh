#!/usr/bin/env bash
# The main job: builds the project and starts the Fluxgraph server with the sample workflows on
# http://127.0.0.1:2024, storing threads in an embedded PostgreSQL under .fluxgraph/postgres.
# Options go to the server (./run.sh --help): --port, --host, --database-url, --data-dir, --in-memory, --api-key,
# --cors-allow-origin.
set -euo pipefail
cd "$(dirname "$0")"
mvn -B -q install -DskipTests -DskipITs
exec mvn -B -q -pl samples exec:java -Dexec.mainClass=dev.fluxgraph.server.FluxgraphServer -Dexec.args="$*"
