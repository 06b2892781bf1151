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
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;

/**
 * The HTTP endpoints of the LangGraph Server API (../shared/SERVER.md): assistants, threads, thread state and
 * history, and runs (streamed, waited, background, joined, cancelled, listed). Every handler answers JSON; refused
 * requests get {@code {"detail": ...}} with a 4xx status and never a stack trace.
 */
final class ServerApi {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();
  private static final int MAX_BODY_BYTES = 1 << 20;
  private static final Duration HEARTBEAT = Duration.ofSeconds(5);

  private final Map<String, Entrypoint<?, ?>> graphs;
  private final ThreadStore threads;
  private final RunRegistry runs;
  private final dev.fluxgraph.checkpoint.CheckpointSaver checkpointer;
  private final @Nullable String apiKey;
  private final Instant started = Instant.now();

  ServerApi(Map<String, Entrypoint<?, ?>> graphs, ThreadStore threads, RunStore runStore,
            dev.fluxgraph.checkpoint.CheckpointSaver checkpointer, @Nullable String apiKey) {
    this.checkpointer = checkpointer;
    this.graphs = Map.copyOf(graphs);
    this.threads = threads;
    this.runs = new RunRegistry(runStore);
    this.apiKey = apiKey;
  }

  void routes(HttpServerRoutes routes) {
    // Routes are tried in order, each a template match: the hot ones first.
    routes
        .post("/threads/{tid}/runs/stream", (request, response) -> stream(request, response, request.param("tid")))
        .post("/threads", handle((request, body) -> Mono.defer(() -> createThread(body))))
        .post("/threads/{tid}/runs/wait", (request, response) -> waitFor(request, response, request.param("tid")))
        .get("/ok", handle((request, body) -> Mono.just(JSON.createObjectNode().put("ok", true))))
        .post("/assistants/search", this::searchAssistants)
        .get("/assistants/{id}", handle((request, body) -> Mono.just(assistant(graphOf(request.param("id"))))))
        .post("/threads/search", handle((request, body) -> Mono.defer(() -> searchThreads(body))))
        .get("/threads/{tid}/state", handle((request, body) -> threadState(request.param("tid"))))
        .post("/threads/{tid}/history", handle((request, body) -> history(request.param("tid"), body)))
        .post("/threads/{tid}/state/checkpoint", handle((request, body) -> stateAt(request.param("tid"), body)))
        .post("/threads/{tid}/state", handle((request, body) -> updateState(request.param("tid"), body)))
        .post("/runs/stream", (request, response) -> stream(request, response, null))
        .post("/runs/wait", (request, response) -> waitFor(request, response, null))
        .post("/threads/{tid}/runs", handle((request, body) -> background(request.param("tid"), body)))
        .get("/threads/{tid}/runs", handle((request, body) -> Mono.defer(() -> runs.list(request.param("tid"),
                queryParam(request, "status"), intParam(request, "limit", 10), intParam(request, "offset", 0))
            .map(ServerApi::run).collectList().map(list -> {
              ArrayNode array = JSON.createArrayNode();
              list.forEach(array::add);
              return array;
            }))))
        .get("/threads/{tid}/runs/{rid}/stream", this::joinStream)
        .get("/threads/{tid}/runs/{rid}/join", handle((request, body) -> join(request.param("tid"),
            request.param("rid"))))
        .post("/threads/{tid}/runs/{rid}/cancel", handle((request, body) -> cancel(request.param("tid"),
            request.param("rid"), java.util.Objects.requireNonNullElse(queryParam(request, "action"), "interrupt"))))
        .get("/threads/{tid}/runs/{rid}", handle((request, body) ->
            runs.require(request.param("tid"), request.param("rid")).map(ServerApi::run)))
        .delete("/threads/{tid}/runs/{rid}", (request, response) -> guarded(request, response, body ->
            runs.delete(request.param("tid"), request.param("rid")).flatMap(existed -> existed
                ? response.status(204).send().then() : Mono.error(HttpProblem.notFound("run " + request.param("rid"))))))
        .get("/threads/{tid}", handle((request, body) -> threads.require(request.param("tid")).flatMap(this::thread)))
        .delete("/threads/{tid}", (request, response) -> guarded(request, response, body ->
            deleteThread(request.param("tid")).flatMap(existed -> existed ? response.status(204).send().then()
                : Mono.error(HttpProblem.notFound("thread " + request.param("tid"))))));
  }

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
      authorize(request);
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

  private Publisher<Void> searchAssistants(HttpServerRequest request, HttpServerResponse response) {
    return guarded(request, response, body -> {
      String graphId = body.path("graph_id").isTextual() ? body.get("graph_id").asText() : null;
      int limit = body.path("limit").asInt(10);
      int offset = body.path("offset").asInt(0);
      List<ObjectNode> all = graphs.keySet().stream().sorted()
          .filter(id -> graphId == null || graphId.equals(id))
          .map(id -> assistant(graphs.get(id))).toList();
      ArrayNode page = JSON.createArrayNode();
      all.stream().skip(offset).limit(limit).forEach(page::add);
      response.header("X-Pagination-Total", String.valueOf(all.size()));
      return json(response, 200, page);
    });
  }

  // ------------------------------------------------------------------------------------------ threads

  private Mono<JsonNode> createThread(JsonNode body) {
    String threadId = body.path("thread_id").isTextual() ? body.get("thread_id").asText()
        : UUID.randomUUID().toString();
    Map<String, Object> metadata = body.path("metadata").isObject()
        ? JSON.convertValue(body.get("metadata"), MAP) : Map.of();
    String ifExists = body.path("if_exists").asText("raise");
    return threads.create(threadId, metadata, ifExists).flatMap(this::thread);
  }

  private static final com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>> MAP =
      new com.fasterxml.jackson.core.type.TypeReference<>() { };

  private Mono<JsonNode> searchThreads(JsonNode body) {
    Map<String, Object> metadata = body.path("metadata").isObject()
        ? JSON.convertValue(body.get("metadata"), MAP) : Map.of();
    List<String> ids = new ArrayList<>();
    body.path("ids").forEach(id -> ids.add(id.asText()));
    String status = body.path("status").isTextual() ? body.get("status").asText() : null;
    return threads.search(metadata, status, ids, body.path("limit").asInt(10), body.path("offset").asInt(0))
        .concatMap(this::thread)
        .collectList()
        .map(list -> {
          ArrayNode result = JSON.createArrayNode();
          list.forEach(result::add);
          return result;
        });
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
    if (thread.graphId() == null) {
      return Mono.just(node);
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

  private Mono<JsonNode> threadState(String threadId) {
    return threads.require(threadId).flatMap(thread -> thread.graphId() == null ? Mono.just(emptyState(threadId))
        : graphs.get(thread.graphId()).getState(RunConfig.thread(threadId))
            .<JsonNode>map(this::state)
            .defaultIfEmpty(emptyState(threadId)));
  }

  private Mono<JsonNode> stateAt(String threadId, JsonNode body) {
    JsonNode id = body.path("checkpoint").path("checkpoint_id");
    if (!id.isTextual()) {
      return Mono.error(HttpProblem.invalid("checkpoint.checkpoint_id is required"));
    }
    return threads.require(threadId).flatMap(thread -> thread.graphId() == null
        ? Mono.error(HttpProblem.notFound("checkpoint " + id.asText()))
        : graphs.get(thread.graphId()).getState(RunConfig.thread(threadId).withCheckpointId(id.asText()))
            .<JsonNode>map(this::state)
            .onErrorMap(IllegalArgumentException.class, error -> HttpProblem.notFound("checkpoint " + id.asText())));
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
      Entrypoint<?, ?> graph = graphs.get(graphId);
      RunConfig config = RunConfig.thread(threadId);
      if (body.path("checkpoint_id").isTextual()) {
        config = config.withCheckpointId(body.get("checkpoint_id").asText());
      }
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
   * starts below that checkpoint, {@code checkpoint.checkpoint_id} at it; {@code metadata} keeps the checkpoints
   * whose metadata contains those entries.
   */
  private Mono<JsonNode> history(String threadId, JsonNode body) {
    int limit = body.path("limit").asInt(10);
    JsonNode before = body.path("before").isTextual() ? body.get("before")
        : body.path("before").path("configurable").path("checkpoint_id");
    JsonNode at = body.path("checkpoint").path("checkpoint_id");
    Map<String, Object> metadata = body.path("metadata").isObject()
        ? JSON.convertValue(body.get("metadata"), MAP) : Map.of();
    return threads.require(threadId).flatMap(thread -> {
      if (thread.graphId() == null) {
        return Mono.just(JSON.createArrayNode());
      }
      Entrypoint<?, ?> graph = graphs.get(thread.graphId());
      RunConfig config = RunConfig.thread(threadId);
      Flux<StateSnapshot> snapshots;
      if (before.isTextual()) {
        snapshots = graph.getStateHistory(config.withCheckpointId(before.asText()));
      } else if (at.isTextual()) {
        RunConfig from = config.withCheckpointId(at.asText());
        snapshots = graph.getState(from).flux().concatWith(graph.getStateHistory(from));
      } else {
        snapshots = graph.getStateHistory(config);
      }
      return snapshots
          .onErrorMap(IllegalArgumentException.class, error -> HttpProblem.notFound(error.getMessage()))
          .filter(snapshot -> snapshot.metadata().entrySet().containsAll(metadata.entrySet()))
          .take(Math.max(0, limit))
          .<JsonNode>map(this::state).collectList().map(states -> {
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

  private ObjectNode state(StateSnapshot snapshot) {
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
      wire.putNull("checkpoint");
      wire.putNull("state");
      wire.set("result", JSON.valueToTree(task.result()));
      wire.putArray("path").add("__pregel_push");
    }
    ObjectNode metadata = JSON.valueToTree(snapshot.metadata());
    metadata.putObject("parents");
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
    node.put("checkpoint_ns", "");
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
              : graphs.get(thread.graphId()).getState(RunConfig.thread(threadId))
                  .<JsonNode>map(state -> JSON.valueToTree(state.values()))
                  .defaultIfEmpty(NullNode.getInstance()));
        }));
  }

  /**
   * cancel: a run executing in this process is cancelled ({@code action=interrupt}: its finished work stays;
   * {@code rollback}: its checkpoints and its record are deleted too); a finished one is returned as it is.
   */
  private Mono<JsonNode> cancel(String threadId, String runId, String action) {
    if (!action.equals("interrupt") && !action.equals("rollback")) {
      return Mono.error(HttpProblem.invalid("action must be interrupt or rollback, was '" + action + "'"));
    }
    if (runs.live(threadId, runId).isPresent()) {
      return runs.cancel(threadId, runId)
          .flatMap(run -> (action.equals("rollback")
              ? rollBack(threadId, graphOf(run.assistantId), run).then(runs.delete(threadId, runId)).then()
              : Mono.<Void>empty())
              .then(threads.update(run.threadId, "idle", null, Map.of())).thenReturn(run(run)));
    }
    return runs.require(threadId, runId).flatMap(record -> record.finished() ? Mono.just((JsonNode) run(record))
        : Mono.error(new HttpProblem(409, "run " + runId + " is executing in another server process")));
  }

  /** Registers the run (see {@link RunRegistry#start} for a busy thread) and marks the thread busy. */
  private Mono<RunRegistry.Run> begin(String threadId, RunRequest run, JsonNode body, boolean markBusy) {
    Mono<RunRegistry.Run> registered = runs.start(UUID.randomUUID().toString(), threadId,
            Assistants.idOf(run.graphId()),
            body.path("metadata").isObject() ? JSON.convertValue(body.get("metadata"), MAP) : Map.of(),
            body.path("multitask_strategy").asText("reject"))
        .flatMap(started -> started.rolledBack == null ? Mono.just(started)
            : rollBack(threadId, run.graph(), started.rolledBack).thenReturn(started));
    return markBusy ? registered.flatMap(started -> markBusy(threadId, run).thenReturn(started)) : registered;
  }

  /** Marks the thread busy with the run's graph (a streamed run does this after sending its first event). */
  private Mono<Void> markBusy(String threadId, RunRequest run) {
    return threads.update(threadId, "busy", run.graphId(), Map.of("graph_id", run.graphId(),
        "assistant_id", Assistants.idOf(run.graphId()))).then();
  }

  /**
   * Rolls back a cancelled run (multitask_strategy rollback, cancel with action=rollback): deletes the checkpoints it
   * saved, so the thread is as it was before it. Its first checkpoint is the oldest created since it started; the
   * thread keeps that checkpoint's parent and older ones (nothing, when the run was the thread's first).
   * A write the cancelled run still had in flight may land afterwards; one against a deleted checkpoint is refused.
   */
  private Mono<Void> rollBack(String threadId, Entrypoint<?, ?> graph, RunRegistry.Run cancelled) {
    dev.fluxgraph.checkpoint.CheckpointSaver saver = graph.checkpointer().orElse(null);
    if (saver == null) {
      return Mono.empty(); // nothing was saved
    }
    return graph.getStateHistory(RunConfig.thread(threadId))
        .takeWhile(snapshot -> !snapshot.createdAt().isBefore(cancelled.createdAt))
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

  /** Runs to the end and records the outcome: the wait/join body, the run's and the thread's status. */
  private Mono<JsonNode> execute(RunRegistry.Run registered, RunRequest run) {
    RunConfig config = configOf(registered, run);
    return Mono.delay(run.delay()).then(Mono.defer(() -> run.command() != null ? run.graph().run(run.command(), config)
            : run.graph().run(run.input(), config)))
        .flatMap(result -> threads.update(registered.threadId, result.interrupted() ? "interrupted" : "idle", null,
                Map.of())
            .map(updated -> {
              JsonNode value;
              if (result.interrupted()) {
                ObjectNode node = JSON.createObjectNode();
                node.set("__interrupt__", JSON.valueToTree(result.interrupts()));
                value = node;
              } else {
                value = JSON.valueToTree(result.value());
              }
              registered.finish(RunRegistry.Status.SUCCESS, value);
              return value;
            }))
        .onErrorResume(error -> {
          boolean refused = error instanceof dev.fluxgraph.errors.InvalidCommandException
              || error instanceof dev.fluxgraph.errors.EmptyInputException;
          ObjectNode node = JSON.createObjectNode();
          node.putObject("__error__").put("error", error.getClass().getSimpleName())
              .put("message", String.valueOf(error.getMessage()));
          registered.finish(RunRegistry.Status.ERROR, node);
          return threads.update(registered.threadId, refused ? "idle" : "error", null, Map.of())
              .then(refused ? Mono.error(error) : Mono.just((JsonNode) node));
        });
  }

  private Mono<JsonNode> background(String threadId, JsonNode body) {
    RunRequest run = runRequest(body);
    return ready(threadId, false, run, body, true)
        .map(registered -> {
          registered.execution = finished(execute(registered, run), registered, run).subscribe(value -> { },
              error -> { });
          return run(registered);
        });
  }

  /**
   * The thread a run goes on, created when missing for stateless runs and with {@code if_not_exists: create}
   * (else 404), then the run registered on it.
   */
  private Mono<RunRegistry.Run> ready(String threadId, boolean stateless, RunRequest run, JsonNode body,
                                      boolean markBusy) {
    String ifNotExists = body.path("if_not_exists").asText("reject");
    if (!ifNotExists.equals("reject") && !ifNotExists.equals("create")) {
      return Mono.error(HttpProblem.invalid("if_not_exists must be reject or create, was '" + ifNotExists + "'"));
    }
    Mono<ThreadStore.ThreadRecord> thread = stateless || ifNotExists.equals("create")
        ? threads.create(threadId, Map.of(), "do_nothing") : threads.require(threadId);
    return thread.then(begin(threadId, run, body, markBusy));
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

  /** Deletes the thread's record and its checkpoints; emits whether the thread existed. */
  private Mono<Boolean> deleteThread(String threadId) {
    return threads.delete(threadId).flatMap(existed -> checkpointer.deleteThread(threadId).thenReturn(existed));
  }

  /**
   * A parsed run request.
   *
   * @param checkpointId  the checkpoint to start from instead of the thread's latest (time travel), or null
   * @param delay         how long to wait before starting ({@code after_seconds})
   * @param deleteThread  whether the thread is deleted once the run ends ({@code on_completion: delete}, the
   *                      default of stateless runs)
   */
  private record RunRequest(Entrypoint<Object, Object> graph, String graphId, @Nullable Object input,
                            @Nullable Command command, StreamOptions options, boolean wantsValues,
                            @Nullable Object context, Map<String, Object> metadata,
                            dev.fluxgraph.types.@Nullable Durability durability, @Nullable String checkpointId,
                            Duration delay, boolean deleteThread) {
  }

  private RunRequest runRequest(JsonNode body) {
    return runRequest(body, false);
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
    JsonNode metadata = body.path("metadata");
    if (!metadata.isMissingNode() && !metadata.isNull() && !metadata.isObject()) {
      throw HttpProblem.invalid("metadata must be an object");
    }
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
    JsonNode checkpoint = body.path("checkpoint_id").isTextual() ? body.get("checkpoint_id")
        : body.path("config").path("configurable").path("checkpoint_id");
    JsonNode after = body.path("after_seconds");
    if (!after.isMissingNode() && !after.isNull() && (!after.isNumber() || after.asDouble() < 0
        || after.asDouble() > 86_400)) {
      throw HttpProblem.invalid("after_seconds must be a number between 0 and 86400");
    }
    String onCompletion = body.path("on_completion").asText("");
    if (!onCompletion.isEmpty() && !onCompletion.equals("delete") && !onCompletion.equals("keep")) {
      throw HttpProblem.invalid("on_completion must be delete or keep, was '" + onCompletion + "'");
    }
    return new RunRequest(graph, graphIdOf(graph), input, command,
        new StreamOptions(modes, body.path("stream_subgraphs").asBoolean(false)), modes.contains(StreamMode.VALUES),
        context.isObject() ? JSON.convertValue(context, MAP) : null,
        metadata.isObject() ? JSON.convertValue(metadata, MAP) : Map.of(), durability,
        checkpoint.isTextual() ? checkpoint.asText() : null,
        Duration.ofMillis((long) (after.asDouble(0) * 1000)),
        onCompletion.equals("delete") || (stateless && onCompletion.isEmpty()));
  }

  private static boolean looksLikeId(String key) {
    return key.length() == 36 && key.charAt(8) == '-' && key.charAt(13) == '-';
  }

  private Publisher<Void> stream(HttpServerRequest request, HttpServerResponse response, @Nullable String threadId) {
    return guarded(request, response, body -> {
      boolean stateless = threadId == null;
      RunRequest run = runRequest(body, stateless);
      String tid = stateless ? UUID.randomUUID().toString() : threadId;
      Mono<RunRegistry.Run> ready = ready(tid, stateless, run, body, false);
      String onDisconnect = body.path("on_disconnect").asText("continue");
      if (!onDisconnect.equals("continue") && !onDisconnect.equals("cancel")) {
        throw HttpProblem.invalid("on_disconnect must be continue or cancel, was '" + onDisconnect + "'");
      }
      return ready.flatMap(registered -> respond(response, run, registered, onDisconnect.equals("cancel")));
    });
  }

  /** Streams the run as SSE: metadata first, one event per chunk, heartbeats, an error event on failure. */
  private Mono<Void> respond(HttpServerResponse response, RunRequest run, RunRegistry.Run registered,
                             boolean onDisconnectCancels) {
    String tid = registered.threadId;
    String runId = registered.runId;
    RunConfig config = configOf(registered, run);
    Flux<StreamChunk> chunks = run.command() != null
        ? run.graph().stream(run.command(), config, run.options())
        : run.graph().stream(run.input(), config, run.options());
    if (!run.delay().isZero()) {
      chunks = Mono.delay(run.delay()).thenMany(chunks);
    }
    // The metadata event does not wait for the thread's status write; the run itself does.
    chunks = markBusy(tid, run).thenMany(chunks);
    if (run.command() != null && run.command().kind() != Command.Kind.PROCEED && run.wantsValues()) {
      chunks = run.graph().getState(config).map(state -> new StreamChunk(StreamMode.VALUES, List.of(),
          state.values())).flux().concatWith(chunks);
    }
    AtomicLong eventId = new AtomicLong();
    boolean[] paused = {false};
    Flux<String> events = Flux.concat(
        Mono.fromCallable(() -> {
          Map<String, Object> metadata = new java.util.LinkedHashMap<>();
          metadata.put("run_id", runId);
          metadata.put("attempt", 1);
          return event("metadata", metadata, eventId);
        }),
        chunks.map(chunk -> {
          if (chunk.data() instanceof Map<?, ?> map && map.containsKey("__interrupt__")) {
            paused[0] = true;
          }
          String name = chunk.mode() == StreamMode.MESSAGES ? "messages" : chunk.mode().wireName();
          if (!chunk.namespace().isEmpty()) {
            name = name + "|" + String.join("|", chunk.namespace());
          }
          return event(name, chunk.data(), eventId);
        }))
        .concatWith(Mono.defer(() -> threads.update(tid, paused[0] ? "interrupted" : "idle", null, Map.of()))
            .doOnSuccess(done -> registered.finish(RunRegistry.Status.SUCCESS, NullNode.getInstance()))
            .then(Mono.empty()))
        .onErrorResume(error -> threads.update(tid, "error", null, Map.of())
            .onErrorResume(ignored -> Mono.empty())
            .doOnSuccess(done -> registered.finish(RunRegistry.Status.ERROR, NullNode.getInstance()))
            .then(Mono.just(event("error", Map.of("error", error.getClass().getSimpleName(),
                "message", String.valueOf(error.getMessage())), eventId))))
        ;
    // The run goes on whether or not anybody listens: its events are kept for joinStream, and a client that
    // disconnects cancels it only with on_disconnect=cancel.
    if (run.deleteThread()) {
      events = events.concatWith(Mono.defer(() -> deleteThread(tid)).onErrorResume(error -> Mono.empty())
          .then(Mono.empty()));
    }
    registered.execution = events.subscribe(registered::publish, registered::publishError, registered::publishEnd);
    Flux<String> live = registered.events(-1);
    if (onDisconnectCancels) {
      live = live.doOnCancel(() -> runs.cancel(tid, runId)
          .flatMap(cancelled -> threads.update(tid, "idle", null, Map.of()))
          .subscribe(done -> { }, error -> { }));
    }
    return response.status(HttpResponseStatus.OK)
        .header("Content-Type", "text/event-stream")
        .header("Cache-Control", "no-store")
        .header("Content-Location", "/threads/" + tid + "/runs/" + runId)
        .header("Location", "/threads/" + tid + "/runs/" + runId + "/stream")
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
   * joinStream: the run's events after {@code Last-Event-ID} (all of them without it, or with -1), then live;
   * {@code stream_mode} (a name or a JSON list) keeps those modes' events (with metadata and errors), and
   * {@code cancel_on_disconnect=true} cancels the run when this client leaves.
   */
  private Publisher<Void> joinStream(HttpServerRequest request, HttpServerResponse response) {
    return guarded(request, response, body -> {
      RunRegistry.Run run = runs.requireLive(request.param("tid"), request.param("rid"));
      String header = request.requestHeaders().get("Last-Event-ID");
      long after;
      try {
        after = header == null || header.isBlank() ? -1 : Long.parseLong(header.trim());
      } catch (NumberFormatException e) {
        throw HttpProblem.invalid("Last-Event-ID must be a number, was '" + header + "'");
      }
      java.util.Set<String> modes = joinModes(queryParam(request, "stream_mode"));
      Flux<String> events = run.events(after);
      if (!modes.isEmpty()) {
        events = events.filter(event -> {
          String name = event.substring("event: ".length(), event.indexOf('\r'));
          int bar = name.indexOf('|');
          String mode = bar < 0 ? name : name.substring(0, bar);
          return mode.equals("metadata") || mode.equals("error") || modes.contains(mode);
        });
      }
      String cancel = queryParam(request, "cancel_on_disconnect");
      if ("true".equals(cancel) || "1".equals(cancel)) {
        events = events.doOnCancel(() -> runs.cancel(run.threadId, run.runId)
            .flatMap(cancelled -> threads.update(run.threadId, "idle", null, Map.of()))
            .subscribe(done -> { }, error -> { }));
      }
      return response.status(HttpResponseStatus.OK)
          .header("Content-Type", "text/event-stream")
          .header("Cache-Control", "no-store")
          .sendString(withHeartbeats(events), StandardCharsets.UTF_8)
          .then();
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

  private static String event(String name, @Nullable Object data, AtomicLong ids) {
    try {
      return "event: " + name + "\r\ndata: " + JSON.writeValueAsString(data) + "\r\nid: " + ids.getAndIncrement()
          + "\r\n\r\n";
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return "event: error\r\ndata: {\"error\":\"SerializationException\",\"message\":\"a chunk is not JSON\"}\r\n\r\n";
    }
  }

  /**
   * runs/wait: the run's final value. An answer ready within {@link #HEARTBEAT} is an ordinary JSON response (a
   * refused command is then a 422); a longer run gets its 200 at once and a {@code "\n"} every heartbeat until the
   * value (a failure is then an {@code __error__} body). The run goes on if the client leaves.
   */
  private Publisher<Void> waitFor(HttpServerRequest request, HttpServerResponse response, @Nullable String threadId) {
    return guarded(request, response, body -> {
      boolean stateless = threadId == null;
      RunRequest run = runRequest(body, stateless);
      String tid = stateless ? UUID.randomUUID().toString() : threadId;
      return ready(tid, stateless, run, body, true).flatMap(registered -> {
        Sinks.One<JsonNode> outcome = Sinks.one();
        registered.execution = finished(execute(registered, run), registered, run)
            .subscribe(outcome::tryEmitValue, outcome::tryEmitError);
        return outcome.asMono().map(java.util.Optional::of)
            .timeout(HEARTBEAT, Mono.just(java.util.Optional.empty()))
            .flatMap(quick -> quick.isPresent() ? json(response, 200, quick.get())
                : response.status(200).header("Content-Type", "application/json")
                    .sendString(Flux.interval(HEARTBEAT).map(tick -> "\n").startWith("\n")
                        .takeUntilOther(outcome.asMono().onErrorResume(error -> Mono.empty()))
                        .concatWith(outcome.asMono().onErrorResume(error -> Mono.just(errorValue(error)))
                            .map(JsonNode::toString)), StandardCharsets.UTF_8)
                    .then());
      });
    });
  }

  private static JsonNode errorValue(Throwable error) {
    ObjectNode node = JSON.createObjectNode();
    node.putObject("__error__").put("error", error.getClass().getSimpleName())
        .put("message", String.valueOf(error.getMessage()));
    return node;
  }
}
