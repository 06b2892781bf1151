package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.postgres.PostgresSaver;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * Two server processes on one PostgreSQL, in this JVM (the multi-process test kills real ones): join, joinStream,
 * wait, cancel and every multitask strategy behave the same whichever process gets the request; a finished run's
 * events replay from a process started after it ended; a process that stops hands its unfinished runs over, and the
 * taker resumes them from their checkpoints without running their committed tasks again.
 */
class SharedRunsIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(30);
  /** How often each tag's tasks started, across both servers. */
  private static final Map<String, AtomicInteger> STARTS = new ConcurrentHashMap<>();

  private static EmbeddedPostgres postgres;
  private static String url;
  private final List<FluxgraphServer> servers = new ArrayList<>();
  private final List<PostgresSaver> savers = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void database() throws IOException {
    postgres = EmbeddedPostgres.builder().start();
    url = "r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/postgres";
  }

  @AfterAll
  static void stopDatabase() throws IOException {
    postgres.close();
  }

  @AfterEach
  void stopServers() {
    for (FluxgraphServer server : servers) {
      server.stop().onErrorResume(error -> Mono.empty()).block(WAIT);
    }
    savers.forEach(PostgresSaver::close);
  }

  private static int count(String tag, String task) {
    return STARTS.computeIfAbsent(tag + "/" + task, key -> new AtomicInteger()).get();
  }

  /** A server with {@code sleep} (answers its input, milliseconds, after that long) and {@code steps}. */
  private int start(Duration grace) {
    PostgresSaver saver = PostgresSaver.connect(url);
    savers.add(saver);
    saver.setup().block(WAIT);
    // steps: input "<tag>:<ms>": a quick task, then one that takes <ms>; each counts its starts per tag
    Task<String, String> first = Task.of("first", String.class, (String input) -> Mono.fromCallable(() -> {
      STARTS.computeIfAbsent(input.split(":")[0] + "/first", key -> new AtomicInteger()).incrementAndGet();
      return input;
    }));
    Task<String, String> slow = Task.of("slow", String.class, (String input) -> Mono.defer(() -> {
      STARTS.computeIfAbsent(input.split(":")[0] + "/slow", key -> new AtomicInteger()).incrementAndGet();
      return Mono.delay(Duration.ofMillis(Long.parseLong(input.split(":")[1]))).thenReturn("done " + input);
    }));
    Entrypoint<String, String> steps = Entrypoint.named("steps").checkpointer(saver)
        .define(String.class, String.class, (input, context) -> first.call(input).flatMap(slow::call));
    Entrypoint<Integer, Integer> sleep = Entrypoint.named("sleep").checkpointer(saver)
        .define(Integer.class, Integer.class, (input, context) -> Mono.delay(Duration.ofMillis(input))
            .thenReturn(input));
    Entrypoint<String, String> fails = Entrypoint.named("fails").checkpointer(saver)
        .define(String.class, String.class, (input, context) -> Mono.error(new IllegalStateException("no " + input)));
    Entrypoint<String, String> asks = Entrypoint.named("asks").checkpointer(saver)
        .define(String.class, String.class, (input, context) -> context.interrupt("ok " + input + "?", String.class)
            .map(answer -> input + " " + answer));
    FluxgraphServer server = FluxgraphServer.builder().discoverGraphs(false).port(0).checkpointer(saver)
        .leaseTtl(Duration.ofSeconds(3)).heartbeatInterval(Duration.ofMillis(500)).shutdownGrace(grace)
        .graph("steps", steps).graph("sleep", sleep).graph("fails", fails).graph("asks", asks).build().start()
        .block(WAIT);
    servers.add(server);
    return server.port();
  }

  private int start() {
    return start(Duration.ofSeconds(5));
  }

  @Test
  void joinJoinStreamAndWaitWorkFromAProcessThatDoesNotRunTheRun() throws Exception {
    int a = start();
    int b = start();
    String thread = thread(a);
    String run = post(a, "/threads/" + thread + "/runs", "{\"assistant_id\":\"steps\",\"input\":\"j:1500\","
        + "\"stream_mode\":[\"values\",\"updates\"]}").get("run_id").asText();
    List<String[]> events = sse(b, "/threads/" + thread + "/runs/" + run + "/stream", null);
    assertEquals("metadata", events.get(0)[0]);
    assertTrue(events.get(0)[2].contains("\"attempt\":1"), events.get(0)[2]);
    assertEquals("values", events.get(events.size() - 1)[0]);
    assertEquals("\"done j:1500\"", events.get(events.size() - 1)[2]);
    for (int i = 0; i < events.size(); i++) {
      assertEquals(Integer.toString(i), events.get(i)[1], "event ids count up from 0");
    }
    assertEquals("success", get(b, "/threads/" + thread + "/runs/" + run).get("status").asText());
    // Last-Event-ID from the other process: only what came after it
    List<String[]> rest = sse(a, "/threads/" + thread + "/runs/" + run + "/stream", "0");
    assertEquals(events.size() - 1, rest.size());
    assertEquals("1", rest.get(0)[1]);

    String second = post(b, "/threads/" + thread + "/runs", "{\"assistant_id\":\"steps\",\"input\":\"j2:800\"}")
        .get("run_id").asText();
    assertEquals("done j2:800", get(a, "/threads/" + thread + "/runs/" + second + "/join").asText());
    assertEquals("idle", get(a, "/threads/" + thread).get("status").asText());
  }

  /** A failed or paused run joined from a process that did not run it answers what its own process answers. */
  @Test
  void joinOfAFailedOrPausedRunFromAnotherProcessAnswersAsItsOwnProcess() throws Exception {
    int a = start();
    int b = start();
    for (String graph : List.of("fails", "asks")) {
      for (String how : List.of("/runs/wait", "/runs")) { // a waited run keeps its events for its end; a background one
        String thread = thread(a);
        String run = post(a, "/threads/" + thread + how, "{\"assistant_id\":\"" + graph + "\",\"input\":\"x\"}")
            .path("run_id").asText(null);
        if (run == null) {
          run = get(a, "/threads/" + thread + "/runs").get(0).get("run_id").asText();
        }
        JsonNode here = get(a, "/threads/" + thread + "/runs/" + run + "/join");
        assertTrue(here.has(graph.equals("fails") ? "__error__" : "__interrupt__"), here.toString());
        assertEquals(here, get(b, "/threads/" + thread + "/runs/" + run + "/join"), graph + " " + how);
      }
    }
  }

  /**
   * A run streamed to its client here keeps its events for its end (one row, written with its final save) while
   * nobody elsewhere follows it; a joiner on another process asks for them, and gets them while the run goes on; a
   * background run's are written as they come.
   */
  @Test
  void aStreamedRunsEventsWaitForItsEndUnlessSomebodyElsewhereFollowsIt() throws Exception {
    int a = start();
    int b = start();
    String thread = thread(a);
    List<String[]> alone = sse(a, "/threads/" + thread + "/runs/stream", null,
        "{\"assistant_id\":\"steps\",\"input\":\"d:10\",\"stream_mode\":[\"values\",\"updates\"]}");
    String shortRun = JSON.readTree(alone.get(0)[2]).get("run_id").asText();
    assertEquals("0-" + (alone.size() - 1) + " 1", sql("SELECT min(seq) || '-' || max(last_seq) || ' ' || count(*)"
        + " FROM fluxgraph_run_events WHERE run_id = '" + shortRun + "'"), "every event, in one row");

    String followedThread = thread(a);
    CompletableFuture<List<String[]>> streamed = CompletableFuture.supplyAsync(() -> {
      try {
        return sse(a, "/threads/" + followedThread + "/runs/stream", null,
            "{\"assistant_id\":\"steps\",\"input\":\"f:3000\",\"stream_mode\":[\"values\",\"updates\"]}");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    await(() -> sql("SELECT run_id FROM fluxgraph_runs WHERE thread_id = '" + followedThread + "'") != null,
        "the streamed run recorded");
    String run = sql("SELECT run_id FROM fluxgraph_runs WHERE thread_id = '" + followedThread + "'");
    HttpResponse<Stream<String>> joined = http.send(HttpRequest.newBuilder(
        uri(b, "/threads/" + followedThread + "/runs/" + run + "/stream")).timeout(WAIT).GET().build(),
        HttpResponse.BodyHandlers.ofLines());
    try (Stream<String> lines = joined.body()) {
      String firstUpdate = lines.filter(line -> line.startsWith("data:") && line.contains("first")).findFirst()
          .orElseThrow();
      assertTrue(firstUpdate.contains("f:3000"), firstUpdate);
      assertEquals("running", sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + run + "'"),
          "the first task's update reached the other process while the run went on");
    }
    List<String[]> whole = streamed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertEquals("\"done f:3000\"", whole.get(whole.size() - 1)[2], "its own client got the whole stream");
    assertEquals("success", sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + run + "'"));

    String background = post(a, "/threads/" + thread(a) + "/runs", "{\"assistant_id\":\"steps\","
        + "\"input\":\"g:3000\",\"stream_mode\":[\"values\",\"updates\"]}").get("run_id").asText();
    await(() -> !"0".equals(sql("SELECT count(*) FROM fluxgraph_run_events WHERE run_id = '" + background + "'")),
        "the background run's first events written");
    assertEquals("running", sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + background + "'"),
        "before its end");
  }

  @Test
  void aRunIsCancelledFromAnotherProcess() throws Exception {
    int a = start();
    int b = start();
    String thread = thread(a);
    String run = post(a, "/threads/" + thread + "/runs", "{\"assistant_id\":\"sleep\",\"input\":60000}")
        .get("run_id").asText();
    awaitStatus(b, thread, run, "running");
    HttpResponse<String> cancelled = send(b, HttpRequest.newBuilder(uri(b, "/threads/" + thread + "/runs/" + run
        + "/cancel?wait=1&action=interrupt")).POST(HttpRequest.BodyPublishers.noBody()));
    assertEquals(204, cancelled.statusCode(), cancelled.body());
    assertEquals("interrupted", get(b, "/threads/" + thread + "/runs/" + run).get("status").asText(),
        "wait=1 answers once the run on the other process ended");
    assertEquals("interrupted", sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + run + "'"));
    await(() -> "idle".equals(sql("SELECT status FROM fluxgraph_threads WHERE thread_id = '" + thread + "'")),
        "the thread is idle again");
    JsonNode joined = get(b, "/threads/" + thread + "/runs/" + run + "/join");
    assertEquals("RunCancelled", joined.path("__error__").path("error").asText(), joined.toString());
  }

  @Test
  void enqueuedRunsOfOneThreadRunInOrderWhicheverProcessGotThemAndRejectIsRefused() throws Exception {
    int a = start();
    int b = start();
    String thread = thread(a);
    String first = post(a, "/threads/" + thread + "/runs", "{\"assistant_id\":\"sleep\",\"input\":1500}")
        .get("run_id").asText();
    String second = post(b, "/threads/" + thread + "/runs", "{\"assistant_id\":\"sleep\",\"input\":200,"
        + "\"multitask_strategy\":\"enqueue\"}").get("run_id").asText();
    String third = post(a, "/threads/" + thread + "/runs", "{\"assistant_id\":\"sleep\",\"input\":100,"
        + "\"multitask_strategy\":\"enqueue\"}").get("run_id").asText();
    assertEquals("pending", get(b, "/threads/" + thread + "/runs/" + third).get("status").asText());
    HttpResponse<String> refused = send(b, HttpRequest.newBuilder(uri(b, "/threads/" + thread + "/runs"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
            "{\"assistant_id\":\"sleep\",\"input\":1,\"multitask_strategy\":\"reject\"}")));
    assertEquals(409, refused.statusCode(), refused.body());
    assertTrue(refused.body().contains("busy"), refused.body());
    assertEquals(100, get(b, "/threads/" + thread + "/runs/" + third + "/join").asInt());
    for (String run : List.of(first, second, third)) {
      assertEquals("success", sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + run + "'"));
    }
    assertEquals("t", sql("SELECT f.updated_at <= s.started_at AND s.updated_at <= t.started_at FROM fluxgraph_runs f,"
        + " fluxgraph_runs s, fluxgraph_runs t WHERE f.run_id = '" + first + "' AND s.run_id = '" + second
        + "' AND t.run_id = '" + third + "'"), "FIFO: each started after the one before it ended");
    assertEquals("idle", get(a, "/threads/" + thread).get("status").asText());
  }

  @Test
  void interruptAndRollbackFromAnotherProcessCancelTheRunningRunThere() throws Exception {
    int a = start();
    int b = start();
    String thread = thread(a);
    String old = post(a, "/threads/" + thread + "/runs", "{\"assistant_id\":\"sleep\",\"input\":60000}")
        .get("run_id").asText();
    awaitStatus(a, thread, old, "running");
    JsonNode next = post(b, "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"sleep\",\"input\":5,"
        + "\"multitask_strategy\":\"interrupt\"}");
    assertEquals(5, next.asInt(), next.toString());
    assertEquals("interrupted", sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + old + "'"));

    String doomed = post(a, "/threads/" + thread + "/runs", "{\"assistant_id\":\"sleep\",\"input\":60000}")
        .get("run_id").asText();
    awaitStatus(a, thread, doomed, "running");
    JsonNode after = post(b, "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"sleep\",\"input\":6,"
        + "\"multitask_strategy\":\"rollback\"}");
    assertEquals(6, after.asInt(), after.toString());
    assertEquals(null, sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + doomed + "'"),
        "a rolled-back run is erased");
    assertEquals("idle", get(b, "/threads/" + thread).get("status").asText());
  }

  /**
   * A rollback from another process: the owner stops the run, erases it and answers nothing of it from memory once
   * its record is being deleted. The delete is held by a lock on the run's row (taken by the test: {@code KEY SHARE},
   * which the cancel's flag does not wait for and a delete does) while the owner is asked for the thread's runs: it
   * must list the run as the database has it (here with metadata the test stored), not as its own live run. Before,
   * the owner dropped its live run only after the delete committed, and a client told by the other process that the
   * run was gone could still find it listed there ({@code interrupted}: the flake of {@code JsClientTwoProcessesIT}'s
   * "runs.cancel wait rollback").
   */
  @Test
  void aRunRolledBackFromAnotherProcessIsNotListedByItsOwnerOnceItsRecordIsBeingDeleted() throws Exception {
    int a = start();
    int b = start();
    String thread = thread(a);
    String run = post(a, "/threads/" + thread + "/runs", "{\"assistant_id\":\"sleep\",\"input\":300000}")
        .get("run_id").asText();
    sql("UPDATE fluxgraph_runs SET metadata = '{\"seen\": \"stored\"}' WHERE run_id = '" + run + "' RETURNING 1");
    HttpResponse<String> cancelled;
    try (Connection lock = postgres.getPostgresDatabase().getConnection()) {
      lock.setAutoCommit(false);
      try (Statement statement = lock.createStatement()) {
        statement.executeQuery("SELECT 1 FROM fluxgraph_runs WHERE run_id = '" + run + "' FOR KEY SHARE").close();
      }
      CompletableFuture<HttpResponse<String>> cancel = http.sendAsync(HttpRequest.newBuilder(uri(b, "/threads/"
          + thread + "/runs/" + run + "/cancel?wait=1&action=rollback")).POST(HttpRequest.BodyPublishers.noBody())
          .timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
      await(() -> "1".equals(sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
          + " AND query LIKE '%DELETE FROM fluxgraph_runs WHERE run_id = $1 AND owner = $2%'")),
          "the owner's delete of the rolled-back run waits for the row");
      JsonNode listed = get(a, "/threads/" + thread + "/runs");
      assertEquals(1, listed.size(), listed.toString());
      assertEquals("stored", listed.get(0).path("metadata").path("seen").asText(),
          "the owner lists the run from the database, not from its memory: " + listed);
      lock.rollback();
      cancelled = cancel.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
    assertEquals(204, cancelled.statusCode(), cancelled.body());
    assertEquals(null, sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + run + "'"));
    assertEquals(0, get(a, "/threads/" + thread + "/runs").size());
    assertEquals(0, get(b, "/threads/" + thread + "/runs").size());
    await(() -> "idle".equals(sql("SELECT status FROM fluxgraph_threads WHERE thread_id = '" + thread + "'")),
        "the thread is idle again");
  }

  @Test
  void aFinishedRunReplaysItsEventsFromAProcessStartedAfterItEnded() throws Exception {
    int a = start();
    String thread = thread(a);
    List<String[]> streamed = sse(a, "/threads/" + thread + "/runs/stream", null,
        "{\"assistant_id\":\"steps\",\"input\":\"r:10\",\"stream_mode\":[\"values\",\"updates\"]}");
    String run = JSON.readTree(streamed.get(0)[2]).get("run_id").asText();
    servers.remove(0).stop().block(WAIT);
    int c = start();
    List<String[]> replayed = sse(c, "/threads/" + thread + "/runs/" + run + "/stream", null);
    assertEquals(streamed.size(), replayed.size());
    for (int i = 0; i < streamed.size(); i++) {
      assertEquals(List.of(streamed.get(i)), List.of(replayed.get(i)));
    }
  }

  @Test
  void aStoppingProcessHandsItsRunOverAndTheTakerResumesItFromItsCheckpoint() throws Exception {
    int a = start(Duration.ofMillis(300));
    int b = start();
    String thread = thread(a);
    String run = post(a, "/threads/" + thread + "/runs", "{\"assistant_id\":\"steps\",\"input\":\"h:2500\","
        + "\"durability\":\"sync\"}").get("run_id").asText();
    await(() -> count("h", "slow") == 1, "the slow task started on A, after the first one was committed");
    servers.remove(0).stop().block(WAIT); // within its grace the run does not finish: it is handed over
    assertEquals("done h:2500", get(b, "/threads/" + thread + "/runs/" + run + "/join").asText());
    assertEquals("success", sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + run + "'"));
    assertEquals("2", sql("SELECT attempt FROM fluxgraph_runs WHERE run_id = '" + run + "'"));
    assertEquals(1, count("h", "first"), "the committed task is not run again");
    assertEquals(2, count("h", "slow"), "the task that was cut short runs again");
    List<String[]> events = sse(b, "/threads/" + thread + "/runs/" + run + "/stream", null);
    List<String> metadata = events.stream().filter(event -> event[0].equals("metadata")).map(event -> event[2])
        .toList();
    assertEquals(2, metadata.size(), metadata.toString());
    assertTrue(metadata.get(1).contains("\"attempt\":2"), metadata.toString());
    assertFalse(sql("SELECT owner FROM fluxgraph_runs WHERE run_id = '" + run + "'").isEmpty());
    assertEquals("idle", get(b, "/threads/" + thread).get("status").asText());
  }

  @Test
  void aRunRecordedAsExecutingInALiveProcessThatDoesNotKnowItIsQueuedAgainAndFinished() throws Exception {
    int a = start();
    String thread = thread(a);
    String worker = servers.get(0).workerId();
    String run = java.util.UUID.randomUUID().toString();
    // what a claim whose answer was lost with its connection leaves: committed as running here, never seen here
    sql("INSERT INTO fluxgraph_runs (run_id, thread_id, assistant_id, created_at, updated_at, status, metadata,"
        + " multitask_strategy, owner, attempt, request, started_at) VALUES ('" + run + "', '" + thread + "', 'x',"
        + " now(), now() - interval '1 minute', 'running', '{}', 'reject', '" + worker + "', 1,"
        + " '{\"body\": {\"assistant_id\": \"sleep\", \"input\": 7}, \"stateless\": false}', now())"
        + " RETURNING run_id");
    assertEquals(7, get(a, "/threads/" + thread + "/runs/" + run + "/join").asInt());
    assertEquals("success", sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + run + "'"));
    assertEquals("2", sql("SELECT attempt FROM fluxgraph_runs WHERE run_id = '" + run + "'"));
  }

  // --- plumbing ---

  private String thread(int port) throws Exception {
    return post(port, "/threads", "{}").get("thread_id").asText();
  }

  private void awaitStatus(int port, String thread, String run, String status) throws Exception {
    await(() -> status.equals(sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + run + "'")),
        "run " + run + " " + status);
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("not within " + WAIT + ": " + what);
      }
      Thread.sleep(20); // polls a condition; no timing is asserted by the pause itself
    }
  }

  private static URI uri(int port, String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  private List<String[]> sse(int port, String path, @Nullable String lastEventId) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri(port, path)).GET();
    if (lastEventId != null) {
      request.header("Last-Event-ID", lastEventId);
    }
    return SseEvents.of(send(port, request));
  }

  private List<String[]> sse(int port, String path, @Nullable String lastEventId, String body) throws Exception {
    return SseEvents.of(send(port, HttpRequest.newBuilder(uri(port, path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body))));
  }

  private JsonNode post(int port, String path, String body) throws Exception {
    HttpResponse<String> response = send(port, HttpRequest.newBuilder(uri(port, path))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
    assertEquals(200, response.statusCode(), response.body());
    return response.body().isEmpty() ? JSON.nullNode() : JSON.readTree(response.body());
  }

  private JsonNode get(int port, String path) throws Exception {
    HttpResponse<String> response = send(port, HttpRequest.newBuilder(uri(port, path)).GET());
    assertEquals(200, response.statusCode(), response.body());
    return JSON.readTree(response.body());
  }

  private HttpResponse<String> send(int port, HttpRequest.Builder request) throws Exception {
    return http.send(request.timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static @Nullable String sql(String query) {
    return TestSql.first(postgres, query);
  }
}
