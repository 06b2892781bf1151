package dev.fluxgraph.internal.server.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.server.ApiResponse;
import dev.fluxgraph.types.FluxgraphJson;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Properties;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * {@code GET /ok}, {@code GET /info} and {@code GET /openapi.json}: health, capabilities and the API's description,
 * answered without the API key, as the reference servers do. Every answer reads the request to its end first: an unread request stalls the connection's next one.
 */
final class MetaRoutes {

  private static final Logger LOG = LoggerFactory.getLogger(MetaRoutes.class);

  /**
   * {@code GET /info}: the server's version and which optional features it serves, as the reference servers answer
   * (agent-chat-ui and Studio ask first): assistants yes (each graph's own, and created ones with versions), per-run
   * config and breakpoints, the OpenAPI document, crons; LangSmith tracing no.
   */
  private static final ObjectNode INFO = info();

  private MetaRoutes() {
  }

  static void register(Routes routes) {
    routes
        .get("/ok", Routes.Doc.of("System", "Health Check"),
            (request, response) -> request.discard().then(Http.json(response, 200, Map.of("ok", true))))
        .get("/info", Routes.Doc.of("System", "Server Information"),
            (request, response) -> request.discard().then(Http.json(response, 200, INFO)))
        // generated on first use, from every route declared by then (the routes are complete before serving)
        .get("/openapi.json", Routes.Doc.of("System", "OpenAPI Document"), new Routes.Handler() {
          private volatile @Nullable ObjectNode document;

          @Override
          public Mono<Void> handle(Request request, ApiResponse response) {
            ObjectNode answer = document;
            if (answer == null) {
              answer = OpenApi.document(routes.operations(), INFO.path("version").asText());
              document = answer;
            }
            return request.discard().then(Http.json(response, 200, answer));
          }
        });
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
        .put("assistants_crud", true) // create, patch (versions), delete, search, count
        .put("assistants_versions", true)
        .put("per_run_config", true) // config.configurable, recursion_limit, tags, run_name; context
        .put("per_run_interrupts", true) // interrupt_before/after on graph runs
        .put("openapi", true)
        .put("crons", true)
        .put("langsmith", false)
        .put("langsmith_tracing_replicas", false);
    return node;
  }
}
