package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.internal.server.Durations;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several server processes on one PostgreSQL: the test JVM owns the database, the servers are child JVMs started with
 * {@code --database-url} and a short lease. A process that starts leaves the runs of live ones alone; the runs of a
 * process that was killed are ended as error by another one's sweeper, within the lease TTL and a bound, and their
 * threads are no longer busy; a process that was stopped past its lease writes nothing final for the run it lost.
 */
class MultiProcessIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TTL = Duration.ofSeconds(2);
  private static final Duration HEARTBEAT = Duration.ofMillis(500);
  /** How long past the lease TTL a sweep may take (a sweep every 500 ms, on a loaded machine). */
  private static final Duration SWEEP_BOUND = Duration.ofSeconds(10);

  private static EmbeddedPostgres postgres;
  private static String url;

  @TempDir
  Path work;
  private Path graphs;
  private final List<Process> children = new ArrayList<>();
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

  @BeforeEach
  void graphsOnTheClassPath() throws IOException {
    graphs = ChildServer.graphsDirectory(work.resolve("graphs"));
  }

  @Test
  void aStartingProcessLeavesLiveRunsAloneAndTheRunsOfAKilledOneAreEndedByTheSweeper() throws Exception {
    try {
      ChildServer a = start("a");
      int portA = a.awaitListening();
      String thread = post(portA, "/threads", "{}").get("thread_id").asText();
      String live = post(portA, "/threads/" + thread + "/runs", "{\"assistant_id\":\"sleep\",\"input\":12000}")
          .get("run_id").asText();
      ChildServer b = start("b");
      int portB = b.awaitListening(); // its sweeper made its first pass before it listens
      assertEquals("running", sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + live + "'"),
          "the run on A outlives B's start (else this test proves nothing)");
      assertTrue(sql("SELECT owner FROM fluxgraph_runs WHERE run_id = '" + live + "'").startsWith("a-"));
      JsonNode joined = get(portA, "/threads/" + thread + "/runs/" + live + "/join");
      assertEquals(12000, joined.asInt(), joined.toString());
      assertEquals("success", sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + live + "'"));
      assertEquals("success", get(portB, "/threads/" + thread + "/runs/" + live).get("status").asText());
      assertEquals("idle", get(portB, "/threads/" + thread).get("status").asText());
      assertEquals(null, sql("SELECT error FROM fluxgraph_runs WHERE run_id = '" + live + "'"));

      String orphan = post(portA, "/threads/" + thread + "/runs", "{\"assistant_id\":\"sleep\",\"input\":60000}")
          .get("run_id").asText();
      await(() -> "busy".equals(sql("SELECT status FROM fluxgraph_threads WHERE thread_id = '" + thread + "'"))
          && "running".equals(sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + orphan + "'")),
          Duration.ofSeconds(10), "the run on A is running and its thread busy");
      String worker = sql("SELECT owner FROM fluxgraph_runs WHERE run_id = '" + orphan + "'");
      long killed = System.nanoTime();
      a.process().destroyForcibly();
      assertTrue(a.process().waitFor(10, TimeUnit.SECONDS));
      await(() -> "error".equals(sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + orphan + "'")),
          TTL.plus(SWEEP_BOUND), "B's sweeper ends the run of the killed A");
      assertTrue(System.nanoTime() - killed >= TTL.minus(HEARTBEAT).toNanos(),
          "not before A's lease could have expired (its last heartbeat was at most one interval before the kill)");
      String reason = sql("SELECT error FROM fluxgraph_runs WHERE run_id = '" + orphan + "'");
      assertTrue(reason.startsWith("the server process running it stopped (worker " + worker + ", lease expired at "),
          reason);
      assertEquals("error", get(portB, "/threads/" + thread + "/runs/" + orphan).get("status").asText());
      JsonNode lost = get(portB, "/threads/" + thread + "/runs/" + orphan + "/join");
      assertEquals("WorkerLost", lost.path("__error__").path("error").asText(), lost.toString());
      assertEquals(reason, lost.path("__error__").path("message").asText());
      assertEquals("error", get(portB, "/threads/" + thread).get("status").asText());
      assertEquals("error", sql("SELECT status FROM fluxgraph_threads WHERE thread_id = '" + thread + "'"));
      // the thread is usable again, from B
      JsonNode again = post(portB, "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"sleep\",\"input\":1}");
      assertEquals(1, again.asInt(), again.toString());
      assertEquals("idle", sql("SELECT status FROM fluxgraph_threads WHERE thread_id = '" + thread + "'"));
      Matcher registered = Pattern.compile("worker (b-\\S+) registered").matcher(b.out());
      assertTrue(registered.find(), b.out());
      String workerB = registered.group(1);
      assertEquals(workerB, sql("SELECT worker_id FROM fluxgraph_workers WHERE worker_id = '" + workerB + "'"));
      b.stop();
      assertEquals(null, sql("SELECT worker_id FROM fluxgraph_workers WHERE worker_id = '" + workerB + "'"),
          "a clean stop removes the worker's row");
    } finally {
      destroyAll();
    }
  }

  @Test
  void aProcessStoppedPastItsLeaseWritesNothingFinalForTheRunItLost() throws Exception {
    ChildServer a = null;
    try {
      a = start("a");
      ChildServer b = start("b");
      int portA = a.awaitListening();
      int portB = b.awaitListening();
      String thread = post(portA, "/threads", "{}").get("thread_id").asText();
      long started = System.nanoTime();
      String lost = post(portA, "/threads/" + thread + "/runs", "{\"assistant_id\":\"sleep\",\"input\":3000}")
          .get("run_id").asText();
      await(() -> "busy".equals(sql("SELECT status FROM fluxgraph_threads WHERE thread_id = '" + thread + "'"))
          && "running".equals(sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + lost + "'")),
          Duration.ofSeconds(10), "the run on A is running and its thread busy");
      signal(a, "STOP");
      await(() -> "error".equals(sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + lost + "'")),
          TTL.plus(SWEEP_BOUND), "B's sweeper ends the run of the stopped A");
      String reason = sql("SELECT error FROM fluxgraph_runs WHERE run_id = '" + lost + "'");
      String updated = sql("SELECT updated_at FROM fluxgraph_runs WHERE run_id = '" + lost + "'");
      assertEquals("error", sql("SELECT status FROM fluxgraph_threads WHERE thread_id = '" + thread + "'"));
      long due = started + Duration.ofMillis(3500).toNanos();
      if (System.nanoTime() < due) { // the run's sleep is over when A goes on: it ends at once and tries to say so
        Thread.sleep(Duration.ofNanos(due - System.nanoTime()).toMillis() + 1);
      }
      signal(a, "CONT");
      ChildServer resumed = a;
      // it learns that it lost its lease, whether its run's end or its heartbeat comes first
      awaitLine(resumed, "lost its lease");
      awaitLine(resumed, "registered in place of");
      assertEquals("error", sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + lost + "'"));
      assertEquals(reason, sql("SELECT error FROM fluxgraph_runs WHERE run_id = '" + lost + "'"));
      assertEquals(updated, sql("SELECT updated_at FROM fluxgraph_runs WHERE run_id = '" + lost + "'"));
      assertEquals("error", sql("SELECT status FROM fluxgraph_threads WHERE thread_id = '" + thread + "'"),
          "the stopped process did not write the thread's status after it lost the run");
      assertEquals("error", get(portB, "/threads/" + thread + "/runs/" + lost).get("status").asText());
      // A serves on under a fresh worker id
      JsonNode again = post(portA, "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"sleep\",\"input\":1}");
      assertEquals(1, again.asInt(), again.toString());
      assertEquals("idle", sql("SELECT status FROM fluxgraph_threads WHERE thread_id = '" + thread + "'"));
      assertEquals("2", sql("SELECT count(DISTINCT owner) FROM fluxgraph_runs WHERE thread_id = '" + thread + "'"));
    } finally {
      if (a != null) {
        signal(a, "CONT");
      }
      destroyAll();
    }
  }

  // --- plumbing ---

  private ChildServer start(String workerPrefix) throws IOException {
    ChildServer child = ChildServer.start(graphs, work, Path.of("target", "multi-process-logs"),
        Map.of("FLUXGRAPH_WORKER_ID_PREFIX", workerPrefix), List.of("-XX:TieredStopAtLevel=1"),
        List.of("--port", "0", "--database-url", url, "--lease-ttl", Durations.format(TTL), "--heartbeat-interval",
            Durations.format(HEARTBEAT)));
    children.add(child.process());
    return child;
  }

  private void destroyAll() throws InterruptedException {
    for (Process child : children) {
      child.destroyForcibly();
    }
    for (Process child : children) {
      child.waitFor(10, TimeUnit.SECONDS);
    }
    children.clear();
  }

  private static void signal(ChildServer child, String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(child.process().pid())).inheritIO().start();
    assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
  }

  /** Polls {@code condition} until it holds; fails after {@code within}. */
  private static void await(BooleanSupplier condition, Duration within, String what) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("not within " + within + ": " + what);
      }
      Thread.sleep(50); // polls a condition; no timing is asserted by the pause itself
    }
  }

  private static void awaitLine(ChildServer child, String text) throws InterruptedException {
    await(() -> child.out().contains(text), Duration.ofSeconds(15), "'" + text + "' in the log of the child:\n"
        + child.out());
  }

  private JsonNode post(int port, String path, String body) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  private JsonNode get(int port, String path) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET());
  }

  private JsonNode send(HttpRequest.Builder request) throws IOException, InterruptedException {
    HttpResponse<String> response = http.send(request.timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), response.body());
    return JSON.readTree(response.body());
  }

  private static @Nullable String sql(String query) {
    return TestSql.first(postgres, query);
  }
}
