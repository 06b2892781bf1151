package dev.fluxgraph.server;

import dev.fluxgraph.checkpoint.InMemorySaver;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The official {@code @langchain/langgraph-sdk} (installed by {@code ./test.sh} with npm into
 * {@code src/test/js}) driving a server started here, through {@code src/test/js/e2e.mjs}.
 */
class JsClientIT {

  @Test
  void theOfficialClientDrivesTheServer() throws Exception {
    FluxgraphServer server = JsClientE2e.graphs(FluxgraphServer.builder().discoverGraphs(false).port(0),
        new InMemorySaver()).build().start().block(Duration.ofSeconds(10));
    try {
      JsClientE2e.run("http://127.0.0.1:" + server.port(), null);
    } finally {
      server.stop().block(Duration.ofSeconds(10));
    }
  }

}
