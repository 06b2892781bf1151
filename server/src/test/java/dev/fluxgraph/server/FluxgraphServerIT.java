package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.types.TypeRef;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

/** The server over a real socket: the subset implemented so far, and bad input. */
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
    Task<String, String> nap = Task.of("nap", String.class, (String q) -> Mono.delay(Duration.ofMillis(400)).thenReturn(q));
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
    Reply search = send("POST", "/assistants/search", "{}");
    assertEquals(200, search.status());
    assertEquals("hitl", search.json().get(0).get("graph_id").asText());
    String assistantId = search.json().get(0).get("assistant_id").asText();
    assertEquals("hitl", send("GET", "/assistants/" + assistantId, "").json().get("graph_id").asText());
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

    Reply resumed = send("POST", "/threads/" + threadId + "/runs/stream",
        "{\"assistant_id\":\"hitl\",\"command\":{\"resume\":\"baz\"},\"stream_mode\":[\"updates\",\"values\"]}");
    List<String[]> after = resumed.events();
    assertEquals("values", after.get(1)[0]);
    assertEquals("null", after.get(1)[1], "a resumed run first shows the current value");
    assertEquals("\"foo bar baz\"", after.get(after.size() - 1)[1]);
    assertEquals("idle", send("GET", "/threads/" + threadId, "").json().get("status").asText());
    assertTrue(send("POST", "/threads/" + threadId + "/history", "{}").json().size() >= 2);
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
    assertEquals("idle", send("GET", "/threads/" + threadId, "").json().get("status").asText());
  }

  @Test
  void multitaskStrategies() {
    String threadId = send("POST", "/threads", "{}").json().get("thread_id").asText();
    String base = "/threads/" + threadId + "/runs";
    String first = send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"a\"}").json().get("run_id").asText();
    Reply rejected = send("POST", base, "{\"assistant_id\":\"slow\",\"input\":\"b\"}");
    assertEquals(422, rejected.status());
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
    assertEquals(200, send("POST", base + "/" + run + "/cancel?action=rollback&wait=1", "").status());
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
    send("POST", base, "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"a\"]},\"metadata\":{\"who\":\"ann\"}}");
    send("POST", base, "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"b\"]}}");
    JsonNode history = send("POST", "/threads/" + thread + "/history", "{\"limit\":100}").json();
    assertEquals(6, history.size()); // per run: input, after the input, after the node
    JsonNode tagged = send("POST", "/threads/" + thread + "/history", "{\"metadata\":{\"who\":\"ann\"}}").json();
    assertEquals(3, tagged.size(), tagged.toString());
    String afterFirstRun = tagged.get(0).get("checkpoint").get("checkpoint_id").asText();
    assertEquals(2, send("POST", "/threads/" + thread + "/history", "{\"before\":\"" + afterFirstRun + "\"}").json()
        .size());
    assertEquals(3, send("POST", "/threads/" + thread + "/history",
        "{\"checkpoint\":{\"checkpoint_id\":\"" + afterFirstRun + "\"}}").json().size());
    // time travel: a new input from the checkpoint after the first run forgets the second
    assertEquals("[\"a\",\"noted\",\"c\",\"noted\"]", send("POST", base, "{\"assistant_id\":\"notes\","
        + "\"input\":{\"notes\":[\"c\"]},\"checkpoint_id\":\"" + afterFirstRun + "\"}").json().get("notes").toString());

    for (String bad : List.of("\"durability\":\"never\"", "\"after_seconds\":-1", "\"context\":[1]",
        "\"on_completion\":\"explode\"", "\"metadata\":\"x\"")) {
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
