package dev.fluxgraph.internal.server.api;

import static dev.fluxgraph.internal.server.api.Fields.contains;
import static dev.fluxgraph.internal.server.api.Fields.nonNegative;
import static dev.fluxgraph.internal.server.api.Fields.optionalObject;
import static dev.fluxgraph.internal.server.api.Fields.optionalText;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.internal.server.Assistants;
import dev.fluxgraph.internal.server.ServedGraphs;
import dev.fluxgraph.server.ApiResponse;
import dev.fluxgraph.types.FluxgraphJson;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import reactor.core.publisher.Mono;

/**
 * {@code /assistants}: one assistant per served graph, read-only ({@code uuid5} of the graph id, see
 * {@link Assistants}): get, search, count.
 */
final class AssistantRoutes {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();

  private final Http http;
  private final ServedGraphs graphs;
  private final Instant started;

  AssistantRoutes(Http http, ServedGraphs graphs, Instant started) {
    this.http = http;
    this.graphs = graphs;
    this.started = started;
  }

  void register(Routes routes) {
    routes
        .post("/assistants/search", this::search)
        .get("/assistants/{id}", http.handle((request, body) -> Mono.just(assistant(graphs.byAssistant(
            request.param("id"))))))
        .post("/assistants/count", http.handle((request, body) -> Mono.fromCallable(() ->
            JSON.getNodeFactory().numberNode(assistants(body).size()))));
  }

  private ObjectNode assistant(Entrypoint<?, ?> graph) {
    String graphId = graphs.idOf(graph);
    ObjectNode node = JSON.createObjectNode();
    node.put("assistant_id", Assistants.idOf(graphId));
    node.put("graph_id", graphId);
    node.putObject("config");
    node.putObject("context");
    node.putObject("metadata").put("created_by", "system");
    node.put("name", graphId);
    node.putNull("description");
    node.put("version", 1);
    node.put("created_at", started.toString());
    node.put("updated_at", started.toString());
    return node;
  }

  /** The assistants matching the body's {@code graph_id}, {@code name} (a substring) and {@code metadata}. */
  private List<ObjectNode> assistants(JsonNode body) {
    String graphId = optionalText(body, "graph_id");
    String name = optionalText(body, "name");
    JsonNode metadata = optionalObject(body, "metadata");
    return graphs.ids().stream().sorted()
        .filter(id -> graphId == null || graphId.equals(id))
        .filter(id -> name == null || id.toLowerCase(Locale.ROOT).contains(name.toLowerCase(Locale.ROOT)))
        .map(id -> assistant(Objects.requireNonNull(graphs.get(id))))
        .filter(assistant -> metadata == null || contains(assistant.get("metadata"), metadata))
        .toList();
  }

  private Mono<Void> search(Request request, ApiResponse response) {
    return http.guarded(request, response, body -> {
      List<ObjectNode> all = assistants(body);
      int limit = nonNegative(body, "limit", 10);
      int offset = nonNegative(body, "offset", 0);
      ArrayNode page = JSON.createArrayNode();
      all.stream().skip(offset).limit(limit).forEach(page::add);
      response.header("X-Pagination-Total", String.valueOf(all.size()));
      if (offset + limit < all.size()) {
        response.header("X-Pagination-Next", String.valueOf(offset + limit));
      }
      return Http.json(response, 200, page);
    });
  }
}
