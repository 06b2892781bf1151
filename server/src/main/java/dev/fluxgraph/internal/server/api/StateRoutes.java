package dev.fluxgraph.internal.server.api;

import static dev.fluxgraph.internal.server.api.Fields.booleanField;
import static dev.fluxgraph.internal.server.api.Fields.booleanParam;
import static dev.fluxgraph.internal.server.api.Fields.nonNegative;
import static dev.fluxgraph.internal.server.api.Fields.optionalMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.internal.EntrypointAccess;
import dev.fluxgraph.internal.GraphDefinition;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.internal.server.ServedGraphs;
import dev.fluxgraph.internal.server.storage.ThreadStore;
import dev.fluxgraph.internal.server.storage.ThreadStore.ThreadRecord;
import dev.fluxgraph.types.FluxgraphJson;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.TaskState;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A thread's state: {@code GET /threads/{id}/state} (the latest), at a checkpoint ({@code POST .../state/checkpoint},
 * {@code GET .../state/{checkpoint_id}}), {@code POST .../state} (update), {@code PATCH .../state} (its metadata) and
 * {@code POST .../history}.
 */
final class StateRoutes {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();
  private static final String TAG = "Threads";

  private final Http http;
  private final ServedGraphs graphs;
  private final ThreadStore threads;

  StateRoutes(Http http, ServedGraphs graphs, ThreadStore threads) {
    this.http = http;
    this.graphs = graphs;
    this.threads = threads;
  }

  void register(Routes routes) {
    routes
        .get("/threads/{tid}/state", Routes.Doc.of(TAG, "Get Thread State").query("subgraphs", Schemas.BOOLEAN)
            .answer(Schemas.THREAD_STATE), http.handle((request, body) -> threadState(request.param("tid"),
            booleanParam(request, "subgraphs"))))
        .post("/threads/{tid}/history", Routes.Doc.of(TAG, "Get Thread History").body(Schemas.HISTORY)
            .answer(Schemas.THREAD_STATES), http.handle((request, body) -> history(request.param("tid"), body)))
        .post("/threads/{tid}/state/checkpoint", Routes.Doc.of(TAG, "Get Thread State At Checkpoint")
            .body(Schemas.CHECKPOINT_REQUEST).answer(Schemas.THREAD_STATE),
            http.handle((request, body) -> stateAtCheckpoint(request.param("tid"), body)))
        .get("/threads/{tid}/state/{cid}", Routes.Doc.of(TAG, "Get Thread State At Checkpoint")
            .query("subgraphs", Schemas.BOOLEAN).answer(Schemas.THREAD_STATE),
            http.handle((request, body) -> stateAt(request.param("tid"),
            JSON.getNodeFactory().textNode(request.param("cid")), "", booleanParam(request, "subgraphs"))))
        .post("/threads/{tid}/state", Routes.Doc.of(TAG, "Update Thread State").body(Schemas.STATE_UPDATE)
            .answer(Schemas.STATE_UPDATED), http.handle((request, body) -> updateState(request.param("tid"), body)))
        .patch("/threads/{tid}/state", Routes.Doc.of(TAG, "Patch Thread State").body(Schemas.STATE_PATCH)
            .answer(null), (request, response) -> http.guarded(request, response, body ->
            patchState(request.param("tid"), body).then(response.status(204).send())));
  }

  /**
   * {@code PATCH /threads/{id}/state}: merges {@code metadata} into the metadata of the thread's latest checkpoint, or
   * of the one {@code checkpoint} ({@code {checkpoint_id, checkpoint_ns}}) or {@code checkpoint_id} names, through
   * the graph's checkpointer ({@link CheckpointSaver#updateMetadata}); no new checkpoint is made. 404 for an unknown
   * thread or checkpoint, 422 when the checkpointer cannot change metadata.
   */
  private Mono<Void> patchState(String threadId, JsonNode body) {
    return Mono.defer(() -> {
      Fields.onlyKnown(body, "metadata", "checkpoint", "checkpoint_id");
      if (!body.path("metadata").isObject()) {
        throw HttpProblem.invalid("metadata is required: an object of the entries to merge into the checkpoint's "
            + "metadata");
      }
      Map<String, Object> metadata = optionalMap(body, "metadata");
      JsonNode checkpoint = body.path("checkpoint");
      if (!checkpoint.isMissingNode() && !checkpoint.isNull() && !checkpoint.isObject()) {
        throw HttpProblem.invalid("checkpoint must be an object {checkpoint_id, checkpoint_ns}");
      }
      JsonNode id = body.hasNonNull("checkpoint_id") ? body.get("checkpoint_id") : checkpoint.path("checkpoint_id");
      if (!id.isMissingNode() && !id.isNull() && !id.isTextual()) {
        throw HttpProblem.invalid("checkpoint_id must be a string, was " + id);
      }
      String checkpointId = id.isTextual() ? id.asText() : null;
      String namespace = namespaceOf(checkpoint);
      String what = checkpointId == null ? "checkpoint of thread " + threadId
          : "checkpoint " + checkpointId + " of thread " + threadId;
      return threads.require(threadId).flatMap(thread -> {
        if (thread.graphId() == null) {
          return Mono.error(HttpProblem.notFound(what + " (no graph has run on it yet)"));
        }
        CheckpointSaver saver = graphOf(thread).checkpointer().orElseThrow(() -> HttpProblem.invalid("graph "
            + thread.graphId() + " keeps no checkpoints: there is no state metadata to patch"));
        if (!namespace.isEmpty()) {
          return refuseNestedPatch(thread, namespace, checkpointId, what);
        }
        return saver.updateMetadata(threadId, namespace, checkpointId, metadata)
            .onErrorMap(UnsupportedOperationException.class, error -> HttpProblem.invalid("the state's metadata "
                + "cannot be patched: " + error.getMessage()))
            .switchIfEmpty(Mono.error(() -> HttpProblem.notFound(what
                + (namespace.isEmpty() ? "" : " in checkpoint_ns '" + namespace + "'"))))
            .then();
      });
    });
  }

  /**
   * A patch of a nested graph's or entrypoint's state: 404 when there is no such state, else 422, since its states are
   * writes of one of the thread's checkpoints (docs/design.md, "Nested state"), with no metadata of their own to
   * change.
   */
  private Mono<Void> refuseNestedPatch(ThreadRecord thread, String namespace, @Nullable String checkpointId,
                                       String what) {
    RunConfig config = RunConfig.thread(thread.threadId()).withCheckpointNamespace(namespace);
    return graphOf(thread).getState(checkpointId == null ? config : config.withCheckpointId(checkpointId), false)
        .onErrorMap(IllegalArgumentException.class, error -> HttpProblem.notFound(error.getMessage()))
        .switchIfEmpty(Mono.error(() -> HttpProblem.notFound(what + " in checkpoint_ns '" + namespace + "'")))
        .flatMap(state -> Mono.error(HttpProblem.invalid("the metadata of a nested graph's or entrypoint's state "
            + "(checkpoint_ns '" + namespace + "') cannot be patched: its states are kept in one of the thread's "
            + "checkpoints, without metadata of their own; patch that checkpoint (no checkpoint_ns) instead")));
  }

  private Mono<JsonNode> threadState(String threadId, boolean subgraphs) {
    return threads.require(threadId).flatMap(thread -> thread.graphId() == null ? Mono.just(emptyState(threadId))
        : graphOf(thread).getState(RunConfig.thread(threadId), true)
            .<JsonNode>map(snapshot -> state(snapshot, subgraphs))
            .defaultIfEmpty(emptyState(threadId)));
  }

  /**
   * {@code POST .../state/checkpoint}: the state at {@code checkpoint.checkpoint_id}, or the latest without one (as
   * the reference, whose schema has it optional: RemoteGraph's {@code getState} sends only the thread id); with a
   * {@code checkpoint_ns}, that nested graph's or entrypoint's state. A {@code checkpoint.thread_id} must be the
   * path's.
   */
  private Mono<JsonNode> stateAtCheckpoint(String threadId, JsonNode body) {
    Fields.onlyKnown(body, "checkpoint", "subgraphs");
    JsonNode checkpoint = body.path("checkpoint");
    if (!checkpoint.isMissingNode() && !checkpoint.isNull() && !checkpoint.isObject()) {
      return Mono.error(HttpProblem.invalid("checkpoint must be an object"));
    }
    JsonNode thread = checkpoint.path("thread_id");
    if (!thread.isMissingNode() && !thread.isNull() && !(thread.isTextual() && thread.asText().equals(threadId))) {
      return Mono.error(HttpProblem.invalid("checkpoint.thread_id " + thread + " is not the thread of the path ("
          + threadId + ")"));
    }
    JsonNode id = checkpoint.path("checkpoint_id");
    String namespace = namespaceOf(checkpoint);
    boolean subgraphs = booleanField(body, "subgraphs");
    if (!id.isMissingNode() && !id.isNull()) {
      return stateAt(threadId, id, namespace, subgraphs);
    }
    if (namespace.isEmpty()) {
      return threadState(threadId, subgraphs);
    }
    String what = "checkpoint_ns '" + namespace + "'";
    return threads.require(threadId).flatMap(found -> found.graphId() == null
        ? Mono.error(HttpProblem.notFound(what))
        : graphOf(found).getState(RunConfig.thread(threadId).withCheckpointNamespace(namespace), true)
            .<JsonNode>map(snapshot -> state(snapshot, subgraphs))
            .onErrorMap(IllegalArgumentException.class, error -> HttpProblem.notFound(error.getMessage()))
            .switchIfEmpty(Mono.error(() -> HttpProblem.notFound(what))));
  }

  /**
   * The thread's state at a checkpoint ({@code POST .../state/checkpoint} and {@code GET .../state/{id}}); with a
   * {@code checkpoint_ns}, that nested graph's or entrypoint's state as of the checkpoint.
   */
  private Mono<JsonNode> stateAt(String threadId, JsonNode id, String namespace, boolean subgraphs) {
    if (!id.isTextual()) {
      return Mono.error(HttpProblem.invalid("checkpoint.checkpoint_id must be a string"));
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

  private Mono<JsonNode> updateState(String threadId, JsonNode body) {
    Fields.onlyKnown(body, "values", "checkpoint_id", "checkpoint", "as_node");
    return threads.require(threadId).flatMap(thread -> {
      if (thread.status().equals("busy")) {
        return Mono.error(new HttpProblem(409, "thread " + threadId + " has a pending or running run"));
      }
      String graphId = thread.graphId() != null ? thread.graphId()
          : body.path("as_node").isTextual() && graphs.get(body.get("as_node").asText()) != null
              ? body.get("as_node").asText() : null;
      if (graphId == null) {
        return Mono.error(HttpProblem.invalid("no graph has run on thread " + threadId + " yet; run one first"));
      }
      Entrypoint<?, ?> graph = thread.graphId() != null ? graphs.ofThread(thread) : graphs.ofThread(threadId, graphId);
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
      String asNode = asNode(graph, graphId, body.path("as_node").isTextual() ? body.get("as_node").asText() : null);
      return graph.updateState(config, value, asNode)
          .onErrorMap(IllegalArgumentException.class, error -> HttpProblem.invalid(error.getMessage()))
          // the thread's status follows its new state, as after a run: paused while something is next
          .flatMap(updated -> graph.getState(RunConfig.thread(threadId))
              .map(state -> state.next().isEmpty() && state.interrupts().isEmpty() ? "idle" : "interrupted")
              .defaultIfEmpty("idle")
              .flatMap(status -> threads.update(threadId, status, graphId, Map.of())).thenReturn(updated))
          .map(updated -> {
            ObjectNode node = JSON.createObjectNode();
            node.set("checkpoint", checkpoint(updated));
            ((ObjectNode) node.get("checkpoint")).remove("checkpoint_map");
            return (JsonNode) node;
          });
    });
  }

  /**
   * The node an update names ({@code as_node}) as the engine takes it: null for the graph's own id or name, unless
   * that is also one of its nodes (a graph served as {@code agent} with a node {@code agent}).
   */
  static @Nullable String asNode(Entrypoint<?, ?> graph, String graphId, @Nullable String asNode) {
    if (asNode == null || !asNode.equals(graphId) && !asNode.equals(graph.name())) {
      return asNode;
    }
    GraphDefinition definition = EntrypointAccess.get().spec(graph).graph();
    return definition != null && definition.nodes().containsKey(asNode) ? asNode : null;
  }

  /**
   * history: newest first, at most {@code limit}; {@code before} (an id or {@code {configurable:{checkpoint_id}}})
   * starts below that checkpoint, {@code checkpoint.checkpoint_id} at it; {@code checkpoint.checkpoint_ns} lists a
   * nested graph's states instead; {@code metadata} keeps the checkpoints whose metadata contains those entries;
   * {@code subgraphs} adds the nested states to the tasks.
   */
  private Mono<JsonNode> history(String threadId, JsonNode body) {
    Fields.onlyKnown(body, "limit", "before", "metadata", "checkpoint", "subgraphs");
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
   * The wire ThreadState of a snapshot. Each task: {@code path ["__pregel_pull", name]} (an entrypoint or a node) or
   * {@code ["__pregel_push", index]} (a graph's {@code Send});
   * {@code checkpoint} addresses the nested graph or entrypoint it runs ({@code thread_id} and {@code checkpoint_ns},
   * never a {@code checkpoint_id}: the reference's task config names the namespace only), and with {@code subgraphs}
   * {@code state} is the ThreadState of that one when it is paused or failed, recursively, its {@code checkpoint}
   * then null (the state has its own), as the reference's; such a nested state has no {@code interrupts} key (the
   * reference's has none; its tasks carry them).
   */
  private ObjectNode state(StateSnapshot snapshot, boolean subgraphs) {
    return state(snapshot, subgraphs, false);
  }

  private ObjectNode state(StateSnapshot snapshot, boolean subgraphs, boolean nestedInTask) {
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
      boolean shown = subgraphs && nested != null;
      if (task.checkpoint() == null || shown) {
        wire.putNull("checkpoint");
      } else { // as the reference: {thread_id, checkpoint_ns}
        ObjectNode checkpoint = checkpoint(task.checkpoint());
        checkpoint.remove("checkpoint_map");
        checkpoint.remove("checkpoint_id");
        wire.set("checkpoint", checkpoint);
      }
      wire.set("state", shown ? state(nested, true, true) : NullNode.getInstance());
      wire.set("result", JSON.valueToTree(task.result()));
      wire.set("path", JSON.valueToTree(task.path()));
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
    if (!nestedInTask) {
      node.set("interrupts", JSON.valueToTree(snapshot.interrupts()));
    }
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

  /** The graph that ran on the thread; 409 when this server does not serve it (see {@link ServedGraphs#ofThread}). */
  private Entrypoint<?, ?> graphOf(ThreadRecord thread) {
    return graphs.ofThread(thread);
  }
}
