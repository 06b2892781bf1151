package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.internal.server.storage.PostgresRunStore;
import dev.fluxgraph.internal.server.storage.PostgresThreadStore;
import dev.fluxgraph.internal.server.storage.RunStore;
import dev.fluxgraph.internal.server.storage.ThreadStore;
import dev.fluxgraph.postgres.PostgresSaver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

/** Threads and checkpoints survive a server restart when the server runs on PostgreSQL. */
class PostgresServerIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static io.zonky.test.db.postgres.embedded.EmbeddedPostgres postgres;
  private static String url;

  @BeforeAll
  static void database() throws Exception {
    postgres = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder().start();
    url = "r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/postgres";
  }

  @AfterAll
  static void close() throws Exception {
    postgres.close();
  }

  private static <T> T withServer(Function<HttpClient, T> action) {
    try (PostgresSaver saver = PostgresSaver.connect(url)) {
      saver.setup().block(Duration.ofSeconds(30));
      Task<String, String> ask = Task.of("ask", String.class,
          (String q, TaskContext context) -> context.interrupt("answer " + q + "?", String.class));
      Entrypoint<String, String> graph = Entrypoint.named("graph").checkpointer(saver)
          .define(String.class, String.class, (q, context) -> ask.call(q).map(a -> q + "=" + a));
      var notes = dev.fluxgraph.graph.StateGraph.ofMap()
          .reducer("notes", dev.fluxgraph.graph.Reducers.append())
          .addNode("note", (state, context) -> Mono.delay(Duration.ofMillis(500))
              .thenReturn(java.util.Map.<String, Object>of("notes", "noted")))
          .setEntryPoint("note")
          .compile(dev.fluxgraph.graph.CompileOptions.defaults().withCheckpointer(saver));
      FluxgraphServer server = FluxgraphServer.builder().discoverGraphs(false).port(0).checkpointer(saver)
          .graph("asking", graph).graph("notes", notes.asEntrypoint()).build().start().block(Duration.ofSeconds(30));
      try {
        return action.apply(HttpClient.create().baseUrl("http://127.0.0.1:" + server.port()));
      } finally {
        server.stop().block(Duration.ofSeconds(10));
      }
    }
  }

  private static JsonNode post(HttpClient http, String path, String body) {
    String text = http.post().uri(path).send(ByteBufFlux.fromString(Mono.just(body)))
        .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8)).block(Duration.ofSeconds(10));
    try {
      return JSON.readTree(text);
    } catch (Exception e) {
      throw new AssertionError(text, e);
    }
  }

  private static JsonNode get(HttpClient http, String path) {
    String text = http.get().uri(path).responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8))
        .block(Duration.ofSeconds(10));
    try {
      return JSON.readTree(text);
    } catch (Exception e) {
      throw new AssertionError(text, e);
    }
  }

  @Test
  void aThreadLeftBusyByADeadProcessIsReportedAsFailedAndCanContinue() {
    String threadId = withServer(http -> post(http, "/threads", "{}").get("thread_id").asText());
    try (PostgresSaver saver = PostgresSaver.connect(url)) {
      // what a process that died in the middle of a run leaves behind
      new PostgresThreadStore(saver.connectionFactory()).update(threadId, "busy", "asking", java.util.Map.of())
          .block(Duration.ofSeconds(10));
    }
    // with no run record at all (a version without workers), a thread is repaired once busy for a lease TTL
    sql("UPDATE fluxgraph_threads SET updated_at = now() - interval '1 minute' WHERE thread_id = '" + threadId + "'"
        + " RETURNING thread_id");
    withServer(http -> {
      assertEquals("error", get(http, "/threads/" + threadId).get("status").asText());
      return null;
    });
  }

  @Test
  void aPausedThreadSurvivesARestart() {
    String threadId = withServer(http -> {
      String id = post(http, "/threads", "{\"metadata\":{\"owner\":\"ann\"}}").get("thread_id").asText();
      JsonNode paused = post(http, "/threads/" + id + "/runs/wait", "{\"assistant_id\":\"asking\",\"input\":\"x\"}");
      assertTrue(paused.has("__interrupt__"), paused.toString());
      return id;
    });
    withServer(http -> {
      JsonNode thread = get(http, "/threads/" + threadId);
      assertEquals("interrupted", thread.get("status").asText(), thread.toString());
      assertEquals("ann", thread.get("metadata").get("owner").asText());
      assertEquals("asking", thread.get("metadata").get("graph_id").asText());
      assertEquals(1, post(http, "/threads/search", "{\"metadata\":{\"owner\":\"ann\"}}").size());
      JsonNode done = post(http, "/threads/" + threadId + "/runs/wait",
          "{\"assistant_id\":\"asking\",\"command\":{\"resume\":\"y\"}}");
      assertEquals("x=y", done.asText());
      assertEquals("idle", get(http, "/threads/" + threadId).get("status").asText());
      return null;
    });
  }

  @Test
  void runRecordsSurviveARestartAndRunsOfAnOlderVersionLeftByADeadProcessAreReportedFailed() {
    String[] ids = withServer(http -> {
      String thread = post(http, "/threads", "{}").get("thread_id").asText();
      post(http, "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"asking\",\"input\":\"x\"}");
      JsonNode runs = get(http, "/threads/" + thread + "/runs");
      assertEquals(1, runs.size(), runs.toString());
      return new String[] {thread, runs.get(0).get("run_id").asText()};
    });
    String thread = ids[0];
    String finished = ids[1];
    String abandoned = java.util.UUID.randomUUID().toString();
    String queued = java.util.UUID.randomUUID().toString();
    try (PostgresSaver saver = PostgresSaver.connect(url)) {
      // what a process of a version without the run queue (no request recorded) that died in the middle of a run,
      // with another enqueued behind it, leaves behind
      PostgresRunStore store = new PostgresRunStore(saver.connectionFactory());
      store.insert(new RunStore.RunRecord(abandoned, thread, "asking", java.time.Instant.now(), java.time.Instant.now(),
          "running", java.util.Map.of("by", "the dead"), "reject", "a-dead-worker-1")).block(Duration.ofSeconds(10));
      store.insert(new RunStore.RunRecord(queued, thread, "asking", java.time.Instant.now(), java.time.Instant.now(),
          "pending", java.util.Map.of(), "enqueue", null)).block(Duration.ofSeconds(10));
    }
    withServer(http -> {
      assertEquals("success", get(http, "/threads/" + thread + "/runs/" + finished).get("status").asText());
      JsonNode lost = get(http, "/threads/" + thread + "/runs/" + abandoned);
      assertEquals("error", lost.get("status").asText(), lost.toString());
      assertEquals("the dead", lost.get("metadata").get("by").asText());
      assertEquals("error", get(http, "/threads/" + thread + "/runs/" + queued).get("status").asText());
      assertEquals(3, get(http, "/threads/" + thread + "/runs").size());
      assertEquals(2, get(http, "/threads/" + thread + "/runs?status=error").size());
      // the status filters the stored runs, not a page of the newest ones (both newer ones failed)
      JsonNode succeeded = get(http, "/threads/" + thread + "/runs?status=success&limit=1");
      assertEquals(1, succeeded.size(), succeeded.toString());
      assertEquals(finished, succeeded.get(0).get("run_id").asText());
      assertEquals("error", sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + abandoned + "'"));
      assertEquals("error", sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + queued + "'"));
      assertEquals("the server process running it stopped, and its request was not recorded (a run of an earlier"
          + " version), so it cannot be resumed (worker a-dead-worker-1, no longer registered)",
          sql("SELECT error FROM fluxgraph_runs WHERE run_id = '" + abandoned + "'"));
      assertEquals("the server process running it stopped, and its request was not recorded (a run of an earlier"
          + " version), so it cannot be resumed (owner unknown)",
          sql("SELECT error FROM fluxgraph_runs WHERE run_id = '" + queued + "'"));
      JsonNode joined = get(http, "/threads/" + thread + "/runs/" + finished + "/join");
      // the thread is paused: what the run's own process answered, its interrupts
      assertEquals("answer x?", joined.at("/__interrupt__/0/value").asText(), joined.toString());
      return null;
    });
  }

  @Test
  void rollbackDeletesTheRolledBackRunsCheckpointsInPostgres() {
    withServer(http -> {
      String thread = post(http, "/threads", "{}").get("thread_id").asText();
      post(http, "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"x\"]}}");
      String first = post(http, "/threads/" + thread + "/runs", "{\"assistant_id\":\"notes\","
          + "\"input\":{\"notes\":[\"a\"]}}").get("run_id").asText();
      for (int i = 0; i < 250 && !get(http, "/threads/" + thread + "/state").path("values").path("notes").toString()
          .contains("\"a\""); i++) {
        try {
          Thread.sleep(20); // polls until the first run applied its input (its node sleeps 500 ms)
        } catch (InterruptedException e) {
          throw new AssertionError(e);
        }
      }
      JsonNode replaced = post(http, "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"notes\","
          + "\"input\":{\"notes\":[\"b\"]},\"multitask_strategy\":\"rollback\"}");
      assertEquals("[\"x\",\"noted\",\"b\",\"noted\"]", replaced.get("notes").toString());
      assertEquals(404, http.get().uri("/threads/" + thread + "/runs/" + first)
          .responseSingle((response, body) -> Mono.just(response.status().code())).block(Duration.ofSeconds(10)));
      // the rolled-back run's checkpoints are gone: only the replacing run's three were added
      JsonNode history = post(http, "/threads/" + thread + "/history", "{\"limit\":100}");
      assertEquals(2 * 3, history.size(), history.toString());
      return null;
    });
  }

  /** The first column of the first row of a query, read over JDBC: a second channel besides the server. */
  private static @Nullable String sql(String query) {
    return TestSql.first(postgres, query);
  }

  private static int status(HttpClient http, String method, String path, String body) {
    return http.request(io.netty.handler.codec.http.HttpMethod.valueOf(method)).uri(path)
        .send(ByteBufFlux.fromString(Mono.just(body)))
        .responseSingle((response, content) -> Mono.just(response.status().code())).block(Duration.ofSeconds(10));
  }

  @Test
  void enqueuedRunsArePendingInPostgresAndADeletedThreadTakesItsRunsAlong() {
    withServer(http -> {
      String thread = post(http, "/threads", "{}").get("thread_id").asText();
      String base = "/threads/" + thread + "/runs";
      String first = post(http, base, "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"a\"]}}").get("run_id")
          .asText();
      JsonNode queued = post(http, base, "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"b\"]},"
          + "\"multitask_strategy\":\"enqueue\"}");
      assertEquals("pending", queued.get("status").asText(), queued.toString());
      String queuedId = queued.get("run_id").asText();
      for (int i = 0; i < 250 && !"pending".equals(sql("SELECT status FROM fluxgraph_runs WHERE run_id = '"
          + queuedId + "'")); i++) {
        pause(); // the record is saved in the background
      }
      assertEquals("pending", sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + queuedId + "'"));
      assertEquals("busy", sql("SELECT status FROM fluxgraph_threads WHERE thread_id = '" + thread + "'"));
      JsonNode joined = get(http, base + "/" + queuedId + "/join");
      assertEquals("[\"a\",\"noted\",\"b\",\"noted\"]", joined.get("notes").toString());
      for (int i = 0; i < 250 && !"success".equals(sql("SELECT status FROM fluxgraph_runs WHERE run_id = '"
          + queuedId + "'")); i++) {
        pause();
      }
      assertEquals("success", sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + first + "'"));
      assertEquals("success", sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + queuedId + "'"));
      assertEquals("idle", sql("SELECT status FROM fluxgraph_threads WHERE thread_id = '" + thread + "'"));

      assertEquals(204, status(http, "DELETE", "/threads/" + thread, ""));
      assertEquals("0", sql("SELECT count(*) FROM fluxgraph_runs WHERE thread_id = '" + thread + "'"));
      assertEquals("0", sql("SELECT count(*) FROM fluxgraph_threads WHERE thread_id = '" + thread + "'"));
      return null;
    });
  }

  @Test
  void ifNotExistsCreateOnPostgresCreatesOrReusesTheThreadInOneStatement() {
    withServer(http -> {
      String missing = java.util.UUID.randomUUID().toString();
      String run = "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"a\"]},\"if_not_exists\":\"create\"}";
      assertEquals(404, status(http, "POST", "/threads/" + missing + "/runs/wait",
          "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"a\"]}}"));
      assertEquals("[\"a\",\"noted\"]", post(http, "/threads/" + missing + "/runs/wait", run).get("notes").toString());
      assertEquals("[\"a\",\"noted\",\"a\",\"noted\"]", post(http, "/threads/" + missing + "/runs/wait", run)
          .get("notes").toString(), "the existing thread is continued");
      assertEquals("1", sql("SELECT count(*) FROM fluxgraph_threads WHERE thread_id = '" + missing + "'"));
      JsonNode thread = post(http, "/threads", "{\"thread_id\":\"" + missing + "\",\"if_exists\":\"do_nothing\"}");
      assertEquals("notes", thread.get("metadata").get("graph_id").asText(), thread.toString());
      assertEquals(409, status(http, "POST", "/threads", "{\"thread_id\":\"" + missing + "\"}"));
      return null;
    });
  }

  @Test
  void aRunOnAThreadAnotherProcessDeletedFailsWithoutBringingTheThreadBack() {
    withServer(http -> {
      String thread = post(http, "/threads", "{}").get("thread_id").asText(); // known to this process from now on
      try (java.sql.Connection connection = postgres.getPostgresDatabase().getConnection();
           java.sql.Statement statement = connection.createStatement()) {
        statement.executeUpdate("DELETE FROM fluxgraph_threads WHERE thread_id = '" + thread + "'"); // another process
      } catch (java.sql.SQLException e) {
        throw new AssertionError(e);
      }
      String stream = http.post().uri("/threads/" + thread + "/runs/stream")
          .send(ByteBufFlux.fromString(Mono.just("{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"a\"]}}")))
          .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8)
              .map(text -> response.status().code() + "\n" + text))
          .block(Duration.ofSeconds(10));
      assertTrue(stream.startsWith("200\nevent: metadata"), stream);
      assertTrue(stream.contains("event: error") && stream.contains("thread " + thread), stream);
      assertTrue(!stream.contains("noted"), "the run did not execute: " + stream);
      assertEquals("0", sql("SELECT count(*) FROM fluxgraph_threads WHERE thread_id = '" + thread + "'"),
          "the run's status writes do not recreate the thread");
      assertEquals("0", sql("SELECT count(*) FROM fluxgraph_checkpoints WHERE thread_id = '" + thread + "'"));
      assertEquals(404, status(http, "GET", "/threads/" + thread, ""));
      assertEquals(404, status(http, "POST", "/threads/" + thread + "/runs/wait",
          "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"a\"]}}"), "a 404 read is not remembered");
      return null;
    });
  }

  @Test
  void statelessRunsOnPostgresCreateTheirThreadBusyAndLeaveNothingBehindUnlessKept() {
    withServer(http -> {
      String before = sql("SELECT count(*) FROM fluxgraph_threads");
      JsonNode done = post(http, "/runs/wait", "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"a\"]}}");
      assertEquals("[\"a\",\"noted\"]", done.get("notes").toString(), done.toString());
      String stream = http.post().uri("/runs/stream")
          .send(ByteBufFlux.fromString(Mono.just("{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"b\"]}}")))
          .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8)).block(Duration.ofSeconds(10));
      assertTrue(stream.contains("\"noted\"") && !stream.contains("event: error"), stream);
      assertEquals(before, sql("SELECT count(*) FROM fluxgraph_threads"), "stateless threads are deleted");

      JsonNode kept = post(http, "/runs/wait",
          "{\"assistant_id\":\"notes\",\"input\":{\"notes\":[\"c\"]},\"on_completion\":\"keep\"}");
      assertEquals("[\"c\",\"noted\"]", kept.get("notes").toString());
      JsonNode threads = post(http, "/threads/search", "{\"metadata\":{\"graph_id\":\"notes\"}}");
      JsonNode thread = null;
      for (JsonNode candidate : threads) {
        if (get(http, "/threads/" + candidate.get("thread_id").asText() + "/state").path("values").path("notes")
            .toString().equals("[\"c\",\"noted\"]")) {
          thread = candidate;
        }
      }
      assertTrue(thread != null, threads.toString());
      assertEquals("idle", thread.get("status").asText(), thread.toString());
      assertEquals("notes", sql("SELECT graph_id FROM fluxgraph_threads WHERE thread_id = '"
          + thread.get("thread_id").asText() + "'"));
      return null;
    });
  }

  @Test
  void createBusyInsertsConcurrentThreadsInBatchesAndRefusesAnExistingOne() {
    try (PostgresSaver saver = PostgresSaver.connect(url)) {
      saver.setup().block(Duration.ofSeconds(30));
      PostgresThreadStore store = new PostgresThreadStore(saver.connectionFactory());
      store.setup().block(Duration.ofSeconds(30));
      String prefix = java.util.UUID.randomUUID().toString();
      java.util.List<Mono<ThreadStore.ThreadRecord>> creates = new java.util.ArrayList<>();
      for (int i = 0; i < 50; i++) {
        creates.add(store.createBusy(prefix + "-" + i, "notes", java.util.Map.of("graph_id", "notes")));
      }
      java.util.List<ThreadStore.ThreadRecord> created = reactor.core.publisher.Flux.merge(creates).collectList()
          .block(Duration.ofSeconds(30));
      assertEquals(50, created.size());
      created.forEach(thread -> assertEquals("busy", thread.status()));
      assertEquals("50", sql("SELECT count(*) FROM fluxgraph_threads WHERE thread_id LIKE '" + prefix
          + "-%' AND status = 'busy' AND graph_id = 'notes'"));
      HttpProblem conflict = org.junit.jupiter.api.Assertions.assertThrows(HttpProblem.class,
          () -> store.createBusy(prefix + "-7", "notes", java.util.Map.of()).block(Duration.ofSeconds(10)));
      assertEquals(409, conflict.status());
    }
  }

  @Test
  void concurrentThreadCreationsAreBatchedAndEachGetsItsOwnAnswer() {
    try (PostgresSaver saver = PostgresSaver.connect(url)) {
      saver.setup().block(Duration.ofSeconds(30));
      PostgresThreadStore store = new PostgresThreadStore(saver.connectionFactory());
      store.setup().block(Duration.ofSeconds(30));
      String prefix = java.util.UUID.randomUUID().toString();
      store.create(prefix + "-old", java.util.Map.of("v", "first"), "raise").block(Duration.ofSeconds(10));
      java.util.List<Mono<String>> calls = new java.util.ArrayList<>();
      for (int i = 0; i < 40; i++) {
        calls.add(store.create(prefix + "-" + i, java.util.Map.of("i", i), "raise").map(thread -> "created "
            + thread.threadId().substring(prefix.length()) + " " + thread.metadata().get("i") + " "
            + thread.status()));
      }
      for (int i = 0; i < 2; i++) { // one thread asked for twice at once: one creates it, the other is refused
        calls.add(store.create(prefix + "-twice", java.util.Map.of(), "raise").map(thread -> "twice created")
            .onErrorResume(HttpProblem.class, problem -> Mono.just("twice " + problem.status())));
      }
      calls.add(store.create(prefix + "-old", java.util.Map.of("v", "second"), "raise").map(thread -> "old created")
          .onErrorResume(HttpProblem.class, problem -> Mono.just("old " + problem.status())));
      calls.add(store.create(prefix + "-old", java.util.Map.of("v", "second"), "do_nothing")
          .map(thread -> "old kept " + thread.metadata().get("v")));
      java.util.List<String> answers = reactor.core.publisher.Flux.merge(calls).collectList()
          .block(Duration.ofSeconds(30));
      java.util.List<String> expected = new java.util.ArrayList<>();
      for (int i = 0; i < 40; i++) {
        expected.add("created -" + i + " " + i + " idle");
      }
      expected.addAll(java.util.List.of("twice created", "twice 409", "old 409", "old kept first"));
      assertEquals(expected.stream().sorted().toList(), answers.stream().sorted().toList());
      assertEquals("41", sql("SELECT count(*) FROM fluxgraph_threads WHERE thread_id LIKE '" + prefix
          + "-%' AND status = 'idle' AND thread_id <> '" + prefix + "-old'"));
    }
  }

  @Test
  void threadsArePatchedAndCountedInPostgres() {
    withServer(http -> {
      String team = java.util.UUID.randomUUID().toString();
      String thread = post(http, "/threads", "{\"metadata\":{\"team\":\"" + team + "\",\"a\":1}}").get("thread_id")
          .asText();
      post(http, "/threads", "{\"metadata\":{\"team\":\"" + team + "\"}}");
      JsonNode patched = http.patch().uri("/threads/" + thread)
          .send(ByteBufFlux.fromString(Mono.just("{\"metadata\":{\"a\":2,\"nested\":{\"x\":null}}}")))
          .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8))
          .map(text -> {
            try {
              return JSON.readTree(text);
            } catch (Exception e) {
              throw new AssertionError(text, e);
            }
          }).block(Duration.ofSeconds(10));
      assertEquals(2, patched.get("metadata").get("a").asInt(), patched.toString());
      assertEquals(team, patched.get("metadata").get("team").asText());
      assertEquals("2", sql("SELECT metadata->>'a' FROM fluxgraph_threads WHERE thread_id = '" + thread + "'"));
      assertEquals(2, post(http, "/threads/count", "{\"metadata\":{\"team\":\"" + team + "\"}}").asInt());
      assertEquals(1, post(http, "/threads/count", "{\"metadata\":{\"team\":\"" + team + "\",\"a\":2}}").asInt());
      assertEquals(0, post(http, "/threads/count", "{\"metadata\":{\"team\":\"" + team + "\"},\"status\":\"busy\"}")
          .asInt());
      assertEquals(404, status(http, "PATCH", "/threads/" + java.util.UUID.randomUUID(), "{\"metadata\":{}}"));
      return null;
    });
  }

  @Test
  void aCopiedThreadOnPostgresSurvivesARestartAndResumesByItself() {
    String[] ids = withServer(http -> {
      String original = post(http, "/threads", "{}").get("thread_id").asText();
      JsonNode paused = post(http, "/threads/" + original + "/runs/wait", "{\"assistant_id\":\"asking\",\"input\":\"q\"}");
      assertTrue(paused.has("__interrupt__"), paused.toString());
      String copy = post(http, "/threads/" + original + "/copy", "").get("thread_id").asText();
      return new String[] {original, copy};
    });
    assertEquals(sql("SELECT count(*) FROM fluxgraph_checkpoints WHERE thread_id = '" + ids[0] + "'"),
        sql("SELECT count(*) FROM fluxgraph_checkpoints WHERE thread_id = '" + ids[1] + "'"));
    assertEquals(sql("SELECT count(*) FROM fluxgraph_writes WHERE thread_id = '" + ids[0] + "'"),
        sql("SELECT count(*) FROM fluxgraph_writes WHERE thread_id = '" + ids[1] + "'"));
    withServer(http -> {
      assertEquals("interrupted", get(http, "/threads/" + ids[1]).get("status").asText());
      assertEquals("q=a", post(http, "/threads/" + ids[1] + "/runs/wait",
          "{\"assistant_id\":\"asking\",\"command\":{\"resume\":\"a\"}}").asText());
      assertEquals("q=b", post(http, "/threads/" + ids[0] + "/runs/wait",
          "{\"assistant_id\":\"asking\",\"command\":{\"resume\":\"b\"}}").asText());
      return null;
    });
  }

  @Test
  void threadSearchSortsInPostgresAsInMemory() {
    withServer(http -> {
      String team = java.util.UUID.randomUUID().toString();
      List<String> created = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        created.add(post(http, "/threads", "{\"metadata\":{\"team\":\"" + team + "\"}}").get("thread_id").asText());
      }
      pause();
      assertEquals(200, status(http, "PATCH", "/threads/" + created.get(0), "{\"metadata\":{\"x\":1}}"));
      String filter = "{\"metadata\":{\"team\":\"" + team + "\"}";
      FluxgraphServerIT.assertSortedSearch(created, extra -> post(http, "/threads/search", filter + extra + "}"));
      return null;
    });
  }

  private static void pause() {
    try {
      Thread.sleep(20);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }
}
