package dev.fluxgraph.internal.server.api;

import static dev.fluxgraph.internal.server.api.Fields.MAP;
import static dev.fluxgraph.internal.server.api.Fields.oneOf;
import static dev.fluxgraph.internal.server.api.Fields.optionalMap;
import static dev.fluxgraph.internal.server.api.Fields.optionalObject;
import static dev.fluxgraph.internal.server.api.Fields.optionalText;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.internal.server.ServedAssistants;
import dev.fluxgraph.internal.server.runs.RunLifecycle;
import dev.fluxgraph.internal.server.storage.AssistantStore;
import dev.fluxgraph.internal.server.storage.AssistantStore.AssistantRecord;
import dev.fluxgraph.internal.server.storage.ThreadStore;
import dev.fluxgraph.server.ApiResponse;
import dev.fluxgraph.types.FluxgraphJson;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@code /assistants}: create, get, patch (a new version), delete, search, count, list versions, set the latest
 * version. Every graph has its own assistant ({@code created_by: system}, {@code uuid5} of the graph id), which
 * cannot be deleted; wherever an assistant id is taken, a graph id names the graph's own assistant. Request fields
 * are checked against the schemas below, which {@code GET /openapi.json} also shows: an unknown field is a 422.
 * The drawing and schema routes ({@code /assistants/{id}/graph|subgraphs|schemas}) are elsewhere.
 */
final class AssistantRoutes {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();
  private static final String TAG = "Assistants";

  private static final Map<String, Object> OBJECT = Map.of("type", "object");
  private static final Map<String, Object> TEXT = Map.of("type", "string");
  private static final Map<String, Object> CONFIG = Map.of("type", "object", "properties", Map.of(
      "configurable", OBJECT, "recursion_limit", Map.of("type", "integer", "minimum", 1),
      "tags", Map.of("type", "array", "items", TEXT), "run_name", TEXT, "metadata", OBJECT),
      "additionalProperties", false);
  private static final Map<String, Object> PAGE_LIMIT = Map.of("type", "integer", "minimum", 1, "maximum", 1000,
      "default", 10);
  private static final Map<String, Object> OFFSET = Map.of("type", "integer", "minimum", 0, "default", 0);

  static final Map<String, Object> ASSISTANT = schema(Map.of("assistant_id", TEXT, "graph_id", TEXT,
      "config", CONFIG, "context", OBJECT, "metadata", OBJECT, "name", TEXT,
      "description", Map.of("type", List.of("string", "null")), "version", Map.of("type", "integer"),
      "created_at", Map.of("type", "string", "format", "date-time"),
      "updated_at", Map.of("type", "string", "format", "date-time")), List.of());
  static final Map<String, Object> CREATE = schema(Map.of("assistant_id", Map.of("type", "string", "format", "uuid"),
      "graph_id", TEXT, "config", CONFIG, "context", OBJECT, "metadata", OBJECT,
      "if_exists", Map.of("type", "string", "enum", List.of("raise", "do_nothing"), "default", "raise"),
      "name", TEXT, "description", Map.of("type", List.of("string", "null"))), List.of("graph_id"));
  static final Map<String, Object> PATCH = schema(Map.of("graph_id", TEXT, "config", CONFIG, "context", OBJECT,
      "metadata", OBJECT, "name", TEXT, "description", TEXT), List.of());
  static final Map<String, Object> COUNT = schema(Map.of("graph_id", TEXT, "name", TEXT, "metadata", OBJECT),
      List.of());
  static final Map<String, Object> SEARCH = schema(Map.of("graph_id", TEXT, "name", TEXT, "metadata", OBJECT,
      "limit", PAGE_LIMIT, "offset", OFFSET,
      "sort_by", Map.of("type", "string", "enum", AssistantStore.SORT_FIELDS, "default", "created_at"),
      "sort_order", Map.of("type", "string", "enum", List.of("asc", "desc"), "default", "desc"),
      "select", Map.of("type", "array", "items", Map.of("type", "string", "enum", fieldsOf(ASSISTANT)))), List.of());
  static final Map<String, Object> VERSIONS = schema(Map.of("metadata", OBJECT, "limit", PAGE_LIMIT,
      "offset", OFFSET), List.of());
  static final Map<String, Object> LATEST = schema(Map.of("version", Map.of("type", "integer", "minimum", 1)),
      List.of("version"));

  private final Http http;
  private final ServedAssistants assistants;
  private final AssistantStore store;
  private final ThreadStore threads;
  private final RunLifecycle runs;
  private final Clock clock;

  AssistantRoutes(Http http, ServedAssistants assistants, ThreadStore threads, RunLifecycle runs, Clock clock) {
    this.http = http;
    this.assistants = assistants;
    this.store = assistants.store();
    this.threads = threads;
    this.runs = runs;
    this.clock = clock;
  }

  void register(Routes routes) {
    routes
        .post("/assistants", Routes.Doc.of(TAG, "Create Assistant").body(CREATE).answer(ASSISTANT),
            http.handle((request, body) -> create(body)))
        .post("/assistants/search", Routes.Doc.of(TAG, "Search Assistants").body(SEARCH)
            .answer(Map.of("type", "array", "items", ASSISTANT)), this::search)
        .post("/assistants/count", Routes.Doc.of(TAG, "Count Assistants").body(COUNT)
            .answer(Map.of("type", "integer")), http.handle((request, body) -> count(body)))
        .get("/assistants/{assistant_id}", Routes.Doc.of(TAG, "Get Assistant").answer(ASSISTANT),
            http.handle((request, body) -> assistants.resolve(request.param("assistant_id"))
                .map(AssistantRoutes::assistant)))
        .patch("/assistants/{assistant_id}", Routes.Doc.of(TAG, "Patch Assistant").body(PATCH).answer(ASSISTANT),
            http.handle((request, body) -> patch(request.param("assistant_id"), body)))
        .delete("/assistants/{assistant_id}", Routes.Doc.of(TAG, "Delete Assistant")
                .query("delete_threads", Map.of("type", "boolean", "default", false))
                .answer(Map.of("type", "array", "items", TEXT)),
            http.handle((request, body) -> delete(request)))
        .post("/assistants/{assistant_id}/versions", Routes.Doc.of(TAG, "Get Assistant Versions").body(VERSIONS)
            .answer(Map.of("type", "array", "items", ASSISTANT)),
            http.handle((request, body) -> versions(request.param("assistant_id"), body)))
        .post("/assistants/{assistant_id}/latest", Routes.Doc.of(TAG, "Set Latest Assistant Version").body(LATEST)
            .answer(ASSISTANT), http.handle((request, body) -> setLatest(request.param("assistant_id"), body)));
  }

  /** The wire Assistant. */
  static ObjectNode assistant(AssistantRecord assistant) {
    ObjectNode node = version(assistant);
    node.put("updated_at", assistant.updatedAt().toString());
    return node;
  }

  /** The wire AssistantVersion: an Assistant without {@code updated_at}. */
  private static ObjectNode version(AssistantRecord assistant) {
    ObjectNode node = JSON.createObjectNode();
    node.put("assistant_id", assistant.assistantId());
    node.put("graph_id", assistant.graphId());
    node.set("config", JSON.valueToTree(assistant.config()));
    node.set("context", JSON.valueToTree(assistant.context()));
    node.set("metadata", JSON.valueToTree(assistant.metadata()));
    node.put("name", assistant.name());
    node.put("description", assistant.description());
    node.put("version", assistant.version());
    node.put("created_at", assistant.createdAt().toString());
    return node;
  }

  private Mono<JsonNode> create(JsonNode body) {
    return Mono.defer(() -> {
      only(body, CREATE);
      String graphId = optionalText(body, "graph_id");
      if (graphId == null) {
        throw HttpProblem.invalid("graph_id is required");
      }
      if (!assistants.graphs().ids().contains(graphId)) {
        throw HttpProblem.notFound("graph " + graphId);
      }
      String given = optionalText(body, "assistant_id");
      String assistantId = given == null ? UUID.randomUUID().toString() : uuid(given, "assistant_id");
      boolean returnExisting = oneOf(body, "if_exists", "raise", "raise", "do_nothing").equals("do_nothing");
      String name = optionalText(body, "name");
      Instant now = clock.instant();
      AssistantRecord created = new AssistantRecord(assistantId, graphId, config(body), context(body),
          optionalMap(body, "metadata"), name == null ? "Untitled" : name, description(body), 1, now, now);
      return assistants.ready().then(store.create(created, returnExisting)).map(AssistantRoutes::assistant);
    });
  }

  private Mono<JsonNode> patch(String named, JsonNode body) {
    return Mono.defer(() -> {
      only(body, PATCH);
      String graphId = optionalText(body, "graph_id");
      if (graphId != null && !assistants.graphs().ids().contains(graphId)) {
        throw HttpProblem.notFound("graph " + graphId);
      }
      JsonNode metadata = optionalObject(body, "metadata");
      AssistantStore.Patch patch = new AssistantStore.Patch(graphId,
          optionalObject(body, "config") == null ? null : config(body),
          optionalObject(body, "context") == null ? null : context(body),
          metadata == null ? null : JSON.convertValue(metadata, MAP), optionalText(body, "name"), description(body));
      return assistants.resolve(named).flatMap(found -> store.patch(found.assistantId(), patch, clock.instant()))
          .switchIfEmpty(Mono.error(() -> AssistantStore.notFound(named))) // deleted meanwhile
          .map(AssistantRoutes::assistant);
    });
  }

  /**
   * Deletes a created assistant and its versions (a graph's own assistant is refused: it comes back with the
   * graph); with {@code delete_threads=true} also the threads whose metadata names it, with their runs and
   * checkpoints, as the reference does. Answers the deleted assistant's id in a list.
   */
  private Mono<JsonNode> delete(Request request) {
    boolean deleteThreads = Fields.booleanParam(request, "delete_threads");
    String named = request.param("assistant_id");
    return assistants.resolve(named).flatMap(found -> {
      if (found.system()) {
        return Mono.error(new HttpProblem(409, "assistant " + found.assistantId() + " is graph " + found.graphId()
            + "'s own (created_by: system) and cannot be deleted"));
      }
      Mono<Void> threadsGone = deleteThreads ? threadsOf(found.assistantId())
          .concatMap(thread -> runs.deleteThread(thread.threadId())).then() : Mono.empty();
      return threadsGone.then(store.delete(found.assistantId())).flatMap(existed -> existed
          ? Mono.<JsonNode>just(JSON.createArrayNode().add(found.assistantId()))
          : Mono.error(AssistantStore.notFound(named)));
    });
  }

  /** The threads whose metadata names the assistant, a page at a time (the pages shrink as they are deleted). */
  private Flux<ThreadStore.ThreadRecord> threadsOf(String assistantId) {
    ThreadStore.Order order = new ThreadStore.Order(ThreadStore.Order.Field.THREAD_ID, true);
    return threads.search(Map.of("assistant_id", assistantId), null, List.of(), 1000, 0, order).collectList()
        .flatMapMany(page -> page.isEmpty() ? Flux.empty() : Flux.fromIterable(page)
            .concatWith(Flux.defer(() -> page.size() < 1000 ? Flux.empty() : threadsOf(assistantId))));
  }

  private Mono<JsonNode> versions(String named, JsonNode body) {
    return Mono.defer(() -> {
      only(body, VERSIONS);
      int limit = limit(body);
      int offset = Fields.nonNegative(body, "offset", 0);
      Map<String, Object> metadata = optionalMap(body, "metadata");
      return assistants.resolve(named).flatMapMany(found -> store.versions(found.assistantId(), metadata, limit,
              offset))
          .map(AssistantRoutes::version).collectList().map(list -> {
            ArrayNode array = JSON.createArrayNode();
            list.forEach(array::add);
            return array;
          });
    });
  }

  private Mono<JsonNode> setLatest(String named, JsonNode body) {
    return Mono.defer(() -> {
      only(body, LATEST);
      JsonNode version = body.path("version");
      if (!version.isIntegralNumber() || !version.canConvertToInt() || version.asInt() < 1) {
        throw HttpProblem.invalid("version is required: an integer of at least 1, was " + version);
      }
      return assistants.resolve(named)
          .flatMap(found -> store.setLatest(found.assistantId(), version.asInt(), clock.instant()))
          .switchIfEmpty(Mono.error(() -> AssistantStore.notFound(named)))
          .map(AssistantRoutes::assistant);
    });
  }

  private Mono<JsonNode> count(JsonNode body) {
    return Mono.defer(() -> {
      only(body, COUNT);
      AssistantStore.Filter filter = filter(body);
      return assistants.ready().then(store.count(filter)).map(count -> JSON.getNodeFactory().numberNode(count));
    });
  }

  /**
   * {@code POST /assistants/search}: a page of the matching assistants, sorted ({@code sort_by}, default
   * {@code created_at}; {@code sort_order}, default {@code desc}), each with the {@code select}ed fields only;
   * {@code X-Pagination-Total} the number matching, {@code X-Pagination-Next} the next page's offset.
   */
  private Mono<Void> search(Request request, ApiResponse response) {
    return http.guarded(request, response, body -> {
      only(body, SEARCH);
      AssistantStore.Filter filter = filter(body);
      int limit = limit(body);
      int offset = Fields.nonNegative(body, "offset", 0);
      String sortBy = oneOf(body, "sort_by", "created_at", AssistantStore.SORT_FIELDS.toArray(String[]::new));
      boolean ascending = oneOf(body, "sort_order", "desc", "asc", "desc").equals("asc");
      List<String> select = select(body);
      return assistants.ready()
          .then(Mono.zip(store.search(filter, sortBy, ascending, limit, offset).collectList(), store.count(filter)))
          .flatMap(found -> {
            ArrayNode page = JSON.createArrayNode();
            for (AssistantRecord assistant : found.getT1()) {
              ObjectNode node = assistant(assistant);
              if (select != null) {
                node.retain(select);
              }
              page.add(node);
            }
            long total = found.getT2();
            response.header("X-Pagination-Total", String.valueOf(total));
            if (offset + limit < total) {
              response.header("X-Pagination-Next", String.valueOf(offset + limit));
            }
            return Http.json(response, 200, page);
          });
    });
  }

  private static AssistantStore.Filter filter(JsonNode body) {
    return new AssistantStore.Filter(optionalText(body, "graph_id"), optionalText(body, "name"),
        optionalMap(body, "metadata"));
  }

  private static @Nullable List<String> select(JsonNode body) {
    JsonNode select = body.path("select");
    if (select.isMissingNode() || select.isNull()) {
      return null;
    }
    List<String> allowed = fieldsOf(ASSISTANT);
    if (!select.isArray() || select.isEmpty()) {
      throw HttpProblem.invalid("select must be a non-empty list of fields among " + allowed);
    }
    List<String> fields = new ArrayList<>();
    for (JsonNode field : select) {
      if (!field.isTextual() || !allowed.contains(field.asText())) {
        throw HttpProblem.invalid("select names an unknown field " + field + "; the fields: " + allowed);
      }
      fields.add(field.asText());
    }
    return fields;
  }

  private static int limit(JsonNode body) {
    int limit = Fields.nonNegative(body, "limit", 10);
    if (limit < 1 || limit > 1000) {
      throw HttpProblem.invalid("limit must be between 1 and 1000, was " + limit);
    }
    return limit;
  }

  /** An assistant's {@code config}, checked as a run's is (the fields a run honours, of the right types). */
  private static Map<String, Object> config(JsonNode body) {
    JsonNode config = optionalObject(body, "config");
    RunRequests.settings(config, "config");
    return config == null ? Map.of() : JSON.convertValue(config, MAP);
  }

  private static Map<String, Object> context(JsonNode body) {
    return optionalMap(body, "context");
  }

  private static @Nullable String description(JsonNode body) {
    return optionalText(body, "description");
  }

  private static String uuid(String value, String field) {
    try {
      return UUID.fromString(value).toString();
    } catch (IllegalArgumentException e) {
      throw HttpProblem.invalid(field + " must be a UUID, was '" + value + "'");
    }
  }

  /** Refuses a body field its schema does not name. */
  private static void only(JsonNode body, Map<String, Object> schema) {
    List<String> known = fieldsOf(schema);
    for (String field : (Iterable<String>) body::fieldNames) {
      if (!known.contains(field)) {
        throw HttpProblem.invalid("unknown field " + field + "; the fields: " + known);
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static List<String> fieldsOf(Map<String, Object> schema) {
    return List.copyOf(((Map<String, Object>) schema.get("properties")).keySet());
  }

  /** An object schema with these properties (in name order) and required fields. */
  private static Map<String, Object> schema(Map<String, Object> properties, List<String> required) {
    Map<String, Object> schema = new LinkedHashMap<>();
    schema.put("type", "object");
    schema.put("properties", new TreeMap<>(properties));
    if (!required.isEmpty()) {
      schema.put("required", required);
    }
    return Collections.unmodifiableMap(schema);
  }
}
