package dev.fluxgraph.internal.server.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.types.FluxgraphJson;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /ok} and {@code GET /info}: health and capabilities, answered without the API key, as the reference
 * servers do. Every answer reads the request to its end first: an unread request stalls the connection's next one.
 */
final class MetaRoutes {

  private static final Logger LOG = LoggerFactory.getLogger(MetaRoutes.class);

  /**
   * {@code GET /info}: the server's version and which optional features it serves, as the reference servers answer
   * (agent-chat-ui and Studio ask first): assistants and crons yes, LangSmith tracing no.
   */
  private static final ObjectNode INFO = info();

  private MetaRoutes() {
  }

  static void register(Routes routes) {
    routes
        .get("/ok", (request, response) -> request.discard().then(Http.json(response, 200, Map.of("ok", true))))
        .get("/info", (request, response) -> request.discard().then(Http.json(response, 200, INFO)));
  }

  private static ObjectNode info() {
    ObjectNode node = FluxgraphJson.mapper().createObjectNode();
    Properties properties = new Properties();
    // the version comes from the build (resource filtering), next to the public API's classes
    try (InputStream in = MetaRoutes.class.getResourceAsStream("/dev/fluxgraph/server/server.properties")) {
      if (in != null) {
        properties.load(in);
      }
    } catch (IOException e) {
      LOG.warn("could not read the server's version: {}", e.toString());
    }
    node.put("version", properties.getProperty("version", "unknown"));
    node.putObject("flags")
        .put("assistants", true)
        .put("crons", true)
        .put("langsmith", false)
        .put("langsmith_tracing_replicas", false);
    return node;
  }
}
