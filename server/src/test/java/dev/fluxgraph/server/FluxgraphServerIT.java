package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.internal.server.api.Cors;
import dev.fluxgraph.internal.server.api.ServerApi;
import dev.fluxgraph.internal.server.storage.InMemoryRunStore;
import dev.fluxgraph.internal.server.storage.InMemoryThreadStore;
import dev.fluxgraph.internal.server.storage.ThreadStore;
import dev.fluxgraph.types.TypeRef;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

/** The server over a real socket: the endpoints and body fields of SERVER.md, multitask strategies, and bad input. */
class FluxgraphServerIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static FluxgraphServer server;
  private static HttpClient http;

  /** Status and body of a response. */
  record Reply(int status, String body, String contentLocation) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (Exception e) {
        throw new AssertionError("not JSON: " + body, e);
      }
    }

    /** The SSE events as (name, data) pairs. */
    List<String[]> events() {
      List<String[]> events = new ArrayList<>();
      for (String block : body.split("\r\n\r\n")) {
        String name = null;
        String data = null;
        for (String line : block.split("\r\n")) {
          if (line.startsWith("event: ")) {
            name = line.substring(7);
          } else if (line.startsWith("data: ")) {
            data = line.substring(6);
          }
        }
        if (name != null) {
          events.add(new String[] {name, data});
        }
      }
      return events;
    }
  }

  @BeforeAll
  static void start() {
    Task<String, String> step1 = Task.of("step_1", String.class, q -> Mono.just(q + " bar"));
    Task<String, String> feedback = Task.of("human_feedback", String.class,
        (String q, TaskContext context) -> context.interrupt("Please provide feedback: " + q, String.class)
            .map(answer -> q + " " + answer));
    Entrypoint<String, String> graph = Entrypoint.named("graph").checkpointer(new InMemorySaver())
        .define(String.class, String.class, (q, context) -> step1.call(q).flatMap(feedback::call));
    Task<String, String> nap = Task.of("nap", String.class, (String q, TaskContext context) -> context.writer()
        .write(java.util.Map.of("napping", q)).then(Mono.delay(Duration.ofMillis(400))).thenReturn(q));
    Entrypoint<String, String> slow = Entrypoint.named("slow").checkpointer(new InMemorySaver())
        .define(String.class, String.class, (q, context) -> nap.call(q).map(r -> r + "!"));
    var notes = dev.fluxgraph.graph.StateGraph.ofMap()
        .reducer("notes", dev.fluxgraph.graph.Reducers.append())
        .addNode("note", (state, context) -> Mono.delay(Duration.ofMillis(400))
            .thenReturn(java.util.Map.<String, Object>of("notes", "noted")))
        .setEntryPoint("note")
        .compile(dev.fluxgraph.graph.CompileOptions.defaults().withCheckpointer(new InMemorySaver()));
    Task<String, String> longNap = Task.of("long_nap", String.class,
        (String q) -> Mono.delay(Duration.ofMillis(5_600)).thenReturn(q));
    Entrypoint<String, java.util.Map<String, String>> slower = Entrypoint.named("slower")
        .checkpointer(new InMemorySaver()).define(TypeRef.of(String.class),
            new TypeRef<java.util.Map<String, String>>() { }, (q, context) -> longNap.call(q)
                .map(r -> java.util.Map.of("slept", r)));
    server = FluxgraphServer.builder().graph("hitl", graph).graph("slow", slow).graph("notes", notes.asEntrypoint())
        .graph("slower", slower)
        .port(0).discoverGraphs(false).build()
        .start()
        .block(Duration.ofSeconds(10));
    http = HttpClient.create().baseUrl("http://127.0.0.1:" + server.port());
  }

  @AfterAll
  static void stop() {
    server.stop().block(Duration.ofSeconds(10));
  }

  private static Reply send(String method, String path, String body) {
    return http.request(io.netty.handler.codec.http.HttpMethod.valueOf(method)).uri(path)
        .send(ByteBufFlux.fromString(Mono.just(body)))
        .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8).defaultIfEmpty("")
            .map(text -> new Reply(response.status().code(), text,
                String.valueOf(response.responseHeaders().get("Content-Location")))))
        .block(Duration.ofSeconds(10));
  }

  @Test
  void assistantsAreTheGraphs() {
    Reply search = send("POST", "/assistants/search", "{\"graph_id\":\"hitl\"}");
    assertEquals(200, search.status());
    assertEquals("hitl", search.json().get(0).get("graph_id").asText());
    String assistantId = search.json().get(0).get("assistant_id").asText();
    assertEquals("hitl", send("GET", "/assistants/" + assistantId, "").json().get("graph_id").asText());
  }

  @Test
  void customChunksAreStreamedAsCustomEventsWhenAskedFor() {
    String threadId = send("POST", "/threads", "{}").json().get("thread_id").asText();
    List<String[]> events = send("POST", "/threads/" + threadId + "/runs/stream",
        "{\"assistant_id\":\"slow\",\"input\":\"c\",\"stream_mode\":[\"custom\",\"values\"]}").events();
    List<String> names = events.stream().map(event -> event[0]).toList();
    assertEquals(List.of("metadata", "custom", "values"), names, names.toString()); // an entrypoint: values at its end
    assertEquals("{\"napping\":\"c\"}", events.get(1)[1]);
    assertTrue(send("POST", "/threads/" + threadId + "/runs/stream", "{\"assistant_id\":\"slow\",\"input\":\"d\"}")
        .events().stream().noneMatch(event -> event[0].equals("custom")), "not asked for: not sent");
  }

  @Test
  void humanInTheLoopOverSse() {
    String threadId = send("POST", "/threads", "{}").json().get("thread_id").asText();
    Reply first = send("POST", "/threads/" + threadId + "/runs/stream",
        "{\"assistant_id\":\"hitl\",\"input\":\"foo\",\"stream_mode\":[\"updates\"]}");
    assertEquals(200, first.status());
    assertTrue(first.contentLocation().startsWith("/threads/" + threadId + "/runs/"), first.contentLocation());
    List<String[]> events = first.events();
    assertEquals("metadata", events.get(0)[0]);
    assertEquals("{\"step_1\":\"foo bar\"}", events.get(1)[1]);
    assertTrue(events.get(2)[1].contains("Please provide feedback: foo bar"), events.get(2)[1]);

    JsonNode thread = send("GET", "/threads/" + threadId, "").json();
    assertEquals("interrupted", thread.get("status").asText());
    JsonNode state = send("GET", "/threads/" + threadId + "/state", "").json();
    assertEquals("graph", state.get("next").get(0).asText());
    assertEquals("Please provide feedback: foo bar", state.get("interrupts").get(0).get("value").asText());
    // the pending work is the entrypoint, with the interrupt UIs show (tasks[0].interrupts); step_1 is done
    assertEquals(1, state.get("tasks").size(), state.toString());
    JsonNode task = state.get("tasks").get(0);
    assertEquals("graph", task.get("name").asText());
    assertEquals(state.get("interrupts"), task.get("interrupts"));
    assertEquals("[\"__pregel_pull\",\"graph\"]", task.get("path").toString());
    assertTrue(task.get("error").isNull() && task.get("result").isNull() && task.get("checkpoint").isNull()
        && task.get("state").isNull(), task.toString());
    assertEquals(state.get("interrupts"), thread.get("interrupts").get(task.get("id").asText()),
        "the thread's interrupts are keyed by the pending task");
    JsonNode history = send("POST", "/threads/" + threadId + "/history", "{}").json();
    assertEquals(state.get("tasks"), history.get(0).get("tasks"));

    Reply resumed = send("POST", "/threads/" + threadId + "/runs/stream",
        "{\"assistant_id\":\"hitl\",\"command\":{\"resume\":\"baz\"},\"stream_mode\":[\"updates\",\"values\"]}");
    List<String[]> after = resumed.events();
    assertEquals("values", after.get(1)[0]);
    assertEquals("null", after.get(1)[1], "a resumed run first shows the current value");
    assertEquals("\"foo bar baz\"", after.get(after.size() - 1)[1]);
    assertEquals("idle", send("GET", "/threads/" + threadId, "").json().get("status").asText());
    assertTrue(send("POST", "/threads/" + threadId + "/history", "{}").json().size() >= 2);
    assertEquals(0, send("GET", "/threads/" + threadId + "/state", "").json().get("tasks").size());
  }

  @Test
  void joinStreamReplaysAfterTheLastEventId() {
    String threadId = send("POST", "/threads", "{}").json().get("thread_id").asText();
    Reply first = send("POST", "/threads/" + threadId + "/runs/stream",
        "{\"assistant_id\":\"hitl\",\"input\":\"foo\",\"stream_mode\":[\"updates\"],\"stream_resumable\":true}");
    String runPath = first.contentLocation();
    Reply all = http.get().uri(runPath + "/stream")
        .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8)
            .map(text -> new Reply(response.status().code(), text, "")))
        .block(Duration.ofSeconds(10));
    assertEquals(first.events().size(), all.events().size());
    Reply after = http.headers(headers -> headers.set("Last-Event-ID", "1")).get().uri(runPath + "/stream")
        .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8)
            .map(text -> new Reply(response.status().code(), text, "")))
        .block(Duration.ofSeconds(10));
    assertEquals(first.events().size() - 2, after.events().size());
    assertTrue(after.body().startsWith("event: updates\r\ndata: {\"__interrupt__\""), after.body());
  }

  @Test
  void anUpdateOfTheStateWhileARunIsPendingOrRunningIsAConflict() {
    String threadId = send("POST", "/threads", "{}").json().get("thread_id").asText();
    String runId = send("POST", "/threads/" + threadId + "/runs", "{\"assistant_id\":\"slower\",\"input\":\"a\"}")
        .json().get("run_id").asText();
    Reply refused = send("POST", "/threads/" + threadId + "/state", "{\"values\":{\"slept\":\"b\"}}");
    assertEquals(409, refused.status(), refused.body());
    assertTrue(refused.json().get("detail").asText().contains("pending or running run"), refused.body());
    Reply cancelled = send("POST", "/threads/" + threadId + "/runs/" + runId + "/cancel?wait=true", "");
    assertTrue(cancelled.status() < 300, cancelled.status() + " " + cancelled.body());
    assertEquals(200, send("POST", "/threads/" + threadId + "/state", "{\"values\":{\"slept\":\"b\"}}").status(),
        "once the run ended, the update goes in");
  }

  @Test
  void aDisconnectedStreamRunsOnByDefault() throws Exception {
    String threadId = send("POST", "/threads", "{}").json().get("thread_id").asText();
    String location = http.post().uri("/threads/" + threadId + "/runs/stream")
        .send(ByteBufFlux.fromString(Mono.just("{\"assistant_id\":\"slow\",\"input\":\"zz\"}")))
        .responseSingle((response, content) -> Mono.just(response.responseHeaders().get("Content-Location")))
        .block(Duration.ofSeconds(10)); // reads the headers, then drops the connection
    for (int i = 0; i < 50 && !send("GET", location, "").json().get("status").asText().equals("success"); i++) {
      Thread.sleep(100);
    }
    assertEquals("success", send("GET", location, "").json().get("status").asText());
    assertEquals("zz!", send("GET", "/threads/" + threadId + "/state", "").json().get("values").asText());

    // the same disconnect with on_disconnect=cancel does cancel: so the connection really was dropped above
    String cancelled = http.post().uri("/threads/" + threadId + "/runs/stream")
        .send(ByteBufFlux.fromString(Mono.just("{\"assistant_id\":\"slow\",\"input\":\"yy\",\"on_disconnect\":\"cancel\"}")))
        .responseSingle((response, content) -> Mono.just(response.responseHeaders().get("Content-Location")))
        .block(Duration.ofSeconds(10));
    for (int i = 0; i < 50 && send("GET", cancelled, "").json().get("status").asText().equals("running"); i++) {
      Thread.sleep(100);
    }
    assertEquals("interrupted", send("GET", cancelled, "").json().get("status").asText());
    // the thread's status is written after the run's (a separate write): wait for it, as for the run's above
    for (int i = 0; i < 50 && !send("GET", "/threads/" + threadId, "").json().get("status").asText().equals("idle");
         i++) {
      Thread.sleep(100);
    }
    assertEquals("idle", send("GET", "/threads/" + threadId, "").json().get("status").asText());
  }

  @Test
  void multitaskStrategies() {
    String threadId = send("POST", "/threads", "{}").json().get("thread_id").asText();
    String base = "/threads/" + threadId + "/runs";
    String first = send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"a\"}").json().get("run_id").asText();
    Reply rejected = send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"b\"}");
    assertEquals(409, rejected.status());
    assertTrue(rejected.json().get("detail").asText().contains(first), rejected.body());

    String queued = send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"c\",\"multitask_strategy\":\"enqueue\"}")
        .json().get("run_id").asText();
    assertEquals("a!", send("GET", base + "/" + first + "/join", "").json().asText());
    assertEquals("c!", send("GET", base + "/" + queued + "/join", "").json().asText());

    String running = send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"d\"}").json().get("run_id").asText();
    String replacing = send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"e\",\"multitask_strategy\":\"interrupt\"}")
        .json().get("run_id").asText();
    assertEquals("e!", send("GET", base + "/" + replacing + "/join", "").json().asText());
    assertEquals("interrupted", send("GET", base + "/" + running, "").json().get("status").asText());
    assertEquals(422, send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"f\",\"multitask_strategy\":\"bogus\"}").status());
  }

  /** Polls the thread's state (up to 5 s) until its notes are {@code expected}. */
  private static void awaitNotes(String threadId, String expected) throws InterruptedException {
    for (int i = 0; i < 250; i++) {
      JsonNode notes = send("GET", "/threads/" + threadId + "/state", "").json().path("values").path("notes");
      if (notes.toString().equals(expected)) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("notes never became " + expected);
  }

  @Test
  void rollbackErasesTheRunningRunAndStartsFromTheStateBeforeIt() throws InterruptedException {
    String threadId = send("POST", "/threads", "{}").json().get("thread_id").asText();
    String base = "/threads/" + threadId + "/runs";
    assertEquals("[\"x\",\"noted\"]", send("POST", base + "/wait",
        "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"x\"]}}").json().get("notes").toString());
    String first = send("POST", base, "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"a\"]}}").json()
        .get("run_id").asText();
    awaitNotes(threadId, "[\"x\",\"noted\",\"a\"]"); // the first run applied its input and sleeps in its node
    assertEquals("[\"x\",\"noted\",\"a\"]", send("GET", "/threads/" + threadId + "/state", "").json()
        .get("values").get("notes").toString());
    JsonNode replaced = send("POST", base + "/wait", "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"b\"]},"
        + "\"multitask_strategy\":\"rollback\"}").json();
    assertEquals("[\"x\",\"noted\",\"b\",\"noted\"]", replaced.get("notes").toString());
    assertEquals(404, send("GET", base + "/" + first, "").status());
    assertEquals(2, send("GET", base, "").json().size());
    assertEquals("idle", send("GET", "/threads/" + threadId, "").json().get("status").asText());
  }

  @Test
  void cancelWithRollbackDropsTheRunsCheckpointsAndRecord() throws InterruptedException {
    String threadId = send("POST", "/threads", "{}").json().get("thread_id").asText();
    String base = "/threads/" + threadId + "/runs";
    send("POST", base + "/wait", "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"x\"]}}");
    String run = send("POST", base, "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"a\"]}}").json()
        .get("run_id").asText();
    awaitNotes(threadId, "[\"x\",\"noted\",\"a\"]");
    assertEquals(422, send("POST", base + "/" + run + "/cancel?action=explode", "").status());
    assertEquals(204, send("POST", base + "/" + run + "/cancel?action=rollback&wait=1", "").status());
    assertEquals("[\"x\",\"noted\"]", send("GET", "/threads/" + threadId + "/state", "").json().get("values")
        .get("notes").toString());
    assertEquals(404, send("GET", base + "/" + run, "").status());
    assertEquals("idle", send("GET", "/threads/" + threadId, "").json().get("status").asText());
  }

  @Test
  void runOptionsIfNotExistsOnCompletionCheckpointIdAndHistoryFilters() {
    String missing = java.util.UUID.randomUUID().toString();
    assertEquals(404, send("POST", "/threads/" + missing + "/runs/wait",
        "{\"assistant_id\":\"slow\",\"input\":\"a\"}").status());
    assertEquals("a!", send("POST", "/threads/" + missing + "/runs/wait",
        "{\"assistant_id\":\"slow\",\"input\":\"a\",\"if_not_exists\":\"create\"}").json().asText());
    assertEquals(422, send("POST", "/threads/" + missing + "/runs/wait",
        "{\"assistant_id\":\"slow\",\"input\":\"a\",\"if_not_exists\":\"maybe\"}").status());

    int threadsBefore = send("POST", "/threads/search", "{\"limit\":1000}").json().size();
    assertEquals("s!", send("POST", "/runs/wait", "{\"assistant_id\":\"slow\",\"input\":\"s\"}").json().asText());
    assertEquals(threadsBefore, send("POST", "/threads/search", "{\"limit\":1000}").json().size(),
        "a stateless run deletes its thread by default");
    send("POST", "/runs/wait", "{\"assistant_id\":\"slow\",\"input\":\"k\",\"on_completion\":\"keep\"}");
    assertEquals(threadsBefore + 1, send("POST", "/threads/search", "{\"limit\":1000}").json().size());

    String thread = send("POST", "/threads", "{}").json().get("thread_id").asText();
    String base = "/threads/" + thread + "/runs/wait";
    send("POST", base, "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"a\"]},"
        + "\"metadata\":{\"who\":\"ann\",\"ticket\":null}}");
    send("POST", base, "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"b\"]}}");
    JsonNode history = send("POST", "/threads/" + thread + "/history", "{\"limit\":100}").json();
    assertEquals(6, history.size()); // per run: input, after the input, after the node
    JsonNode tagged = send("POST", "/threads/" + thread + "/history", "{\"metadata\":{\"who\":\"ann\"}}").json();
    assertEquals(3, tagged.size(), tagged.toString());
    assertTrue(tagged.get(0).get("metadata").has("ticket") && tagged.get(0).get("metadata").get("ticket").isNull(),
        "a null metadata value is kept: " + tagged.get(0).get("metadata"));
    String afterFirstRun = tagged.get(0).get("checkpoint").get("checkpoint_id").asText();
    assertEquals(2, send("POST", "/threads/" + thread + "/history", "{\"before\":\"" + afterFirstRun + "\"}").json()
        .size());
    assertEquals(3, send("POST", "/threads/" + thread + "/history",
        "{\"checkpoint\":{\"checkpoint_id\":\"" + afterFirstRun + "\"}}").json().size());
    // time travel: a new input from the checkpoint after the first run forgets the second
    assertEquals("[\"a\",\"noted\",\"c\",\"noted\"]", send("POST", base, "{\"assistant_id\":\"notes\","
        + "\"input\":{\"notes\":[\"c\"]},\"checkpoint_id\":\"" + afterFirstRun + "\"}").json().get("notes").toString());

    for (String bad : List.of("\"durability\":\"never\"", "\"after_seconds\":-1", "\"context\":[1]",
        "\"on_completion\":\"explode\"", "\"metadata\":\"x\"", "\"stream_subgraphs\":\"yes\"",
        "\"checkpoint\":{\"checkpoint_id\":\"" + afterFirstRun + "\",\"checkpoint_ns\":\"note:1\"}")) {
      Reply refused = send("POST", base, "{\"assistant_id\":\"notes\",\"input\":{}," + bad + "}");
      assertEquals(422, refused.status(), bad + " -> " + refused.body());
    }
    assertEquals("[\"a\",\"noted\",\"c\",\"noted\",\"d\",\"noted\"]", send("POST", base,
        "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"d\"]},\"durability\":\"sync\","
            + "\"after_seconds\":0.05}").json().get("notes").toString());
  }

  @Test
  void aLongWaitGetsKeepAlivesThenTheValue() {
    String threadId = send("POST", "/threads", "{}").json().get("thread_id").asText();
    Reply waited = send("POST", "/threads/" + threadId + "/runs/wait", "{\"assistant_id\":\"slower\",\"input\":\"z\"}");
    assertEquals(200, waited.status());
    assertTrue(waited.body().startsWith("\n"), waited.body());
    assertEquals("z", waited.json().get("slept").asText());
    Reply refusedLate = send("POST", "/threads/" + threadId + "/runs/wait",
        "{\"assistant_id\":\"slower\",\"command\":{\"resume\":1}}");
    assertEquals(422, refusedLate.status(), refusedLate.body()); // refused at once: a plain 4xx, no keep-alive
  }

  @Test
  void updateStateAndStateAtACheckpoint() {
    String threadId = send("POST", "/threads", "{}").json().get("thread_id").asText();
    assertEquals("a!", send("POST", "/threads/" + threadId + "/runs/wait",
        "{\"assistant_id\":\"slow\",\"input\":\"a\"}").json().asText());
    JsonNode before = send("GET", "/threads/" + threadId + "/state", "").json();
    JsonNode updated = send("POST", "/threads/" + threadId + "/state", "{\"values\":\"by hand\"}").json();
    String checkpointId = updated.get("checkpoint").get("checkpoint_id").asText();
    JsonNode after = send("GET", "/threads/" + threadId + "/state", "").json();
    assertEquals("by hand", after.get("values").asText());
    assertEquals(checkpointId, after.get("checkpoint").get("checkpoint_id").asText());
    assertEquals("update", after.get("metadata").get("source").asText());
    JsonNode old = send("POST", "/threads/" + threadId + "/state/checkpoint",
        "{\"checkpoint\":{\"checkpoint_id\":\"" + before.get("checkpoint").get("checkpoint_id").asText() + "\"}}").json();
    assertEquals("a!", old.get("values").asText());
    assertEquals(404, send("POST", "/threads/" + threadId + "/state/checkpoint",
        "{\"checkpoint\":{\"checkpoint_id\":\"nope\"}}").status());
  }

  @Test
  void waitReturnsTheValueOrTheInterrupt() {
    String threadId = send("POST", "/threads", "{}").json().get("thread_id").asText();
    JsonNode paused = send("POST", "/threads/" + threadId + "/runs/wait",
        "{\"assistant_id\":\"hitl\",\"input\":\"x\"}").json();
    assertTrue(paused.has("__interrupt__"), paused.toString());
    String interruptId = paused.get("__interrupt__").get(0).get("id").asText();
    JsonNode done = send("POST", "/threads/" + threadId + "/runs/wait",
        "{\"assistant_id\":\"hitl\",\"command\":{\"resume\":{\"" + interruptId + "\":\"y\"}}}").json();
    assertEquals("x bar y", done.asText());
  }

  /** Polls the run or thread (up to 5 s) until its status is {@code expected}. */
  private static void awaitStatus(String runPath, String expected) throws InterruptedException {
    for (int i = 0; i < 250; i++) {
      if (send("GET", runPath, "").json().path("status").asText().equals(expected)) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError(runPath + " never became " + expected + ": " + send("GET", runPath, "").body());
  }

  private static String newThread() {
    return send("POST", "/threads", "{}").json().get("thread_id").asText();
  }

  @Test
  void enqueuedRunsArePendingUntilTheRunAheadEndsAndCanBeCancelled() throws InterruptedException {
    String threadId = newThread();
    String base = "/threads/" + threadId + "/runs";
    String first = send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"a\"}").json().get("run_id").asText();
    JsonNode queued = send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"b\",\"multitask_strategy\":\"enqueue\"}")
        .json();
    assertEquals("pending", queued.get("status").asText(), "answered at once, not when the first run ended");
    JsonNode dropped = send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"c\",\"multitask_strategy\":\"enqueue\"}")
        .json();
    assertEquals(409, send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"d\"}").status(),
        "reject counts pending runs too");
    JsonNode listed = send("GET", base, "").json();
    assertEquals(3, listed.size(), listed.toString());
    assertEquals("pending", listed.get(0).get("status").asText(), "newest first");
    assertEquals("busy", send("GET", "/threads/" + threadId, "").json().get("status").asText());

    // a pending run is cancelled without running; the runs around it are not disturbed
    String droppedId = dropped.get("run_id").asText();
    assertEquals(202, send("POST", base + "/" + droppedId + "/cancel", "").status(), "wait=0: accepted");
    assertEquals("interrupted", send("GET", base + "/" + droppedId, "").json().get("status").asText());
    assertEquals("a!", send("GET", base + "/" + first + "/join", "").json().asText());
    assertEquals("b!", send("GET", base + "/" + queued.get("run_id").asText() + "/join", "").json().asText());
    assertEquals("RunCancelled", send("GET", base + "/" + droppedId + "/join", "").json().get("__error__")
        .get("error").asText());
    assertEquals("b!", send("GET", "/threads/" + threadId + "/state", "").json().get("values").asText(),
        "the cancelled run never ran");
    assertEquals("idle", send("GET", "/threads/" + threadId, "").json().get("status").asText());
    assertEquals("success", send("GET", base + "/" + queued.get("run_id").asText(), "").json().get("status").asText());
    assertEquals(1, send("GET", base + "?status=interrupted", "").json().size());
  }

  @Test
  void interruptAndRollbackAlsoCancelEnqueuedRuns() {
    String threadId = newThread();
    String base = "/threads/" + threadId + "/runs";
    String running = send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"a\"}").json().get("run_id").asText();
    String pending = send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"b\",\"multitask_strategy\":\"enqueue\"}")
        .json().get("run_id").asText();
    assertEquals("c!", send("POST", base + "/wait", "{\"assistant_id\":\"slow\",\"input\":\"c\","
        + "\"multitask_strategy\":\"interrupt\"}").json().asText());
    assertEquals("interrupted", send("GET", base + "/" + running, "").json().get("status").asText());
    assertEquals("interrupted", send("GET", base + "/" + pending, "").json().get("status").asText());

    String again = send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"d\"}").json().get("run_id").asText();
    String queued = send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"e\",\"multitask_strategy\":\"enqueue\"}")
        .json().get("run_id").asText();
    assertEquals("f!", send("POST", base + "/wait", "{\"assistant_id\":\"slow\",\"input\":\"f\","
        + "\"multitask_strategy\":\"rollback\"}").json().asText());
    assertEquals(404, send("GET", base + "/" + again, "").status());
    assertEquals(404, send("GET", base + "/" + queued, "").status());
    assertEquals("idle", send("GET", "/threads/" + threadId, "").json().get("status").asText());
  }

  /** SERVER.md: interrupt keeps the replaced run's completed work; rollback erases it. */
  @Test
  void interruptKeepsTheReplacedRunsCheckpointsAndRollbackErasesThem() throws InterruptedException {
    for (String strategy : List.of("interrupt", "rollback")) {
      String threadId = newThread();
      String base = "/threads/" + threadId + "/runs";
      String first = send("POST", base, "{\"assistant_id\":\"slower\",\"input\":\"a\"}").json().get("run_id")
          .asText();
      for (int i = 0; i < 250 && checkpointsOf(threadId, first) == 0; i++) {
        Thread.sleep(20); // until the first run's input checkpoint is stored
      }
      assertTrue(checkpointsOf(threadId, first) > 0, "the first run checkpointed its input");
      // the same graph (each graph of this server has a checkpointer of its own), so the history shows both runs
      assertEquals("b", send("POST", base + "/wait", "{\"assistant_id\":\"slower\",\"input\":\"b\","
          + "\"multitask_strategy\":\"" + strategy + "\"}").json().get("slept").asText());
      assertEquals(strategy.equals("interrupt"), checkpointsOf(threadId, first) > 0, () -> strategy + " " + first + " "
          + send("POST", "/threads/" + threadId + "/history", "{\"limit\":100}").body());
    }
  }

  private static long checkpointsOf(String threadId, String runId) {
    JsonNode history = send("POST", "/threads/" + threadId + "/history", "{\"limit\":100}").json();
    long count = 0;
    for (JsonNode state : history) {
      count += runId.equals(state.at("/metadata/run_id").asText()) ? 1 : 0;
    }
    return count;
  }

  @Test
  void aWaitingClientOfARunCancelledElsewhereGetsAnErrorBody() throws InterruptedException {
    String threadId = newThread();
    String base = "/threads/" + threadId + "/runs";
    Mono<Reply> waiting = http.post().uri(base + "/wait")
        .send(ByteBufFlux.fromString(Mono.just("{\"assistant_id\":\"slower\",\"input\":\"z\"}")))
        .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8)
            .map(text -> new Reply(response.status().code(), text, "")))
        .cache();
    waiting.subscribe();
    for (int i = 0; i < 250 && send("GET", base, "").json().size() == 0; i++) {
      Thread.sleep(20); // until the waited run exists
    }
    JsonNode replacing = send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"y\","
        + "\"multitask_strategy\":\"interrupt\"}").json();
    Reply answered = waiting.block(Duration.ofSeconds(10));
    assertEquals(200, answered.status());
    assertEquals("RunCancelled", answered.json().get("__error__").get("error").asText(), answered.body());
    assertEquals("y!", send("GET", base + "/" + replacing.get("run_id").asText() + "/join", "").json().asText());
  }

  @Test
  void waitWithOnDisconnectCancelStopsTheRunWhenTheClientLeaves() throws InterruptedException {
    String threadId = newThread();
    String base = "/threads/" + threadId + "/runs";
    try {
      http.responseTimeout(Duration.ofMillis(150)).post().uri(base + "/wait")
          .send(ByteBufFlux.fromString(Mono.just("{\"assistant_id\":\"slower\",\"input\":\"z\","
              + "\"on_disconnect\":\"cancel\"}")))
          .responseSingle((response, content) -> content.asString()).block(Duration.ofSeconds(10));
    } catch (RuntimeException expected) {
      // the client gave up and closed the connection
    }
    JsonNode runs = send("GET", base, "").json();
    assertEquals(1, runs.size(), runs.toString());
    awaitStatus(base + "/" + runs.get(0).get("run_id").asText(), "interrupted");
    awaitStatus("/threads/" + threadId, "idle"); // written just after the run's status
    assertEquals(422, send("POST", base + "/wait", "{\"assistant_id\":\"slow\",\"input\":\"a\","
        + "\"on_disconnect\":\"explode\"}").status());
  }

  @Test
  void afterSecondsKeepsTheRunPendingUntilItStarts() throws InterruptedException {
    String threadId = newThread();
    String base = "/threads/" + threadId + "/runs";
    Reply created = send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"a\",\"after_seconds\":0.3}");
    JsonNode delayed = created.json();
    assertEquals("pending", delayed.get("status").asText(), delayed.toString());
    assertEquals(base + "/" + delayed.get("run_id").asText(), created.contentLocation(), "the JS client's onRunCreated");
    awaitStatus(base + "/" + delayed.get("run_id").asText(), "running");
    assertEquals("a!", send("GET", base + "/" + delayed.get("run_id").asText() + "/join", "").json().asText());
    assertEquals("success", send("GET", base + "/" + delayed.get("run_id").asText(), "").json().get("status").asText());
    Reply waited = send("POST", base + "/wait", "{\"assistant_id\":\"slow\",\"input\":\"b\"}");
    assertTrue(waited.contentLocation().startsWith(base + "/"), waited.contentLocation());
    assertEquals("success", send("GET", waited.contentLocation(), "").json().get("status").asText());
  }

  @Test
  void cancellingAFinishedRunChangesNothing() {
    String threadId = newThread();
    String base = "/threads/" + threadId + "/runs";
    JsonNode paused = send("POST", base + "/wait", "{\"assistant_id\":\"hitl\",\"input\":\"x\"}").json();
    assertTrue(paused.has("__interrupt__"), paused.toString());
    String runId = send("GET", base, "").json().get(0).get("run_id").asText();
    for (String action : List.of("interrupt", "rollback")) {
      Reply cancelled = send("POST", base + "/" + runId + "/cancel?wait=1&action=" + action, "");
      assertEquals(204, cancelled.status(), cancelled.body());
      assertEquals("success", send("GET", base + "/" + runId, "").json().get("status").asText());
    }
    assertEquals("interrupted", send("GET", "/threads/" + threadId, "").json().get("status").asText(),
        "the thread still waits for its resume");
    assertEquals("x bar y", send("POST", base + "/wait", "{\"assistant_id\":\"hitl\",\"command\":{\"resume\":\"y\"}}")
        .json().asText());
  }

  @Test
  void deletingARunningRunCancelsItAndItStaysDeleted() throws InterruptedException {
    String threadId = newThread();
    String base = "/threads/" + threadId + "/runs";
    String runId = send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"a\"}").json().get("run_id").asText();
    assertEquals(204, send("DELETE", base + "/" + runId, "").status());
    assertEquals("idle", send("GET", "/threads/" + threadId, "").json().get("status").asText());
    Thread.sleep(600); // longer than the run would have taken: it must not come back
    assertEquals(404, send("GET", base + "/" + runId, "").status());
    assertEquals(0, send("GET", base, "").json().size());
    assertEquals(404, send("DELETE", base + "/" + runId, "").status());
  }

  @Test
  void deletingAThreadCancelsItsRunAndDeletesItsRuns() throws InterruptedException {
    String threadId = newThread();
    String base = "/threads/" + threadId + "/runs";
    String runId = send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"a\"}").json().get("run_id").asText();
    assertEquals(204, send("DELETE", "/threads/" + threadId, "").status());
    Thread.sleep(600); // longer than the run would have taken: its end must not bring the thread back
    assertEquals(404, send("GET", "/threads/" + threadId, "").status());
    assertEquals(404, send("GET", base + "/" + runId, "").status());
    assertEquals(404, send("GET", base, "").status(), "the runs of a missing thread");
  }

  @Test
  void statelessRunsLeaveNoThreadNorRuns() throws Exception {
    Reply streamed = send("POST", "/runs/stream", "{\"assistant_id\":\"slow\",\"input\":\"s\"}");
    assertEquals(200, streamed.status());
    assertEquals("\"s!\"", streamed.events().get(streamed.events().size() - 1)[1]);
    String runId = JSON.readTree(streamed.events().get(0)[1]).get("run_id").asText();
    assertEquals("/runs/" + runId, streamed.contentLocation(), "a stateless run's address, as the reference's");
    assertEquals(404, send("GET", "/runs/" + runId + "/stream", "").status(), "it ended: nothing to join");
    assertEquals(422, send("POST", "/runs/wait", "{\"assistant_id\":\"slow\",\"input\":\"s\","
        + "\"on_completion\":\"later\"}").status());
  }

  @Test
  void threadsArePatchedAndCountedAndAssistantsCounted() {
    String team = java.util.UUID.randomUUID().toString();
    String threadId = send("POST", "/threads", "{\"metadata\":{\"team\":\"" + team + "\",\"a\":1}}").json()
        .get("thread_id").asText();
    Reply patched = send("PATCH", "/threads/" + threadId, "{\"metadata\":{\"a\":2,\"b\":\"c\"}}");
    assertEquals(200, patched.status(), patched.body());
    assertEquals(2, patched.json().get("metadata").get("a").asInt(), patched.body());
    assertEquals("c", patched.json().get("metadata").get("b").asText());
    assertEquals(team, patched.json().get("metadata").get("team").asText());
    assertEquals("idle", patched.json().get("status").asText());
    assertEquals("c", send("GET", "/threads/" + threadId, "").json().get("metadata").get("b").asText());

    String byTeam = "{\"metadata\":{\"team\":\"" + team + "\"}";
    assertEquals("1", send("POST", "/threads/count", byTeam + "}").body().trim());
    assertEquals("1", send("POST", "/threads/count", byTeam + ",\"status\":\"idle\"}").body().trim());
    assertEquals("0", send("POST", "/threads/count", byTeam + ",\"status\":\"busy\"}").body().trim());
    send("POST", "/threads/" + threadId + "/runs/wait", "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"a\"]}}");
    JsonNode afterRun = send("GET", "/threads/" + threadId, "").json();
    assertEquals("c", afterRun.get("metadata").get("b").asText(), "a run keeps the patched metadata");
    assertEquals("notes", afterRun.get("metadata").get("graph_id").asText());

    assertEquals(404, send("PATCH", "/threads/" + java.util.UUID.randomUUID(), "{\"metadata\":{}}").status());
    for (String bad : List.of("{\"metadata\":\"x\"}", "{\"ttl\":0}", "{\"ttl\":{\"strategy\":\"keep\",\"ttl\":5}}",
        "[]")) {
      Reply refused = send("PATCH", "/threads/" + threadId, bad);
      assertEquals(422, refused.status(), bad + " -> " + refused.body());
      assertTrue(refused.json().has("detail"), refused.body());
    }
    for (String bad : List.of("{\"values\":{\"x\":1}}", "{\"status\":\"sleeping\"}", "{\"metadata\":5}")) {
      assertEquals(422, send("POST", "/threads/count", bad).status(), bad);
    }

    int assistants = send("POST", "/assistants/search", "{\"limit\":1000}").json().size();
    assertEquals(String.valueOf(assistants), send("POST", "/assistants/count", "{}").body().trim());
    assertEquals("1", send("POST", "/assistants/count", "{\"graph_id\":\"notes\"}").body().trim());
    assertEquals("0", send("POST", "/assistants/count", "{\"graph_id\":\"nope\"}").body().trim());
    assertEquals(422, send("POST", "/assistants/count", "{\"graph_id\":5}").status());
  }

  @Test
  void aCopiedThreadHasTheSameStateAndGoesOnByItself() {
    String original = send("POST", "/threads", "{\"metadata\":{\"owner\":\"ann\"}}").json().get("thread_id")
        .asText();
    JsonNode paused = send("POST", "/threads/" + original + "/runs/wait", "{\"assistant_id\":\"hitl\",\"input\":\"x\"}")
        .json();
    assertTrue(paused.has("__interrupt__"), paused.toString());
    Reply copied = send("POST", "/threads/" + original + "/copy", "");
    assertEquals(200, copied.status(), copied.body());
    String copy = copied.json().get("thread_id").asText();
    assertTrue(!copy.equals(original));
    assertEquals("ann", copied.json().get("metadata").get("owner").asText());
    assertEquals("interrupted", copied.json().get("status").asText(), copied.body());
    JsonNode originalState = send("GET", "/threads/" + original + "/state", "").json();
    JsonNode copyState = send("GET", "/threads/" + copy + "/state", "").json();
    assertEquals(originalState.get("interrupts"), copyState.get("interrupts"), copyState.toString());
    assertEquals(originalState.get("next"), copyState.get("next"));
    assertEquals(send("POST", "/threads/" + original + "/history", "{\"limit\":100}").json().size(),
        send("POST", "/threads/" + copy + "/history", "{\"limit\":100}").json().size());

    assertEquals("x bar y", send("POST", "/threads/" + copy + "/runs/wait",
        "{\"assistant_id\":\"hitl\",\"command\":{\"resume\":\"y\"}}").json().asText());
    assertEquals("interrupted", send("GET", "/threads/" + original, "").json().get("status").asText(),
        "the original is untouched");
    assertEquals("x bar z", send("POST", "/threads/" + original + "/runs/wait",
        "{\"assistant_id\":\"hitl\",\"command\":{\"resume\":\"z\"}}").json().asText());

    String fresh = send("POST", "/threads", "{}").json().get("thread_id").asText();
    Reply emptyCopy = send("POST", "/threads/" + fresh + "/copy", "");
    assertEquals(200, emptyCopy.status(), emptyCopy.body());
    assertEquals("idle", emptyCopy.json().get("status").asText());
    assertEquals(404, send("POST", "/threads/" + java.util.UUID.randomUUID() + "/copy", "").status());
  }

  private static List<String> iterable(java.util.Iterator<String> names) {
    List<String> list = new ArrayList<>();
    names.forEachRemaining(list::add);
    return list;
  }

  /**
   * Checks thread search orders on three threads created in this order, the first then patched ({@code search}
   * answers for the filter plus the given extra body fields); also used by PostgresServerIT.
   */
  static void assertSortedSearch(List<String> created, java.util.function.Function<String, JsonNode> search) {
    java.util.function.Function<String, List<String>> ids = extra -> {
      List<String> found = new ArrayList<>();
      search.apply(extra).forEach(thread -> found.add(thread.get("thread_id").asText()));
      return found;
    };
    assertEquals(List.of(created.get(2), created.get(1), created.get(0)), ids.apply(""), "newest first by default");
    assertEquals(created, ids.apply(",\"sort_by\":\"created_at\",\"sort_order\":\"asc\""));
    assertEquals(created.get(0), ids.apply(",\"sort_by\":\"updated_at\"").get(0), "the patched one");
    List<String> byId = new ArrayList<>(created);
    java.util.Collections.sort(byId);
    assertEquals(byId, ids.apply(",\"sort_by\":\"thread_id\",\"sort_order\":\"asc\""));
    java.util.Collections.reverse(byId);
    assertEquals(byId, ids.apply(",\"sort_by\":\"thread_id\""));
    assertEquals(3, ids.apply(",\"sort_by\":\"status\"").size());
  }

  @Test
  void threadSearchSortsByTheFieldAndOrderAsked() {
    String team = java.util.UUID.randomUUID().toString();
    List<String> created = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      created.add(send("POST", "/threads", "{\"metadata\":{\"team\":\"" + team + "\"}}").json().get("thread_id").asText());
    }
    Mono.delay(Duration.ofMillis(5)).block();
    assertEquals(200, send("PATCH", "/threads/" + created.get(0), "{\"metadata\":{\"x\":1}}").status());
    String filter = "{\"metadata\":{\"team\":\"" + team + "\"}";
    assertSortedSearch(created, extra -> send("POST", "/threads/search", filter + extra + "}").json());
    JsonNode selected = send("POST", "/threads/search", filter + ",\"select\":[\"thread_id\",\"status\"]}").json();
    assertEquals(3, selected.size());
    selected.forEach(thread -> assertEquals(List.of("thread_id", "status"), iterable(thread.fieldNames())));
    for (String bad : List.of(",\"select\":[\"secret\"]", ",\"select\":\"thread_id\"", ",\"values\":{\"a\":1}")) {
      assertEquals(422, send("POST", "/threads/search", filter + bad + "}").status(), bad);
    }
    assertEquals(422, send("POST", "/threads/search", filter + ",\"sort_by\":\"name\"}").status());
    assertEquals(422, send("POST", "/threads/search", filter + ",\"sort_order\":\"up\"}").status());
  }

  @Test
  void threadCreationChecksItsFields() {
    String threadId = java.util.UUID.randomUUID().toString();
    JsonNode created = send("POST", "/threads", "{\"thread_id\":\"" + threadId + "\",\"metadata\":{\"a\":1,\"b\":null}}")
        .json();
    assertEquals(threadId, created.get("thread_id").asText());
    assertTrue(created.get("metadata").has("b"), created.toString());
    Reply again = send("POST", "/threads", "{\"thread_id\":\"" + threadId + "\",\"if_exists\":\"do_nothing\","
        + "\"metadata\":{\"a\":2}}");
    assertEquals(200, again.status());
    assertEquals(1, again.json().get("metadata").get("a").asInt(), "do_nothing returns the thread unchanged");
    assertEquals(409, send("POST", "/threads", "{\"thread_id\":\"" + threadId + "\",\"if_exists\":\"raise\"}").status());
    for (String bad : List.of("{\"if_exists\":\"overwrite\"}", "{\"metadata\":\"x\"}", "{\"thread_id\":5}",
        "{\"thread_id\":\" \"}", "[1]")) {
      Reply refused = send("POST", "/threads", bad);
      assertEquals(422, refused.status(), bad + " -> " + refused.body());
      assertTrue(refused.json().has("detail"), refused.body());
    }
    assertEquals(1, send("POST", "/threads/search", "{\"metadata\":{\"b\":null},\"ids\":[\"" + threadId + "\"]}")
        .json().size());
  }

  @Test
  void searchesAndListsCheckTheirFilters() {
    assertEquals(4, send("POST", "/assistants/search", "{\"metadata\":{\"created_by\":\"system\"}}").json().size());
    assertEquals(0, send("POST", "/assistants/search", "{\"metadata\":{\"created_by\":\"ann\"}}").json().size());
    JsonNode named = send("POST", "/assistants/search", "{\"name\":\"SLO\"}").json();
    assertEquals(2, named.size(), named.toString()); // slow and slower
    String threadId = newThread();
    for (String bad : List.of("{\"status\":\"sleeping\"}", "{\"limit\":-1}", "{\"offset\":\"x\"}", "{\"ids\":\"x\"}",
        "{\"metadata\":[1]}")) {
      Reply refused = send("POST", "/threads/search", bad);
      assertEquals(422, refused.status(), bad + " -> " + refused.body());
    }
    assertEquals(422, send("GET", "/threads/" + threadId + "/runs?status=sleeping", "").status());
    assertEquals(422, send("GET", "/threads/" + threadId + "/runs?limit=ten", "").status());
    assertEquals(422, send("GET", "/threads/" + threadId + "/runs?limit=-1", "").status());
    assertEquals(422, send("GET", "/threads/" + threadId + "/runs?offset=-3", "").status());
    Reply maybe = send("GET", "/threads/" + threadId + "/runs/" + UUID.randomUUID() + "/stream?cancel_on_disconnect=maybe",
        "");
    assertEquals(422, maybe.status(), maybe.body());
    assertTrue(maybe.body().contains("cancel_on_disconnect"), maybe.body());
    assertEquals(422, send("POST", "/threads/" + threadId + "/history", "{\"limit\":\"ten\"}").status());
    assertEquals(0, send("GET", "/threads/" + threadId + "/runs?status=pending", "").json().size());
    assertEquals(0, send("GET", "/threads/" + threadId + "/runs?status=timeout", "").json().size(),
        "timeout is a status of the protocol");
  }

  @Test
  void unknownRoutesGetAJsonNotFound() {
    Reply unknown = send("GET", "/threads/x/nonsense", "");
    assertEquals(404, unknown.status());
    assertTrue(unknown.json().get("detail").asText().contains("/threads/x/nonsense"), unknown.body());
    assertEquals(404, send("PUT", "/threads", "{}").status());
  }

  @Test
  void stateAtACheckpointByGetAndUpdateStateAtACheckpointObject() {
    String threadId = newThread();
    send("POST", "/threads/" + threadId + "/runs/wait", "{\"assistant_id\":\"slow\",\"input\":\"a\"}");
    String first = send("GET", "/threads/" + threadId + "/state", "").json().get("checkpoint").get("checkpoint_id")
        .asText();
    send("POST", "/threads/" + threadId + "/runs/wait", "{\"assistant_id\":\"slow\",\"input\":\"b\"}");
    JsonNode old = send("GET", "/threads/" + threadId + "/state/" + first, "").json();
    assertEquals("a!", old.get("values").asText(), old.toString());
    assertEquals(404, send("GET", "/threads/" + threadId + "/state/nope", "").status());
    assertEquals(404, send("GET", "/threads/nope/state/" + first, "").status());
    // the JS client's updateState({checkpoint: {checkpoint_id}}) forks from that checkpoint
    JsonNode forked = send("POST", "/threads/" + threadId + "/state", "{\"values\":\"forked\",\"checkpoint\":"
        + "{\"checkpoint_id\":\"" + first + "\"}}").json();
    String forkId = forked.get("checkpoint").get("checkpoint_id").asText();
    JsonNode fork = send("GET", "/threads/" + threadId + "/state/" + forkId, "").json();
    assertEquals(first, fork.get("parent_checkpoint").get("checkpoint_id").asText(), fork.toString());
  }

  @Test
  void runBodiesAreChecked() {
    String threadId = newThread();
    String base = "/threads/" + threadId + "/runs";
    for (String bad : List.of("\"interrupt_before\":[5]", "\"interrupt_after\":\"note\"", "\"config\":\"x\"",
        "\"multitask_strategy\":7", "\"if_not_exists\":\"always\"", "\"on_disconnect\":\"explode\"")) {
      for (String endpoint : List.of("", "/wait", "/stream")) {
        Reply refused = send("POST", base + endpoint, "{\"assistant_id\":\"notes\",\"input\":{}," + bad + "}");
        assertEquals(422, refused.status(), endpoint + " " + bad + " -> " + refused.body());
      }
    }
    assertEquals(0, send("GET", base, "").json().size(), "no run was created");
    // time travel with the JS client's checkpoint: {checkpoint_id}
    send("POST", base + "/wait", "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"a\"]}}");
    String afterFirst = send("GET", "/threads/" + threadId + "/state", "").json().get("checkpoint")
        .get("checkpoint_id").asText();
    send("POST", base + "/wait", "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"b\"]}}");
    assertEquals("[\"a\",\"noted\",\"c\",\"noted\"]", send("POST", base + "/wait", "{\"assistant_id\":\"notes\","
        + "\"input\":{\"notes\":[\"c\"]},\"checkpoint\":{\"checkpoint_id\":\"" + afterFirst + "\"}}").json()
        .get("notes").toString());
  }

  /** Threads in memory whose "busy" writes fail while {@link #broken}: a database that fails after a run exists. */
  static final class FlakyThreadStore implements ThreadStore {
    final InMemoryThreadStore threads = new InMemoryThreadStore();
    volatile boolean broken;

    @Override
    public Mono<ThreadRecord> create(String threadId, java.util.Map<String, Object> metadata, String ifExists) {
      return threads.create(threadId, metadata, ifExists);
    }

    @Override
    public Mono<ThreadRecord> get(String threadId) {
      return threads.get(threadId);
    }

    @Override
    public Mono<ThreadRecord> update(String threadId, String status, @org.jspecify.annotations.Nullable String graphId,
                                     java.util.Map<String, Object> metadata,
                                     java.util.@org.jspecify.annotations.Nullable Map<String, Object> configurable) {
      return broken && status.equals("busy") ? Mono.error(new IllegalStateException("database down"))
          : threads.update(threadId, status, graphId, metadata, configurable);
    }

    @Override
    public Mono<Boolean> delete(String threadId) {
      return threads.delete(threadId);
    }

    @Override
    public reactor.core.publisher.Flux<ThreadRecord> search(java.util.Map<String, Object> metadata,
        @org.jspecify.annotations.Nullable String status, List<String> ids, int limit, int offset, Order order) {
      return threads.search(metadata, status, ids, limit, offset, order);
    }

    @Override
    public Mono<ThreadRecord> patchMetadata(String threadId, java.util.Map<String, Object> metadata) {
      return threads.patchMetadata(threadId, metadata);
    }

    @Override
    public Mono<Boolean> setTtl(String threadId, @org.jspecify.annotations.Nullable Duration ttl) {
      return threads.setTtl(threadId, ttl);
    }

    @Override
    public reactor.core.publisher.Flux<String> expired(java.time.Instant now, int limit) {
      return threads.expired(now, limit);
    }

    @Override
    public Mono<Long> count(java.util.Map<String, Object> metadata, @org.jspecify.annotations.Nullable String status) {
      return threads.count(metadata, status);
    }

  }

  @Test
  void aRunWhoseStatusWriteFailsEndsAsErrorInsteadOfAFiveHundredTheClientWouldRetry() {
    FlakyThreadStore store = new FlakyThreadStore();
    InMemorySaver saver = new InMemorySaver();
    Entrypoint<String, String> echo = Entrypoint.named("echo").checkpointer(saver)
        .define(String.class, String.class, (q, context) -> Mono.just(q + "!"));
    ServerApi api = new ServerApi(java.util.Map.of("echo", echo), store, new InMemoryRunStore(), saver, null,
        Cors.allowing(java.util.List.of("*")));
    reactor.netty.DisposableServer flaky = reactor.netty.http.server.HttpServer.create().host("127.0.0.1").port(0)
        .handle(api.handler()).bindNow();
    try {
      HttpClient client = HttpClient.create().baseUrl("http://127.0.0.1:" + flaky.port());
      java.util.function.BiFunction<String, String, Reply> post = (path, body) -> client.post().uri(path)
          .send(ByteBufFlux.fromString(Mono.just(body)))
          .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8).defaultIfEmpty("")
              .map(text -> new Reply(response.status().code(), text, "")))
          .block(Duration.ofSeconds(10));
      String threadId = post.apply("/threads", "{}").json().get("thread_id").asText();
      String base = "/threads/" + threadId + "/runs";
      store.broken = true;
      Reply waited = post.apply(base + "/wait", "{\"assistant_id\":\"echo\",\"input\":\"a\"}");
      assertEquals(200, waited.status(), waited.body());
      assertEquals("database down", waited.json().get("__error__").get("message").asText());
      Reply background = post.apply(base, "{\"assistant_id\":\"echo\",\"input\":\"b\"}");
      assertEquals(200, background.status(), background.body());
      assertEquals("error", background.json().get("status").asText());
      Reply streamed = post.apply(base + "/stream", "{\"assistant_id\":\"echo\",\"input\":\"c\"}");
      assertEquals(200, streamed.status(), streamed.body());
      assertEquals("metadata", streamed.events().get(0)[0]);
      assertEquals("error", streamed.events().get(1)[0], streamed.body());
      store.broken = false;
      // none of them holds the thread: the next run (multitask_strategy reject) goes ahead
      assertEquals("d!", post.apply(base + "/wait", "{\"assistant_id\":\"echo\",\"input\":\"d\"}").json().asText());
      JsonNode listed = client.get().uri(base).responseSingle((response, content) -> content.asString())
          .map(text -> new Reply(200, text, "").json()).block(Duration.ofSeconds(10));
      assertEquals(4, listed.size(), listed.toString());
      assertEquals(3, java.util.stream.StreamSupport.stream(listed.spliterator(), false)
          .filter(run -> run.get("status").asText().equals("error")).count(), listed.toString());
    } finally {
      flaky.disposeNow();
    }
  }

  @Test
  void noEndpointAnswersAFiveHundredToOddBodies() {
    List<String> bodies = List.of("", "null", "5", "[]", "\"x\"", "{}", "{\"assistant_id\":5}",
        "{\"assistant_id\":\"hitl\",\"input\":{\"x\":1}}", "{\"assistant_id\":\"hitl\",\"command\":5}",
        "{\"assistant_id\":\"hitl\",\"command\":{\"resume\":null}}", "{\"assistant_id\":\"hitl\",\"stream_mode\":[1,{}]}",
        "{\"assistant_id\":\"hitl\",\"input\":\"x\",\"checkpoint_id\":\"nope\"}",
        "{\"assistant_id\":\"hitl\",\"input\":\"x\",\"metadata\":{\"a\":null,\"b\":{\"c\":null}}}",
        "{\"assistant_id\":\"hitl\",\"command\":{\"goto\":5}}", "{\"assistant_id\":\"notes\",\"command\":{\"update\":[]}}",
        "{\"assistant_id\":\"hitl\",\"command\":{\"resume\":{\"00000000-0000-0000-0000-000000000000\":1}}}",
        "{\"assistant_id\":\"notes\",\"input\":{\"notes\":5}}", "{\"assistant_id\":\"hitl\",\"after_seconds\":\"x\"}",
        "{\"assistant_id\":\"hitl\",\"durability\":5}", "{\"assistant_id\":\"hitl\",\"checkpoint\":5}",
        "{\"limit\":\"x\",\"offset\":-1}", "{\"limit\":1e99}", "{\"ids\":[null,5]}", "{\"metadata\":{\"a\":{\"b\":null}}}",
        "{\"values\":{\"x\":[1]}}", "{\"values\":null,\"as_node\":5}", "{\"checkpoint\":5,\"before\":5}",
        "{\"checkpoint\":{\"checkpoint_id\":5}}", "{\"before\":{\"configurable\":{\"checkpoint_id\":\"nope\"}}}",
        "{\"thread_id\":null,\"if_exists\":null,\"metadata\":null}");
    for (String body : bodies) {
      String threadId = newThread();
      send("POST", "/threads/" + threadId + "/runs/wait", "{\"assistant_id\":\"hitl\",\"input\":\"x\"}"); // paused
      for (String path : List.of("/threads", "/threads/search", "/assistants/search", "/threads/" + threadId + "/state",
          "/threads/" + threadId + "/history", "/threads/" + threadId + "/state/checkpoint",
          "/threads/" + threadId + "/runs", "/threads/" + threadId + "/runs/wait", "/threads/" + threadId + "/runs/stream",
          "/runs/wait", "/runs/stream")) {
        Reply reply = send("POST", path, body);
        assertTrue(reply.status() < 500, "POST " + path + " " + body + " -> " + reply.status() + " " + reply.body());
        if (reply.status() >= 400) {
          assertTrue(reply.json().get("detail").isTextual(), path + " " + body + " -> " + reply.body());
        }
      }
    }
    String threadId = newThread();
    for (String query : List.of("?limit=-5", "?offset=x", "?status=", "?limit=99999999999")) {
      Reply reply = send("GET", "/threads/" + threadId + "/runs" + query, "");
      assertTrue(reply.status() < 500, query + " -> " + reply.status() + " " + reply.body());
    }
  }

  @Test
  void badInputGetsAClearFourHundred() {
    Reply malformed = send("POST", "/threads", "{not json");
    assertEquals(422, malformed.status());
    assertTrue(malformed.json().get("detail").asText().startsWith("malformed JSON"), malformed.body());
    assertEquals(404, send("GET", "/threads/nope", "").status());
    assertEquals(404, send("POST", "/threads/nope/runs/stream", "{\"assistant_id\":\"hitl\",\"input\":\"x\"}").status());
    String threadId = send("POST", "/threads", "{}").json().get("thread_id").asText();
    assertEquals(404, send("POST", "/threads/" + threadId + "/runs/stream",
        "{\"assistant_id\":\"nope\",\"input\":\"x\"}").status());
    Reply badMode = send("POST", "/threads/" + threadId + "/runs/stream",
        "{\"assistant_id\":\"hitl\",\"input\":\"x\",\"stream_mode\":\"bogus\"}");
    assertEquals(422, badMode.status());
    assertTrue(badMode.json().get("detail").asText().contains("bogus"), badMode.body());
    assertEquals(422, send("POST", "/threads/" + threadId + "/runs/wait",
        "{\"assistant_id\":\"hitl\",\"command\":{\"resume\":\"nothing pending\"}}").status());
    assertEquals(413, send("POST", "/threads", "{\"metadata\":{\"x\":\"" + "a".repeat(1 << 20) + "\"}}").status());
    assertEquals(409, send("POST", "/threads", "{\"thread_id\":\"" + threadId + "\"}").status());
    assertEquals(200, send("POST", "/assistants/search", "{}").status(), "the server is still up");
  }
}
