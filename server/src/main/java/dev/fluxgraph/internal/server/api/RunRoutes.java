package dev.fluxgraph.internal.server.api;

import static dev.fluxgraph.internal.server.api.Fields.intParam;
import static dev.fluxgraph.internal.server.api.Fields.queryParam;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.internal.server.runs.Run;
import dev.fluxgraph.internal.server.runs.RunLifecycle;
import dev.fluxgraph.internal.server.runs.RunRequest;
import dev.fluxgraph.internal.server.runs.RunStatus;
import dev.fluxgraph.internal.server.sse.Sse;
import dev.fluxgraph.internal.server.storage.RunStore;
import dev.fluxgraph.internal.server.storage.ThreadStore;
import dev.fluxgraph.server.ApiResponse;
import dev.fluxgraph.types.FluxgraphJson;
import dev.fluxgraph.types.StreamMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Runs: streamed ({@code POST .../runs/stream}), waited ({@code .../runs/wait}), in the background
 * ({@code POST /threads/{id}/runs}), on a thread or stateless ({@code /runs/...}); listed, read, joined
 * ({@code .../join}, {@code .../stream}), cancelled and deleted. Each route parses the request
 * ({@link RunRequests}), makes one call into {@link RunLifecycle} and shapes the answer.
 */
final class RunRoutes {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();
  /** The most runs one {@code POST /runs/batch} starts. */
  private static final int MAX_BATCH = 100;

  /** The run statuses of the protocol: Fluxgraph's own, and {@code timeout}, which no Fluxgraph run reaches. */
  static final List<String> RUN_STATUSES = Stream.concat(Arrays.stream(RunStatus.values()).map(RunStatus::wire),
      Stream.of("timeout")).toList();

  private final Http http;
  private final ThreadStore threads;
  private final RunLifecycle runs;
  private final RunRequests requests;

  RunRoutes(Http http, ThreadStore threads, RunLifecycle runs, RunRequests requests) {
    this.http = http;
    this.threads = threads;
    this.runs = runs;
    this.requests = requests;
  }

  void register(Routes routes) {
    routes
        .post("/threads/{tid}/runs/stream", doc(THREAD_RUNS, "Create Run, Stream Output").body(Schemas.RUN_CREATE)
            .events(Schemas.RUN_EVENTS), (request, response) -> stream(request, response, request.param("tid")))
        .post("/threads/{tid}/runs/wait", doc(THREAD_RUNS, "Create Run, Wait for Output").body(Schemas.RUN_CREATE)
            .answer(Schemas.ANY), (request, response) -> waitFor(request, response, request.param("tid")))
        .post("/runs/stream", doc(STATELESS, "Create Run, Stream Output").body(Schemas.RUN_CREATE)
            .events(Schemas.RUN_EVENTS), (request, response) -> stream(request, response, null))
        .post("/runs/wait", doc(STATELESS, "Create Run, Wait for Output").body(Schemas.RUN_CREATE)
            .answer(Schemas.ANY), (request, response) -> waitFor(request, response, null))
        .post("/threads/{tid}/runs", doc(THREAD_RUNS, "Create Background Run").body(Schemas.RUN_CREATE)
            .answer(Schemas.RUN), (request, response) -> http.guarded(request, response, body ->
            requests.startNew(body, false, parsed -> runs.background(request.param("tid"), parsed))
                .flatMap(run -> Http.json(withRunLocation(response, run, false), 200, run(run.record())))))
        .post("/runs", doc(STATELESS, "Create Background Run").body(Schemas.RUN_CREATE).answer(Schemas.RUN),
            (request, response) -> runOn(request, response, null, (tid, run) -> runs.background(tid, run)
            .flatMap(started -> Http.json(withRunLocation(response, started, true), 200, run(started.record())))))
        .post("/runs/batch", doc(STATELESS, "Create Run Batch").body(Schemas.RUN_BATCH).answer(Schemas.RUNS),
            (request, response) -> http.guardedList(request, response, body -> batch(body)
            .flatMap(started -> Http.json(response, 200, started))))
        .post("/runs/cancel", doc(THREAD_RUNS, "Cancel Runs").query("action", ACTION).body(Schemas.RUN_CANCEL)
            .answer(null), (request, response) -> http.guarded(request, response, body -> cancelMany(request, body)
            .then(response.status(204).send())))
        .get("/runs/{rid}/stream", joinDoc(STATELESS, "Join Run Stream"), this::joinStatelessStream)
        .get("/threads/{tid}/runs", doc(THREAD_RUNS, "List Runs").query("limit", Schemas.LIMIT)
            .query("offset", Schemas.OFFSET).query("status", Map.of("type", "string", "enum", RUN_STATUSES))
            .answer(Schemas.RUNS), http.handle((request, body) -> Mono.defer(() -> list(request))))
        .get("/threads/{tid}/runs/{rid}/stream", joinDoc(THREAD_RUNS, "Join Run Stream"), this::joinStream)
        .get("/threads/{tid}/runs/{rid}/join", doc(THREAD_RUNS, "Join Run").answer(Schemas.ANY),
            http.handle((request, body) -> runs.join(request.param("tid"),
            request.param("rid"))))
        .post("/threads/{tid}/runs/{rid}/cancel", doc(THREAD_RUNS, "Cancel Run").query("action", ACTION)
            .query("wait", Map.of("anyOf", List.of(Schemas.BOOLEAN, Map.of("type", "integer", "enum", List.of(0, 1)))))
            .answer(null), (request, response) -> http.guarded(request, response, body -> {
          boolean wait = waitParam(request);
          return runs.cancel(request.param("tid"), request.param("rid"), action(request), wait)
              .then(response.status(wait ? 204 : 202).send());
        }))
        .get("/threads/{tid}/runs/{rid}", doc(THREAD_RUNS, "Get Run").answer(Schemas.RUN),
            http.handle((request, body) ->
            runs.require(request.param("tid"), request.param("rid")).map(RunRoutes::run)))
        .delete("/threads/{tid}/runs/{rid}", doc(THREAD_RUNS, "Delete Run").answer(null),
            (request, response) -> http.guarded(request, response, body ->
            runs.deleteRun(request.param("tid"), request.param("rid")).flatMap(existed -> existed
                ? response.status(204).send()
                : Mono.error(HttpProblem.notFound("run " + request.param("rid"))))));
  }

  private static final String THREAD_RUNS = "Thread Runs";
  private static final String STATELESS = "Stateless Runs";
  private static final Map<String, Object> ACTION = Map.of("type", "string", "enum", List.of("interrupt", "rollback"),
      "default", "interrupt");

  private static Routes.Doc doc(String tag, String summary) {
    return Routes.Doc.of(tag, summary);
  }

  /** A joinStream's doc: its query parameters, {@code Last-Event-ID}, the events. */
  private static Routes.Doc joinDoc(String tag, String summary) {
    return doc(tag, summary)
        .query("stream_mode", Map.of("type", "string", "description", "a mode, or a JSON list of modes"))
        .query("cancel_on_disconnect", Schemas.BOOLEAN)
        .header("Last-Event-ID", Map.of("type", "string", "description", "the id of the last event received"))
        .events(Schemas.RUN_EVENTS);
  }

  /** The wire Run of a record. */
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
   * The run's address, from which the JS client learns the run id ({@code onRunCreated}): {@code /runs/{id}} for a
   * stateless run (its thread is the server's own), as the reference servers answer.
   */
  private static ApiResponse withRunLocation(ApiResponse response, Run run, boolean stateless) {
    return response.header("Content-Location", runPath(run, stateless));
  }

  private static String runPath(Run run, boolean stateless) {
    return stateless ? "/runs/" + run.runId() : "/threads/" + run.threadId() + "/runs/" + run.runId();
  }

  /** The {@code action} query parameter of a cancel: {@code interrupt} (default) or {@code rollback}. */
  private static String action(Request request) {
    String action = Objects.requireNonNullElse(queryParam(request, "action"), "interrupt");
    if (!action.equals("interrupt") && !action.equals("rollback")) {
      throw HttpProblem.invalid("action must be interrupt or rollback, was '" + action + "'");
    }
    return action;
  }

  /** The {@code wait} query parameter of a cancel: false when absent; 1/0 (the JS client's) or true/false. */
  private static boolean waitParam(Request request) {
    String wait = queryParam(request, "wait");
    if (wait == null || wait.equals("0") || wait.equals("false")) {
      return false;
    }
    if (wait.equals("1") || wait.equals("true")) {
      return true;
    }
    throw HttpProblem.invalid("wait must be 1, 0, true or false, was '" + wait + "'");
  }

  /**
   * {@code POST /runs/batch}: stateless background runs, each body checked before any starts (one refused body
   * starts none); emits the runs, in the order of the bodies.
   */
  private Mono<JsonNode> batch(JsonNode bodies) {
    return Mono.defer(() -> {
      if (bodies.isEmpty()) {
        throw HttpProblem.invalid("the batch is empty: send a list of run requests");
      }
      if (bodies.size() > MAX_BATCH) {
        throw HttpProblem.invalid("a batch holds at most " + MAX_BATCH + " runs, was " + bodies.size());
      }
      for (int i = 0; i < bodies.size(); i++) {
        if (!bodies.get(i).isObject()) {
          throw HttpProblem.invalid("batch[" + i + "] must be a run request (an object)");
        }
      }
      // every request checked (with its assistant's defaults) before any run starts
      return Flux.range(0, bodies.size())
          .concatMap(i -> requests.parseNew(withoutSdkCopy(bodies.get(i)), true).onErrorMap(HttpProblem.class,
              problem -> new HttpProblem(problem.status(), "batch[" + i + "]: " + problem.getMessage())))
          .collectList()
          .flatMapMany(Flux::fromIterable)
          .concatMap(run -> runs.background(UUID.randomUUID().toString(), run))
          .map(started -> (JsonNode) run(started.record()))
          .collectList()
          .map(started -> {
            ArrayNode array = JSON.createArrayNode();
            started.forEach(array::add);
            return array;
          });
    });
  }

  /**
   * A batch entry without the {@code assistantId} the JS SDK's {@code createBatch} leaves beside the
   * {@code assistant_id} it adds (the same value); any other camelCase field is refused by the request's checks.
   */
  private static JsonNode withoutSdkCopy(JsonNode body) {
    if (body instanceof ObjectNode object && object.has("assistantId")
        && object.get("assistantId").equals(object.get("assistant_id"))) {
      ObjectNode copy = object.deepCopy();
      copy.remove("assistantId");
      return copy;
    }
    return body;
  }

  /**
   * {@code POST /runs/cancel}: the runs named by {@code thread_id} and {@code run_ids}, or every run of a
   * {@code status} ({@code pending}, {@code running} or {@code all} of both), of {@code thread_id} when given; each is
   * cancelled as by its own cancel ({@code action} in the query), without waiting for runs of other processes to end.
   * Named runs must all exist (404 naming the first missing, before anything is cancelled).
   */
  private Mono<Void> cancelMany(Request request, JsonNode body) {
    return Mono.defer(() -> {
      Fields.onlyKnown(body, "thread_id", "run_ids", "status");
      String action = action(request);
      String threadId = Fields.optionalText(body, "thread_id");
      String status = Fields.optionalText(body, "status");
      JsonNode ids = body.path("run_ids");
      boolean named = !ids.isMissingNode() && !ids.isNull();
      if (named == (status != null)) {
        throw HttpProblem.invalid("send either run_ids (with thread_id) or status (pending, running or all)");
      }
      Flux<RunStore.RunRecord> targets;
      if (named) {
        if (threadId == null) {
          throw HttpProblem.invalid("run_ids need thread_id: the thread of the runs");
        }
        if (!ids.isArray() || ids.isEmpty()) {
          throw HttpProblem.invalid("run_ids must be a non-empty list of run ids");
        }
        List<String> runIds = new ArrayList<>();
        ids.forEach(id -> {
          if (!id.isTextual()) {
            throw HttpProblem.invalid("run_ids must be a list of strings, has " + id);
          }
          runIds.add(id.asText());
        });
        targets = Flux.fromIterable(runIds).concatMap(id -> runs.require(threadId, id)).collectList()
            .flatMapMany(Flux::fromIterable);
      } else {
        List<String> statuses = switch (status) {
          case "pending" -> List.of("pending");
          case "running" -> List.of("running");
          case "all" -> List.of("pending", "running");
          default -> throw HttpProblem.invalid("status must be pending, running or all, was '" + status + "'");
        };
        targets = runs.withStatus(threadId, statuses);
      }
      return targets.filter(run -> !run.finished())
          .concatMap(run -> runs.cancel(run.threadId(), run.runId(), action, false)
              .onErrorResume(HttpProblem.class, gone -> Mono.empty())) // ended and deleted meanwhile
          .then();
    });
  }

  /**
   * {@code GET /runs/{id}/stream}: joinStream of a stateless run, while it executes in this process (its thread is
   * the server's own and goes at its end).
   */
  private Mono<Void> joinStatelessStream(Request request, ApiResponse response) {
    return http.guarded(request, response, body -> {
      String runId = request.param("rid");
      String threadId = runs.threadOfLive(runId).orElseThrow(() -> HttpProblem.notFound("run " + runId
          + " (a stateless run is joined while it executes, on the server process executing it)"));
      return joinStream(request, response, threadId, runId);
    });
  }

  /** {@code GET /threads/{id}/runs}: the thread's runs, newest first; {@code status}, {@code limit}, {@code offset}. */
  private Mono<JsonNode> list(Request request) {
    String status = queryParam(request, "status");
    if (status != null && !RUN_STATUSES.contains(status)) {
      throw HttpProblem.invalid("status must be one of " + RUN_STATUSES + ", was '" + status + "'");
    }
    int limit = intParam(request, "limit", 10);
    int offset = intParam(request, "offset", 0);
    return threads.require(request.param("tid")).thenMany(runs.list(request.param("tid"), status, limit, offset))
        .map(RunRoutes::run).collectList().map(list -> {
          ArrayNode array = JSON.createArrayNode();
          list.forEach(array::add);
          return array;
        });
  }

  /**
   * Streams the run as SSE ({@link RunLifecycle#streamed}): metadata first, one event per chunk, heartbeats, an error
   * event on failure.
   */
  private Mono<Void> stream(Request request, ApiResponse response, @Nullable String threadId) {
    return runOn(request, response, threadId, (tid, run) -> runs.streamed(tid, run).flatMap(streamed -> {
      Run registered = streamed.run();
      withRunLocation(response, registered, threadId == null)
          .header("Location", runPath(registered, threadId == null) + "/stream");
      return Sse.send(response, streamed.events());
    }));
  }

  /**
   * A run request on the thread, or stateless ({@code threadId} null) on a new thread the server names: parsed, then
   * handed to {@code answer} with the thread id.
   */
  private Mono<Void> runOn(Request request, ApiResponse response, @Nullable String threadId,
                           BiFunction<String, RunRequest, Mono<Void>> answer) {
    return http.guarded(request, response, body -> {
      boolean stateless = threadId == null;
      String runThread = stateless ? UUID.randomUUID().toString() : threadId;
      return requests.startNew(body, stateless, run -> answer.apply(runThread, run));
    });
  }

  /**
   * joinStream: the run's kept events after {@code Last-Event-ID} (all of them without it, or with -1), then the live
   * ones until the run ends (see {@link RunLifecycle#events}). {@code stream_mode} (a name or a JSON list) keeps those
   * modes' events (with metadata and errors), and {@code cancel_on_disconnect=true} cancels the run when this client
   * leaves.
   */
  private Mono<Void> joinStream(Request request, ApiResponse response) {
    return http.guarded(request, response, body -> joinStream(request, response, request.param("tid"),
        request.param("rid")));
  }

  private Mono<Void> joinStream(Request request, ApiResponse response, String threadId, String runId) {
    return Mono.defer(() -> {
      String header = request.header("Last-Event-ID");
      long after;
      try {
        after = header == null || header.isBlank() ? -1 : Long.parseLong(header.trim());
      } catch (NumberFormatException e) {
        throw HttpProblem.invalid("Last-Event-ID must be a number, was '" + header + "'");
      }
      Set<String> modes = joinModes(queryParam(request, "stream_mode"));
      String cancel = queryParam(request, "cancel_on_disconnect");
      if (cancel != null && !List.of("true", "false", "1", "0").contains(cancel)) {
        throw HttpProblem.invalid("cancel_on_disconnect must be true, false, 1 or 0, was '" + cancel + "'");
      }
      boolean cancelOnDisconnect = "true".equals(cancel) || "1".equals(cancel);
      return runs.events(threadId, runId, after, cancelOnDisconnect).flatMap(events -> Sse.send(response, events
          .filter(event -> modes.isEmpty() || modes.contains(event.mode()) || event.name().equals("metadata")
              || event.name().startsWith("messages/") && modes.contains("messages/")
              || event.name().equals("error"))
          .map(Run.Event::text)));
    });
  }

  /** The {@code stream_mode} query value of joinStream: absent, one name, or a JSON list of names. */
  private static Set<String> joinModes(@Nullable String value) {
    Set<String> modes = new HashSet<>();
    if (value == null || value.isBlank()) {
      return modes;
    }
    JsonNode parsed;
    try {
      parsed = value.trim().startsWith("[") ? JSON.readTree(value) : JSON.getNodeFactory().textNode(value);
    } catch (JsonProcessingException e) {
      throw HttpProblem.invalid("stream_mode must be a mode or a JSON list of modes, was '" + value + "'");
    }
    for (JsonNode mode : parsed.isArray() ? parsed : List.of(parsed)) {
      if (RunRequests.DERIVED_MODES.contains(mode.asText())) {
        modes.add(mode.asText().equals("messages") ? "messages/" : mode.asText()); // messages/*: see joinStream
        continue;
      }
      String name = mode.asText().equals("messages-tuple") ? "messages" : mode.asText();
      try {
        StreamMode.fromWireName(name);
      } catch (IllegalArgumentException e) {
        throw HttpProblem.invalid("invalid stream_mode: " + e.getMessage() + ", messages-tuple or events");
      }
      modes.add(name);
    }
    return modes;
  }

  /**
   * runs/wait: the run's final value ({@link RunLifecycle#waited}). An answer ready within {@link Sse#HEARTBEAT} is an
   * ordinary JSON response (a refused command is then a 422); a longer run gets its 200 at once and a {@code "\n"}
   * every heartbeat until the value (a failure is then an {@code __error__} body). A run cancelled meanwhile answers
   * an {@code __error__} body. The run goes on if the client leaves, unless {@code on_disconnect: cancel}.
   */
  private Mono<Void> waitFor(Request request, ApiResponse response, @Nullable String threadId) {
    return runOn(request, response, threadId, (tid, run) -> runs.waited(tid, run).flatMap(waited -> {
      withRunLocation(response, waited.run(), threadId == null);
      Mono<JsonNode> outcome = waited.outcome();
      Mono<Void> answer = outcome.map(Optional::of)
          .timeout(Sse.HEARTBEAT, Mono.just(Optional.empty()))
          .flatMap(quick -> quick.isPresent() ? Http.json(response, 200, quick.get())
              : response.status(200).header("Content-Type", "application/json")
                  .sendEach(Flux.interval(Sse.HEARTBEAT).map(tick -> "\n").startWith("\n")
                      .takeUntilOther(outcome.onErrorResume(error -> Mono.empty()))
                      .concatWith(outcome.onErrorResume(error -> Mono.just(RunLifecycle.errorValue(error)))
                          .map(JsonNode::toString))));
      return runs.cancelOnLeave(answer, waited.run(), run);
    }));
  }
}
