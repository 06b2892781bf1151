package dev.fluxgraph.internal.server.api;

import static dev.fluxgraph.internal.server.api.Fields.nonNegative;
import static dev.fluxgraph.internal.server.api.Fields.oneOf;
import static dev.fluxgraph.internal.server.api.Fields.optionalMap;
import static dev.fluxgraph.internal.server.api.Fields.optionalText;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.checkpoint.Checkpoint;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.CheckpointTuple;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.internal.server.ServedGraphs;
import dev.fluxgraph.internal.server.runs.Run;
import dev.fluxgraph.internal.server.runs.RunLifecycle;
import dev.fluxgraph.internal.server.runs.ThreadStream;
import dev.fluxgraph.internal.server.sse.Sse;
import dev.fluxgraph.internal.server.storage.CronStore;
import dev.fluxgraph.internal.server.storage.ThreadStore;
import dev.fluxgraph.internal.server.storage.ThreadStore.ThreadRecord;
import dev.fluxgraph.types.FluxgraphJson;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.server.ApiResponse;
import dev.fluxgraph.types.TaskState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@code /threads}: create, get, patch (metadata), delete, copy, prune, search and count threads, and the thread's
 * stream. A thread's state and history
 * are {@link StateRoutes}; its runs {@link RunRoutes}.
 */
final class ThreadRoutes {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();
  private static final String TAG = "Threads";
  static final List<String> THREAD_STATUSES = List.of("idle", "busy", "interrupted", "error");

  private final Http http;
  private final ServedGraphs graphs;
  private final ThreadStore threads;
  private final RunLifecycle runs;
  private final CronStore crons;

  ThreadRoutes(Http http, ServedGraphs graphs, ThreadStore threads, RunLifecycle runs, CronStore crons) {
    this.http = http;
    this.graphs = graphs;
    this.threads = threads;
    this.runs = runs;
    this.crons = crons;
  }

  void register(Routes routes) {
    routes
        .post("/threads", Routes.Doc.of(TAG, "Create Thread").body(Schemas.THREAD_CREATE).answer(Schemas.THREAD),
            http.handle((request, body) -> Mono.defer(() -> createThread(body))))
        .post("/threads/search", Routes.Doc.of(TAG, "Search Threads").body(Schemas.THREAD_SEARCH)
            .answer(Schemas.THREADS), http.handle((request, body) -> Mono.defer(() -> searchThreads(body))))
        .post("/threads/count", Routes.Doc.of(TAG, "Count Threads").body(Schemas.THREAD_COUNT)
            .answer(Schemas.INTEGER), http.handle((request, body) -> Mono.defer(() -> countThreads(body))))
        .post("/threads/prune", Routes.Doc.of(TAG, "Prune Threads").body(Schemas.THREAD_PRUNE)
            .answer(Schemas.PRUNED), http.handle((request, body) -> Mono.defer(() -> pruneThreads(body))))
        // PATCH /threads/{id}, a trailing slash allowed, the id decoded
        .route(request -> request.method().equals("PATCH") && threadOfPath(request) != null, "PATCH",
            "/threads/{tid}", Routes.Doc.of(TAG, "Patch Thread").body(Schemas.THREAD_PATCH).answer(Schemas.THREAD),
            http.handle((request, body) -> Mono.defer(() -> patchThread(Objects.requireNonNull(threadOfPath(request)),
                body))))
        .post("/threads/{tid}/copy", Routes.Doc.of(TAG, "Copy Thread").answer(Schemas.THREAD),
            http.handle((request, body) -> copyThread(request.param("tid"))))
        .get("/threads/{tid}/stream", Routes.Doc.of(TAG, "Join Thread Stream")
            .query("stream_mode", Map.of("anyOf", List.of(Map.of("type", "string", "enum", List.of("run_modes",
                "lifecycle")), Map.of("type", "string", "description", "a JSON list of modes"))))
            .query("stream_modes", Map.of("type", "string", "description", "stream_mode's other name"))
            .header("Last-Event-ID", Map.of("type", "string", "description", "an id this stream sent "
                + "(<run_id>:<n>), or - for the thread's runs from the oldest kept"))
            .events("Server-sent events of the thread's runs, one after the other, each followed by a metadata "
                + "event {run_id, status: run_done}; ids <run_id>:<n>; open until the client leaves"),
            (request, response) -> http.guarded(request, response, body ->
            joinThreadStream(request, response)))
        .get("/threads/{tid}", Routes.Doc.of(TAG, "Get Thread").answer(Schemas.THREAD),
            http.handle((request, body) -> threads.require(request.param("tid"))
            .flatMap(this::thread)))
        .delete("/threads/{tid}", Routes.Doc.of(TAG, "Delete Thread").answer(null),
            (request, response) -> http.guarded(request, response, body ->
            runs.deleteThread(request.param("tid")).flatMap(existed -> crons.deleteThread(request.param("tid"))
                .thenReturn(existed)).flatMap(existed -> existed ? response.status(204).send()
                : Mono.error(HttpProblem.notFound("thread " + request.param("tid"))))));
  }

  private Mono<JsonNode> createThread(JsonNode body) {
    Fields.onlyKnown(body, "metadata", "thread_id", "if_exists", "supersteps", "ttl");
    String given = optionalText(body, "thread_id");
    if (given != null && given.isBlank()) {
      throw HttpProblem.invalid("thread_id must not be blank");
    }
    String threadId = given != null ? given : UUID.randomUUID().toString();
    Map<String, Object> metadata = optionalMap(body, "metadata");
    String ifExists = Objects.requireNonNullElse(optionalText(body, "if_exists"), "raise");
    if (!ifExists.equals("raise") && !ifExists.equals("do_nothing")) {
      throw HttpProblem.invalid("if_exists must be raise or do_nothing, was '" + ifExists + "'");
    }
    Duration ttl = ttl(body.path("ttl"));
    List<Superstep> supersteps = supersteps(body.path("supersteps"), metadata);
    Mono<ThreadRecord> created = threads.create(threadId, metadata, ifExists);
    if (ttl != null) {
      created = created.flatMap(thread -> threads.setTtl(thread.threadId(), ttl).thenReturn(thread));
    }
    if (!supersteps.isEmpty()) {
      created = created.flatMap(thread -> applySupersteps(thread, supersteps));
    }
    return created.flatMap(this::thread);
  }

  /** One update of a thread's state, made as if by {@code asNode} (null: the graph's own input). */
  private record Superstep(Entrypoint<?, ?> graph, String graphId, Object values, @Nullable String asNode) {
  }

  /**
   * {@code threads.create}'s {@code supersteps}: the state updates a new thread starts with, each applied as
   * {@code POST /threads/{id}/state} would, in order, by the graph {@code metadata.graph_id} names. One update per
   * superstep: several writers in one step are refused (422) rather than applied one after another.
   */
  private List<Superstep> supersteps(JsonNode supersteps, Map<String, Object> metadata) {
    List<Superstep> parsed = new ArrayList<>();
    if (supersteps.isMissingNode() || supersteps.isNull()) {
      return parsed;
    }
    if (!supersteps.isArray()) {
      throw HttpProblem.invalid("supersteps must be a list of {updates: [{values, as_node}]}");
    }
    if (supersteps.isEmpty()) {
      return parsed;
    }
    Object graphId = metadata.get("graph_id");
    if (!(graphId instanceof String id) || graphs.get(id) == null) {
      throw HttpProblem.invalid("supersteps need metadata.graph_id naming a served graph, was " + graphId);
    }
    Entrypoint<?, ?> graph = graphs.ofThread("", id);
    for (int i = 0; i < supersteps.size(); i++) {
      JsonNode updates = supersteps.get(i).path("updates");
      if (!updates.isArray() || updates.size() != 1) {
        throw HttpProblem.invalid("supersteps[" + i + "].updates must hold one update (several writers in one "
            + "superstep are not supported), has " + (updates.isArray() ? updates.size() : updates));
      }
      JsonNode update = updates.get(0);
      if (update.hasNonNull("command")) {
        throw HttpProblem.invalid("supersteps[" + i + "].updates[0].command is not supported; send values and "
            + "as_node");
      }
      Object values;
      try {
        values = JSON.convertValue(update.path("values"), JSON.constructType(graph.outputType()));
      } catch (IllegalArgumentException e) {
        throw HttpProblem.invalid("supersteps[" + i + "].updates[0].values: " + e.getMessage());
      }
      String asNode = StateRoutes.asNode(graph, id, update.path("as_node").isTextual()
          ? update.get("as_node").asText() : null);
      parsed.add(new Superstep(graph, id, values, asNode));
    }
    return parsed;
  }

  private Mono<ThreadRecord> applySupersteps(ThreadRecord thread, List<Superstep> supersteps) {
    String threadId = thread.threadId();
    return Flux.fromIterable(supersteps)
        .concatMap(step -> step.graph().updateState(RunConfig.thread(threadId), step.values(), step.asNode())
            .onErrorMap(IllegalArgumentException.class, error -> HttpProblem.invalid("supersteps: "
                + error.getMessage())))
        .then(threads.update(threadId, "idle", supersteps.get(0).graphId(), Map.of()))
        .onErrorResume(error -> runs.deleteThread(threadId).then(Mono.error(error))); // all or nothing
  }

  /**
   * {@code POST /threads/prune}: with {@code strategy: delete} (the default) deletes the threads named as
   * {@code DELETE /threads/{id}} does; with {@code keep_latest} keeps each thread with its latest state only, deleting
   * its older checkpoints ({@link CheckpointSaver#pruneToLatest}: the newest of each namespace stays, so a paused run
   * can still be resumed). Threads that do not exist are skipped; emits {@code {"pruned_count": n}}, the threads
   * pruned.
   */
  private Mono<JsonNode> pruneThreads(JsonNode body) {
    Fields.onlyKnown(body, "thread_ids", "strategy");
    String strategy = oneOf(body, "strategy", "delete", "delete", "keep_latest");
    JsonNode ids = body.path("thread_ids");
    if (!ids.isArray()) {
      throw HttpProblem.invalid("thread_ids must be a list of thread ids");
    }
    List<String> threadIds = new ArrayList<>();
    for (JsonNode id : ids) {
      if (!id.isTextual()) {
        throw HttpProblem.invalid("thread_ids must be a list of strings, has " + id);
      }
      threadIds.add(id.asText());
    }
    Flux<String> unique = Flux.fromIterable(new LinkedHashSet<>(threadIds));
    Flux<Boolean> pruned = strategy.equals("keep_latest") ? unique.concatMap(this::keepLatest)
        : unique.concatMap(id -> runs.deleteThread(id).flatMap(existed -> crons.deleteThread(id).thenReturn(existed)));
    return pruned.filter(existed -> existed).count()
        .map(count -> (JsonNode) JSON.createObjectNode().put("pruned_count", count));
  }

  /** Deletes the thread's checkpoints but its latest; emits whether the thread exists. */
  private Mono<Boolean> keepLatest(String threadId) {
    return threads.get(threadId).flatMap(thread -> {
      // a graph this server does not serve is a 409 (graphOf), as for the thread's state
      CheckpointSaver saver = thread.graphId() == null ? null : graphOf(thread).checkpointer().orElse(null);
      if (saver == null) {
        return Mono.just(true); // no graph ran on it, or one that keeps no checkpoints: nothing older to delete
      }
      return saver.pruneToLatest(threadId)
          .onErrorMap(UnsupportedOperationException.class, error -> HttpProblem.invalid("strategy keep_latest: "
              + error.getMessage()))
          .thenReturn(true);
    }).defaultIfEmpty(false);
  }

  /** The thread stream's modes: {@code run_modes} (every event of its runs), {@code lifecycle} (starts and ends). */
  static final List<String> THREAD_STREAM_MODES = List.of("run_modes", "lifecycle", "state_update");

  /**
   * {@code GET /threads/{id}/stream} (the SDK's {@code threads.joinStream}): the thread's runs as SSE, one after the
   * other, live, open until the client leaves ({@link RunLifecycle#threadEvents}). Without {@code Last-Event-ID} it
   * starts with the runs pending or running now; {@code -} replays the thread's kept runs from the oldest; an id it
   * sent ({@code <run_id>:<seq>}) goes on after that event. {@code stream_mode} (or {@code stream_modes}: a name or a
   * JSON list) is {@code run_modes} (the default: every event), or {@code lifecycle} (only each run's {@code metadata}
   * events, its start and its {@code run_done} end); {@code state_update} is refused, as state updates are not
   * published as events here.
   */
  private Mono<Void> joinThreadStream(Request request, ApiResponse response) {
    return Mono.defer(() -> {
      String threadId = request.param("tid");
      boolean lifecycleOnly = threadStreamModes(request).equals(Set.of("lifecycle"));
      String header = request.header("Last-Event-ID");
      Flux<Run.Event> events;
      if (header == null || header.isBlank()) {
        events = runs.threadEvents(threadId, ThreadStream.Start.NOW, null, -1);
      } else if (header.trim().equals("-")) {
        events = runs.threadEvents(threadId, ThreadStream.Start.FIRST, null, -1);
      } else {
        String id = header.trim();
        int colon = id.lastIndexOf(':');
        long after;
        try {
          after = colon < 1 ? -2 : id.substring(colon + 1).equals("done") ? Long.MAX_VALUE
              : Long.parseLong(id.substring(colon + 1));
        } catch (NumberFormatException e) {
          after = -2;
        }
        if (after < -1) {
          throw HttpProblem.invalid("Last-Event-ID must be an id this thread stream sent (<run_id>:<n>), or - for "
              + "the thread's runs from the oldest, was '" + header + "'");
        }
        events = runs.threadEvents(threadId, ThreadStream.Start.AFTER, id.substring(0, colon), after);
      }
      // the thread checked before the answer starts: an unknown thread is a 404, not an empty stream
      // a comment first, so that the answer's headers go out before the thread's next run (an idle thread is quiet)
      Flux<String> framed = events.filter(event -> !lifecycleOnly || event.name().equals("metadata"))
          .map(Run.Event::text).startWith(": joined\r\n\r\n");
      return threads.require(threadId).then(Mono.defer(() -> Sse.send(response, framed)));
    });
  }

  /** The thread stream's {@code stream_mode} (or {@code stream_modes}) query value; {@code run_modes} when absent. */
  private static Set<String> threadStreamModes(Request request) {
    String value = Fields.queryParam(request, "stream_mode");
    if (value == null) {
      value = Fields.queryParam(request, "stream_modes");
    }
    if (value == null || value.isBlank()) {
      return Set.of("run_modes");
    }
    JsonNode parsed;
    try {
      parsed = value.trim().startsWith("[") ? JSON.readTree(value) : JSON.getNodeFactory().textNode(value.trim());
    } catch (JsonProcessingException e) {
      throw HttpProblem.invalid("stream_mode must be a mode or a JSON list of modes, was '" + value + "'");
    }
    Set<String> modes = new HashSet<>();
    for (JsonNode mode : parsed.isArray() ? parsed : List.of(parsed)) {
      if (!mode.isTextual() || !THREAD_STREAM_MODES.contains(mode.asText())) {
        throw HttpProblem.invalid("stream_mode of a thread stream must be run_modes or lifecycle, was " + mode);
      }
      if (mode.asText().equals("state_update")) {
        throw HttpProblem.invalid("stream_mode state_update is not supported: state updates are not published as "
            + "events; read GET /threads/{thread_id}/state after a run");
      }
      modes.add(mode.asText());
    }
    return modes.isEmpty() ? Set.of("run_modes") : modes;
  }

  private static final Pattern THREAD_PATH = Pattern.compile("/threads/([^/]+)/?");

  /** The thread id of a {@code /threads/{id}} path, or null for another path. */
  private static @Nullable String threadOfPath(Request request) {
    Matcher matcher = THREAD_PATH.matcher(request.path());
    return matcher.matches() ? matcher.group(1) : null;
  }

  /**
   * {@code POST /threads/{id}/copy}: a new thread with the same metadata, status (idle for a busy thread: no run
   * runs on the copy) and checkpoints, pending writes included, so the copy can be resumed or forked on its own.
   */
  private Mono<JsonNode> copyThread(String threadId) {
    return threads.require(threadId).flatMap(thread -> {
      String copyId = UUID.randomUUID().toString();
      CheckpointSaver saver = thread.graphId() == null ? null
          : graphOf(thread).checkpointer().orElse(null);
      Mono<Void> checkpoints = saver == null ? Mono.empty()
          : saver.list(threadId, "", null, Integer.MAX_VALUE).collectList().flatMap(tuples -> {
            List<CheckpointTuple> oldestFirst = new ArrayList<>(tuples);
            Collections.reverse(oldestFirst);
            return Flux.fromIterable(oldestFirst).concatMap(tuple -> {
              Checkpoint original = tuple.checkpoint();
              // the run metadata names the thread: the copy's, as the reference's copy says
              Map<String, Object> metadata = new LinkedHashMap<>(original.metadata());
              metadata.computeIfPresent("thread_id", (key, value) -> copyId);
              Checkpoint copy = new Checkpoint(copyId,
                  original.namespace(), original.id(), original.parentId(), original.createdAt(),
                  metadata, original.values());
              return saver.put(copy).then(tuple.writes().isEmpty() ? Mono.empty()
                  : saver.putWrites(copyId, original.namespace(), original.id(), tuple.writes()));
            }).then();
          });
      String status = thread.status().equals("busy") ? "idle" : thread.status();
      return threads.create(copyId, thread.metadata(), "raise")
          .then(checkpoints)
          .then(threads.update(copyId, status, thread.graphId(), Map.of(), thread.configurable()))
          .flatMap(this::thread);
    });
  }

  /**
   * A thread's {@code ttl}: {@code {"strategy": "delete", "ttl": minutes}} (the JS client's shape for a number), or
   * null for none; the thread is deleted that long after its last update.
   */
  private static @Nullable Duration ttl(JsonNode ttl) {
    if (ttl.isMissingNode() || ttl.isNull()) {
      return null;
    }
    JsonNode minutes = ttl.isObject() ? ttl.path("ttl") : ttl;
    if (ttl.isObject()) {
      Fields.onlyKnown(ttl, "strategy", "ttl");
      String strategy = ttl.path("strategy").isMissingNode() ? "delete" : ttl.path("strategy").asText("");
      if (!strategy.equals("delete")) {
        throw HttpProblem.invalid("ttl.strategy must be delete, was " + ttl.get("strategy"));
      }
    }
    if (!minutes.isNumber() || !(minutes.asDouble() > 0) || Double.isInfinite(minutes.asDouble())) {
      throw HttpProblem.invalid("ttl.ttl must be a positive number of minutes, was " + minutes);
    }
    return Duration.ofMillis(Math.max(1, Math.round(minutes.asDouble() * 60_000)));
  }

  /** {@code PATCH /threads/{id}}: merges {@code metadata} into the thread's; {@code ttl} sets its time to live. */
  private Mono<JsonNode> patchThread(String threadId, JsonNode body) {
    Fields.onlyKnown(body, "metadata", "ttl");
    Duration ttl = ttl(body.path("ttl"));
    Map<String, Object> metadata = optionalMap(body, "metadata");
    Mono<Boolean> ttlSet = ttl == null ? Mono.just(true) : threads.setTtl(threadId, ttl);
    return ttlSet.then(threads.patchMetadata(threadId, metadata))
        .switchIfEmpty(Mono.error(() -> HttpProblem.notFound("thread " + threadId)))
        .flatMap(this::thread);
  }

  /** {@code POST /threads/count}: how many threads match {@code metadata} and {@code status}. */
  private Mono<JsonNode> countThreads(JsonNode body) {
    Fields.onlyKnown(body, "metadata", "values", "status");
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
      field = Arrays.stream(ThreadStore.Order.Field.values()).filter(f -> f.wire().equals(sortBy)).findFirst()
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
    Fields.onlyKnown(body, "metadata", "ids", "limit", "offset", "status", "sort_by", "sort_order", "select", "values");
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
  Mono<JsonNode> thread(ThreadStore.ThreadRecord thread) {
    ObjectNode node = JSON.createObjectNode();
    node.put("thread_id", thread.threadId());
    node.put("created_at", thread.createdAt().toString());
    node.put("updated_at", thread.updatedAt().toString());
    node.set("metadata", JSON.valueToTree(thread.metadata()));
    node.put("status", thread.status());
    ObjectNode config = node.putObject("config");
    if (!thread.configurable().isEmpty()) { // the last run's, which the thread's graph is built from
      config.set("configurable", JSON.valueToTree(thread.configurable()));
    }
    node.putNull("values");
    ObjectNode interrupts = node.putObject("interrupts");
    if (thread.graphId() == null || graphs.get(thread.graphId()) == null) {
      return Mono.just(node); // no graph ran yet, or it is not served here: its values cannot be read
    }
    return graphOf(thread).getState(RunConfig.thread(thread.threadId()))
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

  /** The graph that ran on the thread; 409 when this server does not serve it (see {@link ServedGraphs#ofThread}). */
  private Entrypoint<?, ?> graphOf(ThreadStore.ThreadRecord thread) {
    return graphs.ofThread(thread);
  }
}
