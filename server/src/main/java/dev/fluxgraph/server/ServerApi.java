package dev.fluxgraph.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.FluxgraphJson;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.StreamOptions;
import dev.fluxgraph.types.TaskState;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiFunction;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.channel.AbortedException;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;

/**
 * The HTTP endpoints of the LangGraph Server API (../shared/SERVER.md): assistants, threads, thread state and
 * history, and runs (streamed, waited, background, joined, cancelled, listed). Every handler answers JSON; refused
 * requests get {@code {"detail": ...}} with a 4xx status and never a stack trace.
 */
final class ServerApi {

  private static final Logger LOG = LoggerFactory.getLogger(ServerApi.class);
  private static final ObjectMapper JSON = FluxgraphJson.mapper();
  private static final int MAX_BODY_BYTES = 1 << 20;
  private static final Duration HEARTBEAT = Duration.ofSeconds(5);

  private final Map<String, Entrypoint<?, ?>> graphs;
  private final ThreadStore threads;
  private final RunRegistry runs;
  private final dev.fluxgraph.checkpoint.CheckpointSaver checkpointer;
  private final @Nullable String apiKey;
  private final Cors cors;
  private final Instant started = Instant.now();

  ServerApi(Map<String, Entrypoint<?, ?>> graphs, ThreadStore threads, RunStore runStore,
            dev.fluxgraph.checkpoint.CheckpointSaver checkpointer, @Nullable String apiKey, Cors cors) {
    this.checkpointer = checkpointer;
    this.graphs = Map.copyOf(graphs);
    this.threads = threads;
    this.runs = new RunRegistry(runStore);
    this.apiKey = apiKey;
    this.cors = cors;
  }

  /** Every request: the CORS policy first (it answers preflights, before authentication), then the routes. */
  BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> handler() {
    HttpServerRoutes routes = HttpServerRoutes.newRoutes();
    routes(routes);
    return (request, response) -> cors.filter(request, response, routes);
  }

  /**
   * {@code GET /info}: the server's version and which optional features it serves, as the reference servers answer
   * (agent-chat-ui and Studio ask first): assistants yes (one per graph), crons and LangSmith tracing no.
   */
  private static final ObjectNode INFO = info();

  private static ObjectNode info() {
    ObjectNode node = JSON.createObjectNode();
    java.util.Properties properties = new java.util.Properties();
    try (java.io.InputStream in = ServerApi.class.getResourceAsStream("server.properties")) {
      if (in != null) {
        properties.load(in);
      }
    } catch (java.io.IOException e) {
      LOG.warn("could not read the server's version: {}", e.toString());
    }
    node.put("version", properties.getProperty("version", "unknown"));
    node.putObject("flags")
        .put("assistants", true)
        .put("crons", false)
        .put("langsmith", false)
        .put("langsmith_tracing_replicas", false);
    return node;
  }

  private void routes(HttpServerRoutes routes) {
    // Routes are tried in order, each a template match: the hot ones first.
    routes
        .post("/threads/{tid}/runs/stream", (request, response) -> stream(request, response, request.param("tid")))
        .post("/threads", handle((request, body) -> Mono.defer(() -> createThread(body))))
        .post("/threads/{tid}/runs/wait", (request, response) -> waitFor(request, response, request.param("tid")))
        // health and capabilities answer without the API key, as the reference servers do
        // (every answer reads the request to its end first: an unread request stalls the connection's next one)
        .get("/ok", (request, response) -> request.receive().then(json(response, 200, Map.of("ok", true))))
        .get("/info", (request, response) -> request.receive().then(json(response, 200, INFO)))
        .post("/assistants/search", this::searchAssistants)
        .get("/assistants/{id}", handle((request, body) -> Mono.just(assistant(graphOf(request.param("id"))))))
        .post("/threads/search", handle((request, body) -> Mono.defer(() -> searchThreads(body))))
        .post("/threads/count", handle((request, body) -> Mono.defer(() -> countThreads(body))))
        .post("/assistants/count", handle((request, body) -> Mono.fromCallable(() ->
            JSON.getNodeFactory().numberNode(assistants(body).size()))))
        // reactor-netty's routes have no patch(): match the method and the path here
        .route(request -> request.method().equals(io.netty.handler.codec.http.HttpMethod.PATCH)
            && threadOfPath(request) != null, handle((request, body) -> Mono.defer(() ->
            patchThread(java.util.Objects.requireNonNull(threadOfPath(request)), body))))
        .get("/threads/{tid}/state", handle((request, body) -> threadState(request.param("tid"),
            booleanParam(request, "subgraphs"))))
        .post("/threads/{tid}/history", handle((request, body) -> history(request.param("tid"), body)))
        .post("/threads/{tid}/copy", handle((request, body) -> copyThread(request.param("tid"))))
        .post("/threads/{tid}/state/checkpoint", handle((request, body) -> stateAt(request.param("tid"),
            body.path("checkpoint").path("checkpoint_id"), namespaceOf(body.path("checkpoint")),
            booleanField(body, "subgraphs"))))
        .get("/threads/{tid}/state/{cid}", handle((request, body) -> stateAt(request.param("tid"),
            JSON.getNodeFactory().textNode(request.param("cid")), "", booleanParam(request, "subgraphs"))))
        .post("/threads/{tid}/state", handle((request, body) -> updateState(request.param("tid"), body)))
        .post("/runs/stream", (request, response) -> stream(request, response, null))
        .post("/runs/wait", (request, response) -> waitFor(request, response, null))
        .post("/threads/{tid}/runs", (request, response) -> guarded(request, response, body ->
            background(request.param("tid"), body).flatMap(run -> json(withRunLocation(response, run), 200,
                run(run)))))
        .get("/threads/{tid}/runs", handle((request, body) -> Mono.defer(() -> {
          String status = queryParam(request, "status");
          if (status != null && !RUN_STATUSES.contains(status)) {
            throw HttpProblem.invalid("status must be one of " + RUN_STATUSES + ", was '" + status + "'");
          }
          int limit = intParam(request, "limit", 10);
          int offset = intParam(request, "offset", 0);
          return threads.require(request.param("tid")).thenMany(runs.list(request.param("tid"), status, limit, offset))
            .map(ServerApi::run).collectList().map(list -> {
              ArrayNode array = JSON.createArrayNode();
              list.forEach(array::add);
              return array;
            });
        })))
        .get("/threads/{tid}/runs/{rid}/stream", this::joinStream)
        .get("/threads/{tid}/runs/{rid}/join", handle((request, body) -> join(request.param("tid"),
            request.param("rid"))))
        .post("/threads/{tid}/runs/{rid}/cancel", handle((request, body) -> cancel(request.param("tid"),
            request.param("rid"), java.util.Objects.requireNonNullElse(queryParam(request, "action"), "interrupt"))))
        .get("/threads/{tid}/runs/{rid}", handle((request, body) ->
            runs.require(request.param("tid"), request.param("rid")).map(ServerApi::run)))
        .delete("/threads/{tid}/runs/{rid}", (request, response) -> guarded(request, response, body ->
            deleteRun(request.param("tid"), request.param("rid")).flatMap(existed -> existed
                ? response.status(204).send().then() : Mono.error(HttpProblem.notFound("run " + request.param("rid"))))))
        .get("/threads/{tid}", handle((request, body) -> threads.require(request.param("tid")).flatMap(this::thread)))
        .delete("/threads/{tid}", (request, response) -> guarded(request, response, body ->
            deleteThread(request.param("tid")).flatMap(existed -> existed ? response.status(204).send().then()
                : Mono.error(HttpProblem.notFound("thread " + request.param("tid"))))))
        // anything else: a JSON 404 rather than reactor-netty's empty one
        .route(request -> true, (request, response) -> guarded(request, response, body -> Mono.error(
            HttpProblem.notFound("route " + request.method().name() + " "
                + new io.netty.handler.codec.http.QueryStringDecoder(request.uri()).path()))));
  }

  /** The run statuses of the protocol: Fluxgraph's own, and {@code timeout}, which no Fluxgraph run reaches. */
  private static final List<String> RUN_STATUSES = java.util.stream.Stream.concat(
      java.util.Arrays.stream(RunRegistry.Status.values()).map(RunRegistry.Status::wire),
      java.util.stream.Stream.of("timeout")).toList();
  private static final List<String> THREAD_STATUSES = List.of("idle", "busy", "interrupted", "error");

  // ------------------------------------------------------------------------------------------ plumbing

  /** A JSON handler: checks the key, reads the body (bounded), answers 200 with the result or the problem. */
  private BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> handle(
      BiFunction<HttpServerRequest, JsonNode, Mono<? extends JsonNode>> handler) {
    return (request, response) -> guarded(request, response, body -> handler.apply(request, body)
        .flatMap(result -> json(response, 200, result)));
  }

  private Publisher<Void> guarded(HttpServerRequest request, HttpServerResponse response,
                                  java.util.function.Function<JsonNode, Mono<Void>> handler) {
    return Mono.defer(() -> {
      try {
        authorize(request);
      } catch (HttpProblem refused) {
        return request.receive().then(Mono.error(refused)); // the body is drained: the connection stays usable
      }
      return body(request).flatMap(handler);
    }).onErrorResume(error -> problem(response, error));
  }

  private void authorize(HttpServerRequest request) {
    if (apiKey == null) {
      return;
    }
    String given = request.requestHeaders().get("x-api-key");
    if (given == null || !java.security.MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
        apiKey.getBytes(StandardCharsets.UTF_8))) {
      throw new HttpProblem(401, "missing or wrong x-api-key");
    }
  }

  private static Mono<JsonNode> body(HttpServerRequest request) {
    return request.receive().aggregate().asByteArray()
        .defaultIfEmpty(new byte[0])
        .map(bytes -> {
          if (bytes.length > MAX_BODY_BYTES) {
            throw new HttpProblem(413, "request body larger than " + MAX_BODY_BYTES + " bytes");
          }
          if (bytes.length == 0) {
            return (JsonNode) JSON.createObjectNode();
          }
          try {
            JsonNode node = JSON.readTree(bytes);
            if (!node.isObject()) {
              throw HttpProblem.invalid("the request body must be a JSON object");
            }
            return node;
          } catch (java.io.IOException e) {
            throw HttpProblem.invalid("malformed JSON: " + e.getMessage().lines().findFirst().orElse(""));
          }
        });
  }

  private static Mono<Void> json(HttpServerResponse response, int status, Object value) {
    try {
      byte[] bytes = JSON.writeValueAsBytes(value);
      return response.status(status).header("Content-Type", "application/json")
          .sendByteArray(Mono.just(bytes)).then();
    } catch (java.io.IOException e) {
      return Mono.error(e);
    }
  }

  private static Mono<Void> problem(HttpServerResponse response, Throwable error) {
    int status = error instanceof HttpProblem problem ? problem.status()
        : error instanceof IllegalArgumentException || error instanceof dev.fluxgraph.errors.FluxgraphException
            ? 422 : 500;
    String detail = error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
    if (status == 500) {
      detail = "internal error: " + error.getClass().getSimpleName();
      if (error instanceof AbortedException) { // the client left: nothing went wrong here
        LOG.debug("client left before the answer: {}", error.toString());
      } else {
        LOG.error("internal error answered with 500", error); // the client gets no trace
      }
    }
    if (response.hasSentHeaders()) {
      return Mono.empty();
    }
    return json(response, status, Map.of("detail", detail));
  }

  private Entrypoint<?, ?> graphOf(String assistantOrGraphId) {
    Entrypoint<?, ?> graph = graphs.get(assistantOrGraphId);
    if (graph != null) {
      return graph;
    }
    for (Map.Entry<String, Entrypoint<?, ?>> entry : graphs.entrySet()) {
      if (Assistants.idOf(entry.getKey()).equals(assistantOrGraphId)) {
        return entry.getValue();
      }
    }
    throw HttpProblem.notFound("assistant " + assistantOrGraphId);
  }

  private String graphIdOf(Entrypoint<?, ?> graph) {
    return graphs.entrySet().stream().filter(entry -> entry.getValue() == graph).map(Map.Entry::getKey)
        .findFirst().orElseThrow();
  }

  // ------------------------------------------------------------------------------------------ assistants

  private ObjectNode assistant(Entrypoint<?, ?> graph) {
    String graphId = graphIdOf(graph);
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
    return graphs.keySet().stream().sorted()
        .filter(id -> graphId == null || graphId.equals(id))
        .filter(id -> name == null || id.toLowerCase(java.util.Locale.ROOT)
            .contains(name.toLowerCase(java.util.Locale.ROOT)))
        .map(id -> assistant(graphs.get(id)))
        .filter(assistant -> metadata == null || contains(assistant.get("metadata"), metadata))
        .toList();
  }

  private Publisher<Void> searchAssistants(HttpServerRequest request, HttpServerResponse response) {
    return guarded(request, response, body -> {
      List<ObjectNode> all = assistants(body);
      int limit = nonNegative(body, "limit", 10);
      int offset = nonNegative(body, "offset", 0);
      ArrayNode page = JSON.createArrayNode();
      all.stream().skip(offset).limit(limit).forEach(page::add);
      response.header("X-Pagination-Total", String.valueOf(all.size()));
      if (offset + limit < all.size()) {
        response.header("X-Pagination-Next", String.valueOf(offset + limit));
      }
      return json(response, 200, page);
    });
  }

  // ------------------------------------------------------------------------------------------ threads

  private Mono<JsonNode> createThread(JsonNode body) {
    String given = optionalText(body, "thread_id");
    if (given != null && given.isBlank()) {
      throw HttpProblem.invalid("thread_id must not be blank");
    }
    String threadId = given != null ? given : UUID.randomUUID().toString();
    Map<String, Object> metadata = optionalMap(body, "metadata");
    String ifExists = java.util.Objects.requireNonNullElse(optionalText(body, "if_exists"), "raise");
    if (!ifExists.equals("raise") && !ifExists.equals("do_nothing")) {
      throw HttpProblem.invalid("if_exists must be raise or do_nothing, was '" + ifExists + "'");
    }
    return threads.create(threadId, metadata, ifExists).flatMap(this::thread);
  }

  // ------------------------------------------------------------------------------------------ body fields

  /** The text field, or null when absent or null; 422 when it has another type. */
  private static @Nullable String optionalText(JsonNode body, String field) {
    JsonNode value = body.path(field);
    if (value.isMissingNode() || value.isNull()) {
      return null;
    }
    if (!value.isTextual()) {
      throw HttpProblem.invalid(field + " must be a string");
    }
    return value.asText();
  }

  /** The object field, or null when absent or null; 422 when it has another type. */
  private static @Nullable JsonNode optionalObject(JsonNode body, String field) {
    JsonNode value = body.path(field);
    if (value.isMissingNode() || value.isNull()) {
      return null;
    }
    if (!value.isObject()) {
      throw HttpProblem.invalid(field + " must be an object");
    }
    return value;
  }

  /** The object field as a map, empty when absent or null; 422 when it has another type. */
  private static Map<String, Object> optionalMap(JsonNode body, String field) {
    JsonNode value = optionalObject(body, field);
    return value == null ? Map.of() : JSON.convertValue(value, MAP);
  }

  /** The non-negative integer field, or {@code fallback} when absent or null; 422 otherwise. */
  private static int nonNegative(JsonNode body, String field, int fallback) {
    JsonNode value = body.path(field);
    if (value.isMissingNode() || value.isNull()) {
      return fallback;
    }
    if (!value.canConvertToInt() || !value.isIntegralNumber() || value.asInt() < 0) {
      throw HttpProblem.invalid(field + " must be a non-negative integer, was " + value);
    }
    return value.asInt();
  }

  /** Whether every entry of {@code filter} is in {@code metadata} (JSON equality). */
  private static boolean contains(JsonNode metadata, JsonNode filter) {
    for (Map.Entry<String, JsonNode> entry : filter.properties()) {
      if (!entry.getValue().equals(metadata.get(entry.getKey()))) {
        return false;
      }
    }
    return true;
  }

  private static final com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>> MAP =
      new com.fasterxml.jackson.core.type.TypeReference<>() { };

  private static final java.util.regex.Pattern THREAD_PATH = java.util.regex.Pattern.compile("/threads/([^/]+)/?");

  /** The thread id of a {@code /threads/{id}} path, or null for another path. */
  private static @Nullable String threadOfPath(HttpServerRequest request) {
    java.util.regex.Matcher matcher = THREAD_PATH.matcher(
        new io.netty.handler.codec.http.QueryStringDecoder(request.uri()).path());
    return matcher.matches() ? matcher.group(1) : null;
  }

  /**
   * {@code POST /threads/{id}/copy}: a new thread with the same metadata, status (idle for a busy thread: no run
   * runs on the copy) and checkpoints, pending writes included, so the copy can be resumed or forked on its own.
   */
  private Mono<JsonNode> copyThread(String threadId) {
    return threads.require(threadId).flatMap(thread -> {
      String copyId = UUID.randomUUID().toString();
      dev.fluxgraph.checkpoint.CheckpointSaver saver = thread.graphId() == null ? null
          : graphOf(thread).checkpointer().orElse(null);
      Mono<Void> checkpoints = saver == null ? Mono.empty()
          : saver.list(threadId, "", null, Integer.MAX_VALUE).collectList().flatMap(tuples -> {
            List<dev.fluxgraph.checkpoint.CheckpointTuple> oldestFirst = new ArrayList<>(tuples);
            java.util.Collections.reverse(oldestFirst);
            return Flux.fromIterable(oldestFirst).concatMap(tuple -> {
              dev.fluxgraph.checkpoint.Checkpoint original = tuple.checkpoint();
              dev.fluxgraph.checkpoint.Checkpoint copy = new dev.fluxgraph.checkpoint.Checkpoint(copyId,
                  original.namespace(), original.id(), original.parentId(), original.createdAt(),
                  original.metadata(), original.values());
              return saver.put(copy).then(tuple.writes().isEmpty() ? Mono.empty()
                  : saver.putWrites(copyId, original.namespace(), original.id(), tuple.writes()));
            }).then();
          });
      String status = thread.status().equals("busy") ? "idle" : thread.status();
      return threads.create(copyId, thread.metadata(), "raise")
          .then(checkpoints)
          .then(threads.update(copyId, status, thread.graphId(), Map.of()))
          .flatMap(this::thread);
    });
  }

  /** {@code PATCH /threads/{id}}: merges {@code metadata} into the thread's. */
  private Mono<JsonNode> patchThread(String threadId, JsonNode body) {
    if (body.hasNonNull("ttl")) {
      throw HttpProblem.invalid("ttl is not supported: threads are kept until deleted");
    }
    Map<String, Object> metadata = optionalMap(body, "metadata");
    return threads.patchMetadata(threadId, metadata)
        .switchIfEmpty(Mono.error(() -> HttpProblem.notFound("thread " + threadId)))
        .flatMap(this::thread);
  }

  /** {@code POST /threads/count}: how many threads match {@code metadata} and {@code status}. */
  private Mono<JsonNode> countThreads(JsonNode body) {
    if (body.hasNonNull("values")) {
      throw HttpProblem.invalid("filtering threads by values is not supported; filter by metadata or status");
    }
    Map<String, Object> metadata = optionalMap(body, "metadata");
    String status = threadStatus(body);
    return threads.count(metadata, status).map(count -> JSON.getNodeFactory().numberNode(count));
  }

  /** The body's {@code sort_by} (default created_at) and {@code sort_order} (default desc). */
  private static ThreadStore.Order threadOrder(JsonNode body) {
    String sortBy = optionalText(body, "sort_by");
    ThreadStore.Order.Field field = ThreadStore.Order.Field.CREATED_AT;
    if (sortBy != null) {
      field = java.util.Arrays.stream(ThreadStore.Order.Field.values()).filter(f -> f.wire.equals(sortBy)).findFirst()
          .orElseThrow(() -> HttpProblem.invalid("sort_by must be thread_id, status, created_at or updated_at, was '"
              + sortBy + "'"));
    }
    String sortOrder = oneOf(body, "sort_order", "desc", "asc", "desc");
    return new ThreadStore.Order(field, sortOrder.equals("asc"));
  }

  /** The body's thread {@code status} filter, or null; 422 when it is not a thread status. */
  private static @Nullable String threadStatus(JsonNode body) {
    String status = optionalText(body, "status");
    if (status != null && !THREAD_STATUSES.contains(status)) {
      throw HttpProblem.invalid("status must be one of " + THREAD_STATUSES + ", was '" + status + "'");
    }
    return status;
  }

  private Mono<JsonNode> searchThreads(JsonNode body) {
    Map<String, Object> metadata = optionalMap(body, "metadata");
    JsonNode idsNode = body.path("ids");
    if (!idsNode.isMissingNode() && !idsNode.isNull() && !idsNode.isArray()) {
      throw HttpProblem.invalid("ids must be a list of thread ids");
    }
    List<String> ids = new ArrayList<>();
    idsNode.forEach(id -> ids.add(id.asText()));
    String status = threadStatus(body);
    if (body.hasNonNull("values")) {
      throw HttpProblem.invalid("filtering threads by values is not supported; filter by metadata or status");
    }
    List<String> select = selectedFields(body);
    return threads.search(metadata, status, ids, nonNegative(body, "limit", 10), nonNegative(body, "offset", 0),
            threadOrder(body))
        .concatMap(this::thread)
        .map(thread -> select == null ? thread : ((ObjectNode) thread).retain(select))
        .collectList()
        .map(list -> {
          ArrayNode result = JSON.createArrayNode();
          list.forEach(result::add);
          return result;
        });
  }

  private static final List<String> THREAD_FIELDS = List.of("thread_id", "created_at", "updated_at", "metadata",
      "status", "config", "values", "interrupts");

  /** The body's {@code select}: the thread fields to answer with (null: all); 422 for an unknown field. */
  private static @Nullable List<String> selectedFields(JsonNode body) {
    JsonNode select = body.path("select");
    if (select.isMissingNode() || select.isNull()) {
      return null;
    }
    if (!select.isArray()) {
      throw HttpProblem.invalid("select must be a list of thread fields");
    }
    List<String> fields = new ArrayList<>();
    for (JsonNode field : select) {
      if (!field.isTextual() || !THREAD_FIELDS.contains(field.asText())) {
        throw HttpProblem.invalid("select may name " + THREAD_FIELDS + ", not " + field);
      }
      fields.add(field.asText());
    }
    return fields;
  }

  /** The wire Thread: the record plus, once a graph ran on it, its current values and pending interrupts. */
  private Mono<JsonNode> thread(ThreadStore.ThreadRecord thread) {
    ObjectNode node = JSON.createObjectNode();
    node.put("thread_id", thread.threadId());
    node.put("created_at", thread.createdAt().toString());
    node.put("updated_at", thread.updatedAt().toString());
    node.set("metadata", JSON.valueToTree(thread.metadata()));
    node.put("status", thread.status());
    node.putObject("config");
    node.putNull("values");
    ObjectNode interrupts = node.putObject("interrupts");
    if (thread.graphId() == null || !graphs.containsKey(thread.graphId())) {
      return Mono.just(node); // no graph ran yet, or it is not served here: its values cannot be read
    }
    return graphs.get(thread.graphId()).getState(RunConfig.thread(thread.threadId()))
        .map(state -> {
          node.set("values", JSON.valueToTree(state.values()));
          for (TaskState task : state.tasks()) {
            if (!task.interrupts().isEmpty() && !state.interrupts().isEmpty()) {
              interrupts.set(task.id(), JSON.valueToTree(task.interrupts()));
            }
          }
          return (JsonNode) node;
        })
        .defaultIfEmpty(node);
  }

  /**
   * The graph that ran on the thread; 409 when this server does not serve it (it was renamed or removed since), as
   * its checkpoints cannot be read without it.
   */
  private Entrypoint<?, ?> graphOf(ThreadStore.ThreadRecord thread) {
    return servedGraph(thread.threadId(), thread.graphId());
  }

  private Entrypoint<?, ?> servedGraph(String threadId, @Nullable String graphId) {
    Entrypoint<?, ?> graph = graphId == null ? null : graphs.get(graphId);
    if (graph == null) {
      throw new HttpProblem(409, "thread " + threadId + " ran graph " + graphId + ", which this server does not serve");
    }
    return graph;
  }

  /** {@code GET /threads/{id}/state}: the latest ThreadState; nested states in {@code tasks[].state} with subgraphs. */
  private Mono<JsonNode> threadState(String threadId, boolean subgraphs) {
    return threads.require(threadId).flatMap(thread -> thread.graphId() == null ? Mono.just(emptyState(threadId))
        : graphOf(thread).getState(RunConfig.thread(threadId), true)
            .<JsonNode>map(snapshot -> state(snapshot, subgraphs))
            .defaultIfEmpty(emptyState(threadId)));
  }

  /**
   * The thread's state at a checkpoint ({@code POST .../state/checkpoint} and {@code GET .../state/{id}}); with a
   * {@code checkpoint_ns}, that nested graph's or entrypoint's state as of the checkpoint.
   */
  private Mono<JsonNode> stateAt(String threadId, JsonNode id, String namespace, boolean subgraphs) {
    if (!id.isTextual()) {
      return Mono.error(HttpProblem.invalid("checkpoint.checkpoint_id is required"));
    }
    String what = "checkpoint " + id.asText() + (namespace.isEmpty() ? "" : " in checkpoint_ns '" + namespace + "'");
    return threads.require(threadId).flatMap(thread -> thread.graphId() == null
        ? Mono.error(HttpProblem.notFound(what))
        : graphOf(thread).getState(RunConfig.thread(threadId).withCheckpointNamespace(namespace)
                .withCheckpointId(id.asText()), true)
            .<JsonNode>map(snapshot -> state(snapshot, subgraphs))
            .onErrorMap(IllegalArgumentException.class, error -> HttpProblem.notFound(what))
            .switchIfEmpty(Mono.error(() -> HttpProblem.notFound(what))));
  }

  /** A checkpoint object's {@code checkpoint_ns}: "" when absent; 422 unless a string of valid segments. */
  private static String namespaceOf(JsonNode checkpoint) {
    JsonNode namespace = checkpoint.path("checkpoint_ns");
    if (namespace.isMissingNode() || namespace.isNull()) {
      return "";
    }
    if (!namespace.isTextual()) {
      throw HttpProblem.invalid("checkpoint.checkpoint_ns must be a string");
    }
    try {
      return RunConfig.thread("-").withCheckpointNamespace(namespace.asText()).checkpointNamespace();
    } catch (IllegalArgumentException e) {
      throw HttpProblem.invalid("checkpoint.checkpoint_ns: " + e.getMessage());
    }
  }

  /** A boolean query parameter: false when absent; 422 unless {@code true} or {@code false}. */
  private static boolean booleanParam(HttpServerRequest request, String name) {
    String value = queryParam(request, name);
    if (value == null || value.equals("false")) {
      return false;
    }
    if (value.equals("true")) {
      return true;
    }
    throw HttpProblem.invalid(name + " must be true or false, was '" + value + "'");
  }

  /** A boolean body field: false when absent or null; 422 unless a boolean. */
  private static boolean booleanField(JsonNode body, String name) {
    JsonNode value = body.path(name);
    if (value.isMissingNode() || value.isNull()) {
      return false;
    }
    if (!value.isBoolean()) {
      throw HttpProblem.invalid(name + " must be a boolean");
    }
    return value.booleanValue();
  }

  /** Sets the thread's value (an entrypoint's saved and returned value); 409 while a run is unfinished. */
  private Mono<JsonNode> updateState(String threadId, JsonNode body) {
    return threads.require(threadId).flatMap(thread -> {
      if (thread.status().equals("busy")) {
        return Mono.error(new HttpProblem(409, "thread " + threadId + " has a pending or running run"));
      }
      String graphId = thread.graphId() != null ? thread.graphId()
          : body.path("as_node").isTextual() && graphs.containsKey(body.get("as_node").asText())
              ? body.get("as_node").asText() : null;
      if (graphId == null) {
        return Mono.error(HttpProblem.invalid("no graph has run on thread " + threadId + " yet; run one first"));
      }
      Entrypoint<?, ?> graph = servedGraph(threadId, graphId);
      RunConfig config = RunConfig.thread(threadId);
      // the JS client sends checkpoint_id, or checkpoint: {checkpoint_id}
      JsonNode checkpointId = body.path("checkpoint_id").isTextual() ? body.get("checkpoint_id")
          : body.path("checkpoint").path("checkpoint_id");
      if (checkpointId.isTextual()) {
        config = config.withCheckpointId(checkpointId.asText());
      }
      // a nested graph's state (checkpoint.checkpoint_ns) is refused by the engine: 422 with its reason
      config = config.withCheckpointNamespace(namespaceOf(body.path("checkpoint")));
      Object value = JSON.convertValue(body.path("values"), JSON.constructType(graph.outputType()));
      // as_node names a node of a served StateGraph; for an entrypoint it may name the graph (or be absent)
      String asNode = body.path("as_node").isTextual() ? body.get("as_node").asText() : null;
      if (asNode != null && (asNode.equals(graphId) || asNode.equals(graph.name()))) {
        asNode = null;
      }
      return graph.updateState(config, value, asNode)
          .onErrorMap(IllegalArgumentException.class, error -> HttpProblem.invalid(error.getMessage()))
          .flatMap(updated -> threads.update(threadId, "idle", graphId, Map.of()).thenReturn(updated))
          .map(updated -> {
            ObjectNode node = JSON.createObjectNode();
            node.set("checkpoint", checkpoint(updated));
            ((ObjectNode) node.get("checkpoint")).remove("checkpoint_map");
            return (JsonNode) node;
          });
    });
  }

  /**
   * history: newest first, at most {@code limit}; {@code before} (an id or {@code {configurable:{checkpoint_id}}})
   * starts below that checkpoint, {@code checkpoint.checkpoint_id} at it; {@code checkpoint.checkpoint_ns} lists a
   * nested graph's states instead; {@code metadata} keeps the checkpoints whose metadata contains those entries;
   * {@code subgraphs} adds the nested states to the tasks.
   */
  private Mono<JsonNode> history(String threadId, JsonNode body) {
    int limit = nonNegative(body, "limit", 10);
    boolean subgraphs = booleanField(body, "subgraphs");
    String namespace = namespaceOf(body.path("checkpoint")); // a nested graph's states, from the thread's history
    JsonNode before = body.path("before").isTextual() ? body.get("before")
        : body.path("before").path("configurable").path("checkpoint_id");
    JsonNode at = body.path("checkpoint").path("checkpoint_id");
    Map<String, Object> metadata = optionalMap(body, "metadata");
    return threads.require(threadId).flatMap(thread -> {
      if (thread.graphId() == null) {
        return Mono.just(JSON.createArrayNode());
      }
      Entrypoint<?, ?> graph = graphOf(thread);
      RunConfig config = RunConfig.thread(threadId).withCheckpointNamespace(namespace);
      Flux<StateSnapshot> snapshots;
      if (before.isTextual()) {
        snapshots = graph.getStateHistory(config.withCheckpointId(before.asText()), true);
      } else if (at.isTextual()) {
        RunConfig from = config.withCheckpointId(at.asText());
        snapshots = graph.getState(from, true).flux().concatWith(graph.getStateHistory(from, true));
      } else {
        snapshots = graph.getStateHistory(config, true);
      }
      return snapshots
          .onErrorMap(IllegalArgumentException.class, error -> HttpProblem.notFound(error.getMessage()))
          .filter(snapshot -> snapshot.metadata().entrySet().containsAll(metadata.entrySet()))
          .take(Math.max(0, limit))
          .<JsonNode>map(snapshot -> state(snapshot, subgraphs)).collectList().map(states -> {
            ArrayNode array = JSON.createArrayNode();
            states.forEach(array::add);
            return array;
          });
    });
  }

  private ObjectNode emptyState(String threadId) {
    ObjectNode node = JSON.createObjectNode();
    node.putNull("values");
    node.putArray("next");
    node.putArray("tasks");
    node.putObject("metadata");
    node.putNull("created_at");
    node.putObject("checkpoint").put("thread_id", threadId).put("checkpoint_ns", "").putNull("checkpoint_id");
    node.putNull("parent_checkpoint");
    node.putArray("interrupts");
    return node;
  }

  /**
   * The wire ThreadState of a snapshot. Each task: {@code path ["__pregel_pull", name]} (an entrypoint or a node);
   * {@code checkpoint} addresses the nested graph or entrypoint it ran that is paused or failed (its
   * {@code checkpoint_ns}), and with {@code subgraphs} {@code state} is that one's ThreadState, recursively.
   */
  private ObjectNode state(StateSnapshot snapshot, boolean subgraphs) {
    ObjectNode node = JSON.createObjectNode();
    node.set("values", JSON.valueToTree(snapshot.values()));
    node.set("next", JSON.valueToTree(snapshot.next()));
    ArrayNode tasks = node.putArray("tasks");
    for (TaskState task : snapshot.tasks()) {
      ObjectNode wire = tasks.addObject();
      wire.put("id", task.id());
      wire.put("name", task.name());
      wire.put("error", task.error());
      wire.set("interrupts", JSON.valueToTree(task.interrupts()));
      StateSnapshot nested = task.state();
      if (nested == null) {
        wire.putNull("checkpoint");
      } else {
        ObjectNode checkpoint = checkpoint(nested.config());
        checkpoint.remove("checkpoint_map");
        wire.set("checkpoint", checkpoint);
      }
      wire.set("state", subgraphs && nested != null ? state(nested, true) : NullNode.getInstance());
      wire.set("result", JSON.valueToTree(task.result()));
      wire.putArray("path").add("__pregel_pull").add(task.name());
    }
    ObjectNode metadata = JSON.valueToTree(snapshot.metadata());
    if (!metadata.has("parents")) {
      metadata.putObject("parents");
    }
    node.set("metadata", metadata);
    node.put("created_at", snapshot.createdAt().toString());
    node.set("checkpoint", checkpoint(snapshot.config()));
    node.set("parent_checkpoint", snapshot.parentConfig() == null ? NullNode.getInstance()
        : checkpoint(snapshot.parentConfig()));
    node.set("interrupts", JSON.valueToTree(snapshot.interrupts()));
    return node;
  }

  private static ObjectNode checkpoint(RunConfig config) {
    ObjectNode node = JSON.createObjectNode();
    node.put("thread_id", config.threadId().orElse(""));
    node.put("checkpoint_ns", config.checkpointNamespace());
    node.put("checkpoint_id", config.checkpointId().orElse(null));
    node.putNull("checkpoint_map");
    return node;
  }

  // ------------------------------------------------------------------------------------------ runs

  private static @Nullable String queryParam(HttpServerRequest request, String name) {
    return new io.netty.handler.codec.http.QueryStringDecoder(request.uri()).parameters()
        .getOrDefault(name, List.of()).stream().findFirst().orElse(null);
  }

  private static int intParam(HttpServerRequest request, String name, int fallback) {
    String value = queryParam(request, name);
    try {
      return value == null ? fallback : Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw HttpProblem.invalid(name + " must be an integer, was '" + value + "'");
    }
  }

  private static ObjectNode run(RunRegistry.Run run) {
    return run(run.record());
  }

  private static ObjectNode run(RunStore.RunRecord run) {
    ObjectNode node = JSON.createObjectNode();
    node.put("run_id", run.runId());
    node.put("thread_id", run.threadId());
    node.put("assistant_id", run.assistantId());
    node.put("created_at", run.createdAt().toString());
    node.put("updated_at", run.updatedAt().toString());
    node.put("status", run.status());
    node.set("metadata", JSON.valueToTree(run.metadata()));
    node.put("multitask_strategy", run.multitaskStrategy());
    node.putObject("kwargs");
    return node;
  }

  /**
   * join: the run's result when it runs (or recently ran) here; for a finished run known only from the store (run
   * by another process, or before a restart), the thread's current values.
   */
  private Mono<JsonNode> join(String threadId, String runId) {
    return runs.live(threadId, runId).<Mono<JsonNode>>map(run -> run.result.asMono())
        .orElseGet(() -> runs.require(threadId, runId).flatMap(record -> {
          if (!record.finished()) {
            return Mono.error(new HttpProblem(409, "run " + runId + " is executing in another server process"));
          }
          return threads.require(threadId).flatMap(thread -> thread.graphId() == null
              ? Mono.just((JsonNode) NullNode.getInstance())
              : graphOf(thread).getState(RunConfig.thread(threadId))
                  .<JsonNode>map(state -> JSON.valueToTree(state.values()))
                  .defaultIfEmpty(NullNode.getInstance()));
        }));
  }

  /**
   * cancel: a pending or running run of this process is cancelled ({@code action=interrupt}: its finished work stays;
   * {@code rollback}: its checkpoints and its record are deleted too) and the thread is idle again (busy when runs
   * are enqueued behind it); a finished one is returned as it is, untouched. Cancelling takes effect at once, so
   * {@code wait=1} answers the same.
   */
  private Mono<JsonNode> cancel(String threadId, String runId, String action) {
    if (!action.equals("interrupt") && !action.equals("rollback")) {
      return Mono.error(HttpProblem.invalid("action must be interrupt or rollback, was '" + action + "'"));
    }
    java.util.Optional<RunRegistry.Run> live = runs.live(threadId, runId);
    if (live.isPresent()) {
      RunRegistry.Run run = live.get();
      return runs.cancel(threadId, runId).flatMap(cancelled -> {
        if (!cancelled) {
          return Mono.just((JsonNode) run(run));
        }
        Mono<Void> undo = action.equals("rollback") ? rollBack(threadId, run).then(runs.delete(threadId, runId)).then()
            : Mono.empty();
        return undo.then(threads.update(threadId, runs.threadStatusAfter(run, "idle"), null, Map.of()))
            .thenReturn((JsonNode) run(run));
      });
    }
    return runs.require(threadId, runId).flatMap(record -> record.finished() ? Mono.just((JsonNode) run(record))
        : Mono.error(new HttpProblem(409, "run " + runId + " is executing in another server process")));
  }

  /** Cancels the run for a client that left (on_disconnect, cancel_on_disconnect); a stateless run's thread goes. */
  private void cancelForLeavingClient(RunRegistry.Run run, boolean deleteThread) {
    runs.cancel(run.threadId, run.runId)
        .flatMap(cancelled -> !cancelled ? Mono.empty() : deleteThread ? deleteThread(run.threadId).then()
            : threads.update(run.threadId, runs.threadStatusAfter(run, "idle"), null, Map.of()).then())
        .subscribe(null, error -> LOG.warn("could not cancel run {} of thread {} after its client left: {}", run.runId,
            run.threadId, error.toString()));
  }

  /** DELETE of a run: an unfinished one is cancelled first (the thread is then idle); emits whether it existed. */
  private Mono<Boolean> deleteRun(String threadId, String runId) {
    return runs.live(threadId, runId).map(run -> runs.cancel(threadId, runId)
            .flatMap(cancelled -> cancelled ? threads.update(threadId, runs.threadStatusAfter(run, "idle"), null,
                Map.of()).then() : Mono.<Void>empty()))
        .orElse(Mono.empty())
        .then(runs.delete(threadId, runId));
  }

  /**
   * Registers the run (see {@link RunRegistry#start} for a busy thread), rolls back the run it replaces
   * (multitask_strategy rollback) and, when asked, marks the thread busy. Once the run is registered a failure no
   * longer fails the request (a client retries a 5xx, which would create the run twice): the run ends as error
   * without executing, and each endpoint reports that as it reports a failed run.
   */
  private Mono<RunRegistry.Run> begin(String threadId, RunRequest run, boolean markBusy) {
    return runs.start(UUID.randomUUID().toString(), threadId, Assistants.idOf(run.graphId()), run.metadata(),
            run.multitaskStrategy(), !run.delay().isZero())
        .flatMap(started -> {
          Mono<Void> prepare = started.rolledBack == null ? Mono.empty() : rollBack(threadId, started.rolledBack);
          if (markBusy) {
            prepare = prepare.then(markBusy(threadId, run));
          }
          return prepare.onErrorResume(error -> {
            started.fail(error);
            return Mono.empty();
          }).thenReturn(started);
        });
  }

  /**
   * Marks the thread busy with the run's graph (a streamed run does this after sending its first event, before its
   * first step), creating a stateless run's thread; a 404 when the thread was deleted meanwhile.
   */
  private Mono<Void> markBusy(String threadId, RunRequest run) {
    Map<String, Object> metadata = Map.of("graph_id", run.graphId(), "assistant_id", Assistants.idOf(run.graphId()));
    return (run.freshThread() ? threads.createBusy(threadId, run.graphId(), metadata)
        : threads.update(threadId, "busy", run.graphId(), metadata))
        .switchIfEmpty(Mono.error(() -> HttpProblem.notFound("thread " + threadId + " (deleted)")))
        .then();
  }

  /**
   * Rolls back a cancelled run (multitask_strategy rollback, cancel with action=rollback): deletes the checkpoints it
   * saved, so the thread is as it was before it, and a new run continues from the checkpoint that was the latest when
   * the rolled-back run started. Its first checkpoint is the oldest created since it got the thread; the thread keeps
   * that checkpoint's parent and older ones (nothing, when the run was the thread's first). A run that never got the
   * thread (enqueued) saved nothing. A write the cancelled run still had in flight may land afterwards; one against a
   * deleted checkpoint is refused.
   */
  private Mono<Void> rollBack(String threadId, RunRegistry.Run cancelled) {
    return Mono.defer(() -> {
      java.time.Instant startedAt = cancelled.startedAt;
      Entrypoint<?, ?> graph = graphOf(cancelled.assistantId);
      dev.fluxgraph.checkpoint.CheckpointSaver saver = graph.checkpointer().orElse(null);
      if (saver == null || startedAt == null) {
        return Mono.empty(); // nothing was saved
      }
      return deleteSince(threadId, graph, saver, startedAt);
    });
  }

  /** Deletes the thread's checkpoints created since {@code startedAt}. */
  private static Mono<Void> deleteSince(String threadId, Entrypoint<?, ?> graph,
                                        dev.fluxgraph.checkpoint.CheckpointSaver saver, java.time.Instant startedAt) {
    return graph.getStateHistory(RunConfig.thread(threadId))
        .takeWhile(snapshot -> !snapshot.createdAt().isBefore(startedAt))
        .collectList()
        .flatMap(created -> {
          if (created.isEmpty()) {
            return Mono.<Void>empty();
          }
          RunConfig parent = created.get(created.size() - 1).parentConfig();
          String parentId = parent == null ? null : parent.checkpointId().orElse(null);
          return parentId == null ? saver.deleteThread(threadId) : saver.deleteAfter(threadId, "", parentId);
        });
  }

  /**
   * The run's config: its thread, the checkpoint it starts from (the request's {@code checkpoint_id}, else the
   * latest), its context, metadata and durability.
   */
  private static RunConfig configOf(RunRegistry.Run registered, RunRequest run) {
    RunConfig config = RunConfig.thread(registered.threadId).withMetadata(run.metadata());
    if (run.checkpointId() != null) {
      config = config.withCheckpointId(run.checkpointId());
    }
    if (run.context() != null) {
      config = config.withContext(run.context());
    }
    return run.durability() == null ? config : config.withDurability(run.durability());
  }

  /**
   * What a run waits for before executing: its turn on the thread (enqueued runs), then its {@code after_seconds};
   * then it is running. Nothing to wait for on the hot path.
   */
  private Mono<Void> whenDue(RunRegistry.Run registered, RunRequest run) {
    Mono<Void> turn = registered.turn();
    if (!run.delay().isZero()) {
      turn = turn.then(Mono.delay(run.delay())).then();
    }
    return turn.then(Mono.fromRunnable(() -> runs.running(registered)));
  }

  /**
   * Starts the run's execution, which goes on whoever listens (it stops only when cancelled), and emits its outcome:
   * what wait and join answer. The execution streams the run in its stream modes and publishes every event to the run
   * (kept for joinStream: see {@link RunRegistry}), whether it was streamed, waited for or started in the background;
   * its events end when it ends. Deletes the thread afterwards when the run asks for it.
   *
   * @param markBusy whether the thread is marked busy by the execution, after its metadata event (streamed runs: their
   *                 first event does not wait for that write); waited and background runs were marked in {@link #begin}
   */
  private Mono<JsonNode> launch(RunRegistry.Run registered, RunRequest run, boolean markBusy) {
    Sinks.One<JsonNode> outcome = Sinks.one();
    registered.attach(finished(execute(registered, run, markBusy), registered, run).subscribe(value -> {
      registered.publishEnd();
      outcome.tryEmitValue(value);
    }, error -> {
      registered.publishEnd();
      outcome.tryEmitError(error);
    }));
    return outcome.asMono();
  }

  /**
   * Runs to the end, publishing the run's events (metadata first, one per chunk of the requested modes, an error
   * event on failure), and records the outcome: the run's and the thread's status, and the value of the run (its
   * last values chunk: the final value, or {@code {"__interrupt__": [...]}} on pause), or its {@code __error__} body.
   * Errors (after its error event) only when the run's command or input was refused before any step ran, which a
   * quick wait answers with 422.
   */
  private Mono<JsonNode> execute(RunRegistry.Run registered, RunRequest run, boolean markBusy) {
    String tid = registered.threadId;
    RunConfig config = configOf(registered, run);
    // the outcome is the last values chunk: values runs along, and its chunks are published only when asked for
    StreamOptions options = run.wantsValues() ? run.options() : new StreamOptions(java.util.stream.Stream.concat(
        run.options().modes().stream(), java.util.stream.Stream.of(StreamMode.VALUES)).toList(),
        run.options().subgraphs());
    Flux<StreamChunk> chunks = Flux.defer(() -> run.command() != null
        ? run.graph().stream(run.command(), config, options)
        : run.graph().stream(run.input(), config, options));
    if (run.command() != null && run.command().kind() != Command.Kind.PROCEED && run.wantsValues()) {
      chunks = run.graph().getState(config).map(state -> new StreamChunk(StreamMode.VALUES, List.of(),
          state.values())).flux().concatWith(chunks);
    }
    Mono<Void> due = markBusy ? registered.turn().then(markBusy(tid, run)).then(whenDue(registered, run))
        : whenDue(registered, run);
    boolean[] paused = {false};
    Object[] last = {null};
    return Mono.fromRunnable(() -> registered.publish("metadata", "{\"run_id\":\"" + registered.runId
            + "\",\"attempt\":1}"))
        .then(due)
        .thenMany(chunks)
        .doOnNext(chunk -> {
          if (chunk.data() instanceof Map<?, ?> map && map.containsKey("__interrupt__")) {
            paused[0] = true;
          }
          if (chunk.mode() == StreamMode.VALUES && chunk.namespace().isEmpty()) {
            last[0] = chunk.data();
            if (!run.wantsValues()) {
              return;
            }
          }
          String name = chunk.mode() == StreamMode.MESSAGES ? "messages" : chunk.mode().wireName();
          if (!chunk.namespace().isEmpty()) {
            name = name + "|" + String.join("|", chunk.namespace());
          }
          registered.publish(name, json(chunk.data()));
        })
        .then(Mono.defer(() -> threads.update(tid, runs.threadStatusAfter(registered,
            paused[0] ? "interrupted" : "idle"), null, Map.of())))
        .then(Mono.fromCallable(() -> {
          JsonNode value = JSON.valueToTree(last[0]);
          registered.finish(RunRegistry.Status.SUCCESS, value);
          return value;
        }))
        .onErrorResume(error -> {
          boolean refused = refused(error);
          JsonNode failure = errorValue(error);
          registered.finish(RunRegistry.Status.ERROR, failure);
          return threads.update(tid, runs.threadStatusAfter(registered, refused ? "idle" : "error"), null, Map.of())
              .onErrorResume(ignored -> Mono.empty()) // the run's outcome is known; the status write is best effort
              .then(Mono.fromRunnable(() -> registered.publish("error", failure.get("__error__").toString())))
              .then(refused ? Mono.error(error) : Mono.just(failure));
        });
  }

  /** Compact JSON of a chunk's data; a chunk that is not JSON fails the run with a clear error. */
  private static String json(@Nullable Object data) {
    try {
      return JSON.writeValueAsString(data);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new dev.fluxgraph.errors.SerializationException("a stream chunk is not JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** Whether the run failed because its input or command was refused before any step ran (the thread is unchanged). */
  private static boolean refused(Throwable error) {
    return error instanceof dev.fluxgraph.errors.InvalidCommandException
        || error instanceof dev.fluxgraph.errors.EmptyInputException;
  }

  private Mono<RunRegistry.Run> background(String threadId, JsonNode body) {
    RunRequest run = runRequest(body, false);
    return ready(threadId, run, true).doOnNext(registered -> launch(registered, run, false));
  }

  /** The run's address, from which the JS client learns the run id ({@code onRunCreated}). */
  private static HttpServerResponse withRunLocation(HttpServerResponse response, RunRegistry.Run run) {
    return response.header("Content-Location", "/threads/" + run.threadId + "/runs/" + run.runId);
  }

  /**
   * The thread a run goes on, created when missing with {@code if_not_exists: create} (else 404; a stateless run's
   * thread is created later, by {@link #markBusy}), then the run registered on it.
   */
  private Mono<RunRegistry.Run> ready(String threadId, RunRequest run, boolean markBusy) {
    Mono<?> thread = run.freshThread() ? Mono.empty() // created by markBusy
        : run.createThread() ? threads.create(threadId, Map.of(), "do_nothing") : threads.requireExists(threadId);
    return thread.then(begin(threadId, run, markBusy));
  }

  /** After the run ({@code outcome}): deletes the thread when the run asked for it (stateless runs by default). */
  private <T> Mono<T> finished(Mono<T> outcome, RunRegistry.Run registered, RunRequest run) {
    if (!run.deleteThread()) {
      return outcome;
    }
    Mono<Void> cleanUp = Mono.defer(() -> deleteThread(registered.threadId).then())
        .onErrorResume(error -> Mono.empty());
    return outcome.flatMap(value -> cleanUp.thenReturn(value)).onErrorResume(error -> cleanUp.then(Mono.error(error)));
  }

  /**
   * Deletes the thread: its runs (unfinished ones are cancelled first, so they do not write the thread again), its
   * record and its checkpoints; emits whether the thread existed.
   */
  private Mono<Boolean> deleteThread(String threadId) {
    return runs.deleteThread(threadId).then(threads.delete(threadId))
        .flatMap(existed -> checkpointer.deleteThread(threadId).thenReturn(existed));
  }

  /**
   * A parsed run request.
   *
   * @param checkpointId  the checkpoint to start from instead of the thread's latest (time travel), or null
   * @param delay         how long to wait before starting ({@code after_seconds})
   * @param deleteThread  whether the thread is deleted once the run ends ({@code on_completion: delete}, the
   *                      default of stateless runs)
   * @param multitaskStrategy  reject, interrupt, rollback or enqueue (checked by {@link RunRegistry#start})
   * @param createThread  whether a missing thread is created ({@code if_not_exists: create}) rather than a 404
   * @param cancelOnDisconnect  whether the run is cancelled when its client leaves ({@code on_disconnect: cancel})
   * @param freshThread   whether the run goes on a new thread the server named (stateless runs): nobody else knows it
   *                      before the run's first answer, so it is created when the run is marked busy
   */
  private record RunRequest(Entrypoint<Object, Object> graph, String graphId, @Nullable Object input,
                            @Nullable Command command, StreamOptions options, boolean wantsValues,
                            @Nullable Object context, Map<String, Object> metadata,
                            dev.fluxgraph.types.@Nullable Durability durability, @Nullable String checkpointId,
                            Duration delay, boolean deleteThread, String multitaskStrategy, boolean createThread,
                            boolean cancelOnDisconnect, boolean freshThread) {
  }

  @SuppressWarnings("unchecked")
  private RunRequest runRequest(JsonNode body, boolean stateless) {
    if (!body.path("assistant_id").isTextual()) {
      throw HttpProblem.invalid("assistant_id is required");
    }
    Entrypoint<Object, Object> graph = (Entrypoint<Object, Object>) graphOf(body.get("assistant_id").asText());
    List<StreamMode> modes = new ArrayList<>();
    JsonNode streamMode = body.path("stream_mode");
    List<String> names = new ArrayList<>();
    if (streamMode.isTextual()) {
      names.add(streamMode.asText());
    } else if (streamMode.isArray()) {
      streamMode.forEach(mode -> names.add(mode.asText()));
    } else if (!streamMode.isMissingNode() && !streamMode.isNull()) {
      throw HttpProblem.invalid("stream_mode must be a string or a list of strings");
    }
    if (names.isEmpty()) {
      names.add("values");
    }
    for (String name : names) {
      StreamMode mode;
      try {
        mode = StreamMode.fromWireName(name.equals("messages-tuple") ? "messages" : name);
      } catch (IllegalArgumentException e) {
        throw HttpProblem.invalid("invalid stream_mode: " + e.getMessage());
      }
      if (!modes.contains(mode)) {
        modes.add(mode);
      }
    }
    Command command = null;
    JsonNode commandNode = body.path("command");
    if (!commandNode.isMissingNode() && !commandNode.isNull() && !commandNode.isObject()) {
      throw HttpProblem.invalid("command must be an object with resume, goto and/or update");
    }
    if (commandNode.isObject() && commandNode.has("resume")) {
      JsonNode resume = commandNode.get("resume");
      Object value = JSON.convertValue(resume, Object.class);
      boolean byId = resume.isObject() && resume.size() > 0 && java.util.stream.StreamSupport
          .stream(((Iterable<String>) resume::fieldNames).spliterator(), false).allMatch(ServerApi::looksLikeId);
      command = byId ? Command.resumeById(JSON.convertValue(resume, MAP)) : Command.resume(value);
    }
    JsonNode goTo = commandNode.path("goto");
    if (goTo.isArray() && goTo.size() == 1) {
      goTo = goTo.get(0);
    }
    if (!goTo.isMissingNode() && !goTo.isNull()) {
      if (!goTo.isTextual()) {
        throw HttpProblem.invalid("command.goto must be a node name");
      }
      command = (command == null ? Command.goTo(goTo.asText()) : command.withGoTo(goTo.asText()));
    }
    JsonNode update = commandNode.path("update");
    if (!update.isMissingNode() && !update.isNull()) {
      if (!update.isObject()) {
        throw HttpProblem.invalid("command.update must be an object of state keys");
      }
      Map<String, Object> values = JSON.convertValue(update, MAP);
      command = (command == null ? Command.update(values) : command.withUpdate(values));
    }
    Object input = null;
    if (command == null && body.hasNonNull("input")) {
      try {
        input = JSON.convertValue(body.get("input"), JSON.constructType(graph.inputType()));
      } catch (IllegalArgumentException e) {
        throw HttpProblem.invalid("input does not fit graph " + graphIdOf(graph) + ": " + e.getMessage()
            .lines().findFirst().orElse(""));
      }
    }
    if (command == null && input == null) {
      command = Command.proceed();
    }
    JsonNode context = body.path("context");
    if (!context.isMissingNode() && !context.isNull() && !context.isObject()) {
      throw HttpProblem.invalid("context must be an object");
    }
    Map<String, Object> metadata = optionalMap(body, "metadata");
    dev.fluxgraph.types.Durability durability = null;
    if (body.path("durability").isTextual()) {
      try {
        durability = dev.fluxgraph.types.Durability.valueOf(body.get("durability").asText()
            .toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw HttpProblem.invalid("durability must be sync, async or exit, was '" + body.get("durability").asText()
            + "'");
      }
    }
    optionalObject(body, "config");
    // checkpoint_id, or checkpoint: {checkpoint_id} (the JS client's checkpoint option), or the config's
    JsonNode checkpoint = body.path("checkpoint_id").isTextual() ? body.get("checkpoint_id")
        : body.path("checkpoint").path("checkpoint_id").isTextual() ? body.get("checkpoint").get("checkpoint_id")
        : body.path("config").path("configurable").path("checkpoint_id");
    JsonNode after = body.path("after_seconds");
    if (!after.isMissingNode() && !after.isNull() && (!after.isNumber() || after.asDouble() < 0
        || after.asDouble() > 86_400)) {
      throw HttpProblem.invalid("after_seconds must be a number between 0 and 86400");
    }
    String onCompletion = oneOf(body, "on_completion", stateless ? "delete" : "keep", "delete", "keep");
    String ifNotExists = oneOf(body, "if_not_exists", "reject", "reject", "create");
    String onDisconnect = oneOf(body, "on_disconnect", "continue", "continue", "cancel");
    String multitaskStrategy = oneOf(body, "multitask_strategy", "reject", "reject", "interrupt", "rollback",
        "enqueue");
    for (String breakpoints : List.of("interrupt_before", "interrupt_after")) {
      // silently running without the breakpoints the caller asked for would be worse than refusing
      if (body.hasNonNull(breakpoints)) {
        throw HttpProblem.invalid(breakpoints + " per run is not supported; compile the graph with it "
            + "(CompileOptions.withInterruptBefore/After)");
      }
    }
    return new RunRequest(graph, graphIdOf(graph), input, command,
        new StreamOptions(modes, body.path("stream_subgraphs").asBoolean(false)), modes.contains(StreamMode.VALUES),
        context.isObject() ? JSON.convertValue(context, MAP) : null,
        metadata, durability,
        checkpoint.isTextual() ? checkpoint.asText() : null,
        Duration.ofMillis((long) (after.asDouble(0) * 1000)),
        onCompletion.equals("delete"), multitaskStrategy, ifNotExists.equals("create"), onDisconnect.equals("cancel"),
        stateless);
  }

  /** The text field, {@code fallback} when absent or null; 422 when it is none of {@code allowed}. */
  private static String oneOf(JsonNode body, String field, String fallback, String... allowed) {
    String value = java.util.Objects.requireNonNullElse(optionalText(body, field), fallback);
    if (!List.of(allowed).contains(value)) {
      throw HttpProblem.invalid(field + " must be " + String.join(", ", allowed).replaceFirst(", (\\w+)$", " or $1")
          + ", was '" + value + "'");
    }
    return value;
  }

  private static boolean looksLikeId(String key) {
    return key.length() == 36 && key.charAt(8) == '-' && key.charAt(13) == '-';
  }

  private Publisher<Void> stream(HttpServerRequest request, HttpServerResponse response, @Nullable String threadId) {
    return guarded(request, response, body -> {
      boolean stateless = threadId == null;
      RunRequest run = runRequest(body, stateless);
      String tid = stateless ? UUID.randomUUID().toString() : threadId;
      return ready(tid, run, false).flatMap(registered -> respond(response, run, registered));
    });
  }

  /**
   * Streams the run as SSE: metadata first, one event per chunk, heartbeats, an error event on failure. On the hot
   * path (an existing idle thread) the first event waits for one database round trip, the thread's read in
   * {@link #ready}: the run's record is saved in the background and the thread's busy status is written after the
   * metadata event, before the run's first step. The run goes on whether or not anybody listens: its events are kept
   * for joinStream, and a client that disconnects cancels it only with {@code on_disconnect: cancel}.
   */
  private Mono<Void> respond(HttpServerResponse response, RunRequest run, RunRegistry.Run registered) {
    launch(registered, run, true);
    Flux<String> live = registered.events(-1).map(RunRegistry.Run.Event::text);
    if (run.cancelOnDisconnect()) {
      live = live.doOnCancel(() -> cancelForLeavingClient(registered, run.deleteThread()));
    }
    return withRunLocation(response, registered).status(HttpResponseStatus.OK)
        .header("Content-Type", "text/event-stream")
        .header("Cache-Control", "no-store")
        .header("Location", "/threads/" + registered.threadId + "/runs/" + registered.runId + "/stream")
        .sendString(withHeartbeats(live), StandardCharsets.UTF_8)
        .then();
  }

  /** One timer for every open stream's heartbeats, running while any stream is open. */
  private static final Flux<String> HEARTBEATS = Flux.interval(HEARTBEAT).map(tick -> ": heartbeat\r\n\r\n").share();

  /** Adds a heartbeat comment every five seconds while events flow. */
  private static Flux<String> withHeartbeats(Flux<String> events) {
    return Flux.merge(events.concatWith(Mono.just("")), HEARTBEATS)
        .takeUntil(String::isEmpty)
        .filter(text -> !text.isEmpty());
  }

  /**
   * joinStream: the run's kept events after {@code Last-Event-ID} (all of them without it, or with -1), then the live
   * ones until the run ends; for a run that ended, what is kept, then the end. {@code stream_mode} (a name or a JSON
   * list) keeps those modes' events (with metadata and errors), and {@code cancel_on_disconnect=true} cancels the run
   * when this client leaves. A finished run whose events this process no longer keeps (see {@link RunRegistry}), or
   * ran elsewhere, ends at once; one executing in another process is a 409.
   */
  private Publisher<Void> joinStream(HttpServerRequest request, HttpServerResponse response) {
    return guarded(request, response, body -> {
      String threadId = request.param("tid");
      String runId = request.param("rid");
      String header = request.requestHeaders().get("Last-Event-ID");
      long after;
      try {
        after = header == null || header.isBlank() ? -1 : Long.parseLong(header.trim());
      } catch (NumberFormatException e) {
        throw HttpProblem.invalid("Last-Event-ID must be a number, was '" + header + "'");
      }
      java.util.Set<String> modes = joinModes(queryParam(request, "stream_mode"));
      String cancel = queryParam(request, "cancel_on_disconnect");
      boolean cancelOnDisconnect = "true".equals(cancel) || "1".equals(cancel);
      Mono<Flux<RunRegistry.Run.Event>> found = runs.live(threadId, runId)
          .map(run -> {
            Flux<RunRegistry.Run.Event> kept = run.events(after);
            return Mono.just(cancelOnDisconnect ? kept.doOnCancel(() -> cancelForLeavingClient(run, false)) : kept);
          })
          .orElseGet(() -> runs.require(threadId, runId).flatMap(record -> record.finished()
              ? Mono.just(Flux.<RunRegistry.Run.Event>empty())
              : Mono.error(new HttpProblem(409, "run " + runId + " is executing in another server process; "
                  + "join it there"))));
      return found.flatMap(events -> {
        Flux<String> texts = events
            .filter(event -> modes.isEmpty() || modes.contains(event.mode()) || event.name().equals("metadata")
                || event.name().equals("error"))
            .map(RunRegistry.Run.Event::text);
        return response.status(HttpResponseStatus.OK)
            .header("Content-Type", "text/event-stream")
            .header("Cache-Control", "no-store")
            .sendString(withHeartbeats(texts), StandardCharsets.UTF_8)
            .then();
      });
    });
  }

  /** The {@code stream_mode} query value of joinStream: absent, one name, or a JSON list of names. */
  private static java.util.Set<String> joinModes(@Nullable String value) {
    java.util.Set<String> modes = new java.util.HashSet<>();
    if (value == null || value.isBlank()) {
      return modes;
    }
    JsonNode parsed;
    try {
      parsed = value.trim().startsWith("[") ? JSON.readTree(value) : JSON.getNodeFactory().textNode(value);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw HttpProblem.invalid("stream_mode must be a mode or a JSON list of modes, was '" + value + "'");
    }
    for (JsonNode mode : parsed.isArray() ? parsed : List.of(parsed)) {
      String name = mode.asText().equals("messages-tuple") ? "messages" : mode.asText();
      try {
        StreamMode.fromWireName(name);
      } catch (IllegalArgumentException e) {
        throw HttpProblem.invalid("invalid stream_mode: " + e.getMessage());
      }
      modes.add(name);
    }
    return modes;
  }

  /**
   * runs/wait: the run's final value. An answer ready within {@link #HEARTBEAT} is an ordinary JSON response (a
   * refused command is then a 422); a longer run gets its 200 at once and a {@code "\n"} every heartbeat until the
   * value (a failure is then an {@code __error__} body). A run cancelled meanwhile answers an {@code __error__} body.
   * The run goes on if the client leaves, unless {@code on_disconnect: cancel}.
   */
  private Publisher<Void> waitFor(HttpServerRequest request, HttpServerResponse response, @Nullable String threadId) {
    return guarded(request, response, body -> {
      boolean stateless = threadId == null;
      RunRequest run = runRequest(body, stateless);
      String tid = stateless ? UUID.randomUUID().toString() : threadId;
      return ready(tid, run, true).flatMap(registered -> {
        withRunLocation(response, registered);
        Sinks.One<JsonNode> outcome = Sinks.one();
        // a cancelled run's execution is disposed and emits nothing: its result (an __error__ body) answers
        registered.result.asMono().filter(value -> registered.status == RunRegistry.Status.INTERRUPTED)
            .subscribe(outcome::tryEmitValue);
        launch(registered, run, false).subscribe(outcome::tryEmitValue, outcome::tryEmitError);
        Mono<Void> answer = outcome.asMono().map(java.util.Optional::of)
            .timeout(HEARTBEAT, Mono.just(java.util.Optional.empty()))
            .flatMap(quick -> quick.isPresent() ? json(response, 200, quick.get())
                : response.status(200).header("Content-Type", "application/json")
                    .sendString(Flux.interval(HEARTBEAT).map(tick -> "\n").startWith("\n")
                        .takeUntilOther(outcome.asMono().onErrorResume(error -> Mono.empty()))
                        .concatWith(outcome.asMono().onErrorResume(error -> Mono.just(errorValue(error)))
                            .map(JsonNode::toString)), StandardCharsets.UTF_8)
                    .then());
        return run.cancelOnDisconnect()
            ? answer.doOnCancel(() -> cancelForLeavingClient(registered, run.deleteThread())) : answer;
      });
    });
  }

  /** The {@code __error__} body of a failed run (wait, join) and, its inner object, the SSE error event's data. */
  static JsonNode errorValue(Throwable error) {
    ObjectNode node = JSON.createObjectNode();
    node.putObject("__error__").put("error", error.getClass().getSimpleName())
        .put("message", String.valueOf(error.getMessage()));
    return node;
  }
}
