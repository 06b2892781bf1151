package dev.fluxgraph.internal.server.api;

import static dev.fluxgraph.internal.server.api.Fields.booleanParam;
import static dev.fluxgraph.internal.server.api.Fields.queryParam;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.internal.server.GraphSchemas;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.internal.server.ServedAssistants;
import dev.fluxgraph.internal.server.ServedGraphs;
import dev.fluxgraph.types.FluxgraphJson;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * What Studio draws and builds its forms from, per assistant (or graph id): {@code GET /assistants/{id}/graph}
 * ({@code xray}: {@code true}, {@code false} or a depth) is the graph's {@code GraphView.toJson()};
 * {@code GET /assistants/{id}/subgraphs[/{namespace}]} ({@code recurse}) the subgraphs' schemas by namespace;
 * {@code GET /assistants/{id}/schemas} the graph's. Unknown query parameters and body fields are refused (422).
 */
final class GraphRoutes {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();

  private static final String TAG = "Assistants";

  private final Http http;
  private final ServedGraphs graphs;
  private final ServedAssistants assistants;

  GraphRoutes(Http http, ServedGraphs graphs, ServedAssistants assistants) {
    this.http = http;
    this.graphs = graphs;
    this.assistants = assistants;
  }

  /** The graph of the assistant {@code id} names (an assistant id or a graph id), with its configurable values. */
  @SuppressWarnings("unchecked")
  private Mono<Entrypoint<?, ?>> graphOf(Request request) {
    return assistants.resolve(request.param("id")).map(assistant -> {
      Object configurable = assistant.config().get("configurable");
      return graphs.byAssistant(assistant.graphId(), configurable instanceof Map<?, ?> values
          ? (Map<String, Object>) values : Map.of());
    });
  }

  void register(Routes routes) {
    routes
        .get("/assistants/{id}/graph", Routes.Doc.of(TAG, "Get Assistant Graph").query("xray",
            Map.of("anyOf", List.of(Schemas.BOOLEAN, Schemas.INTEGER))).answer(Schemas.GRAPH),
            http.handle((request, body) -> Mono.fromRunnable(() ->
            only(request, body, Set.of("xray"))).then(graphOf(request)).map(graph -> {
          try {
            return JSON.valueToTree(graph.getGraph(xray(queryParam(request, "xray"))).toJson());
          } catch (IllegalStateException e) { // two subgraph blocks of one name: the drawing cannot be made
            throw HttpProblem.invalid(e.getMessage());
          }
        })))
        .get("/assistants/{id}/schemas", Routes.Doc.of(TAG, "Get Assistant Schemas").answer(Schemas.GRAPH_SCHEMAS),
            http.handle((request, body) -> Mono.fromRunnable(() ->
            only(request, body, Set.of())).then(graphOf(request)).map(graph -> GraphSchemas.of(graphs.idOf(graph),
            graph))))
        .get("/assistants/{id}/subgraphs", Routes.Doc.of(TAG, "Get Assistant Subgraphs").query("recurse",
            Schemas.BOOLEAN).answer(Schemas.SUBGRAPHS), http.handle((request, body) -> subgraphs(request, body, null)))
        .get("/assistants/{id}/subgraphs/{namespace}", Routes.Doc.of(TAG, "Get Assistant Subgraphs by Namespace")
            .query("recurse", Schemas.BOOLEAN).answer(Schemas.SUBGRAPHS),
            http.handle((request, body) -> subgraphs(request, body,
            URLDecoder.decode(request.param("namespace"), StandardCharsets.UTF_8))));
  }

  private Mono<JsonNode> subgraphs(Request request, JsonNode body, @Nullable String namespace) {
    return Mono.fromRunnable(() -> only(request, body, Set.of("recurse"))).then(graphOf(request)).map(graph -> {
      ObjectNode answer = JSON.createObjectNode();
      GraphSchemas.subgraphs(graph, namespace, booleanParam(request, "recurse"))
          .forEach((ns, spec) -> answer.set(ns, withJsKeys(GraphSchemas.of(spec))));
      return answer;
    });
  }

  /**
   * A subgraph's schemas under the OpenAPI document's keys ({@code input_schema}, ...) and, added, under the keys the
   * reference JS server answers ({@code input}, {@code output}, {@code state}), which its clients read: the same
   * schemas twice, so that either kind of client finds them.
   */
  private static ObjectNode withJsKeys(ObjectNode schemas) {
    for (String key : List.of("input", "output", "state")) {
      JsonNode schema = schemas.get(key + "_schema");
      if (schema != null) {
        schemas.set(key, schema);
      }
    }
    return schemas;
  }

  /** {@code xray}: absent or {@code false} 0, {@code true} every level, a non-negative integer that many levels. */
  private static int xray(@Nullable String value) {
    if (value == null || value.equals("false")) {
      return 0;
    }
    if (value.equals("true")) {
      return Integer.MAX_VALUE;
    }
    try {
      int depth = Integer.parseInt(value);
      if (depth >= 0) {
        return depth;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw HttpProblem.invalid("xray must be true, false or a non-negative integer, was '" + value + "'");
  }

  /** Refuses query parameters other than {@code allowed}, and any body field (these are GET requests). */
  private static void only(Request request, JsonNode body, Set<String> allowed) {
    for (String name : new QueryStringDecoder(request.uri()).parameters().keySet()) {
      if (!allowed.contains(name)) {
        throw HttpProblem.invalid("unknown query parameter '" + name + "'"
            + (allowed.isEmpty() ? "" : "; expected " + String.join(" or ", allowed)));
      }
    }
    body.fieldNames().forEachRemaining(field -> {
      throw HttpProblem.invalid("unknown field '" + field + "': this request takes no body");
    });
  }
}
