#!/usr/bin/env bash
# The main job: builds the project and starts the Fluxgraph server with the sample workflows on
# http://127.0.0.1:2024, storing threads in an embedded PostgreSQL under .fluxgraph/postgres.
# Options go to the server (./run.sh --help): --port, --host, --database-url, --data-dir, --in-memory, --api-key,
# --log-level, --cors-allow-origin. Options of the JVM go in JAVA_OPTS, e.g.
# JAVA_OPTS=-Dlogback.configurationFile=my-logback.xml.
set -euo pipefail
cd "$(dirname "$0")"
# the server and the samples, built here without running tests (./test.sh does) and without installing anything
# (jansi.noreset: Maven 3.8 would leave colour-reset codes in front of the server's own output)
MAVEN_OPTS="${MAVEN_OPTS:-} -Djansi.noreset=true" \
  mvn -B -q -pl samples -am package -DskipTests dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
# shellcheck disable=SC2086 # JAVA_OPTS holds several words
exec java ${JAVA_OPTS:-} -cp "samples/target/classes:$(cat samples/target/classpath.txt)" \
  dev.fluxgraph.server.FluxgraphServer "$@"
