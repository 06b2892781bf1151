package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Several server processes on one PostgreSQL, as an operator runs them: the test JVM owns the database, the servers
 * are child JVMs ({@code --database-url}, a 2 s lease renewed every 500 ms, port 0), three of them ({@code a},
 * {@code b}, {@code c}) alive before every test. Runs of the {@code effects} graph ({@link StartupTestGraphs}) spread
 * over them; each of its tasks inserts a row into the table {@code effects} through plain JDBC (a channel the
 * runtime does not control) before it waits and answers, under {@code durability: sync}. Then processes are killed
 * ({@code destroyForcibly}), stopped ({@code SIGSTOP} past their lease), terminated ({@code SIGTERM}), started, and
 * every connection the servers hold is ended ({@code pg_terminate_backend}).
 *
 * <p>What "a committed task has no second effect row" means here (see {@link #assertEffects}): SEMANTICS.md says a
 * task whose result is persisted replays from the checkpoint on resume and never runs again; under SYNC a task's
 * result is persisted before the next task starts. So for every step of a run, the checkpoint holds exactly one
 * result, the one the run answered (which names the pid of the process that executed it); that process has exactly
 * one effect row for the step; and every other effect row of the step was written earlier, by a process that lost
 * the run (killed, stopped or handed over) before that execution's result was committed: at most one such row per
 * lost attempt, since a run's tasks run one after the other. A task cut short by a kill after its insert is therefore
 * the one allowed duplicate; a task run again after its result was committed fails the test.
 *
 * <p>Every acknowledged run ends exactly once: its record's final status is written once, which the run queue
 * announces with exactly one {@code end:<run>} notification that this test LISTENs for on its own connection. Every
 * wait is bounded; every child is destroyed after the class (and by a shutdown hook if this JVM exits first). The
 * recovery time after {@code kill -9} and the hand-over time after SIGTERM are printed, not asserted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MultiProcessIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TTL = Duration.ofSeconds(2);
  private static final Duration HEARTBEAT = Duration.ofMillis(500);
  /** The bound of a wait for something that takes a few steps (a loaded machine: 2 cores, several JVMs). */
  private static final Duration WAIT = Duration.ofSeconds(30);
  /** The application_name of this test's own connections, which pg_terminate_backend leaves alone. */
  private static final String TEST_APP = "MultiProcessIT";
  /** The application_name of the effects graph's connections: the test's instrument, not the server's. */
  private static final String EFFECTS_APP = "effects";
  private static final Path LOGS = Path.of("target", "multi-process-logs");
  private static final List<String> JVM_OPTIONS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
      "-Xmx256m");
  private static final Pattern REGISTERED = Pattern.compile("worker (\\S+) registered");

  @TempDir
  static Path work;

  private @Nullable EmbeddedPostgres postgres;
  private String r2dbcUrl;
  private String effectsUrl;
  private String testUrl;
  private Path graphs;
  private @Nullable Connection connection;
  private @Nullable Notifications notifications;
  /** Every child ever started, destroyed at the end whatever happens. */
  private final List<Process> children = new CopyOnWriteArrayList<>();
  private final Thread reaper = new Thread(this::destroyChildren, "multi-process-it-reaper");
  /** The three processes every test starts with ({@code a}, {@code b}, {@code c}). */
  private final Node[] cluster = new Node[3];
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** A server process: its name (the worker id prefix), the child JVM and its port. */
  private record Node(String name, ChildServer child, int port) {

    long pid() {
      return child.process().pid();
    }

    /** The worker id it registered last (a fenced worker registers a fresh one). */
    String worker() {
      Matcher registered = REGISTERED.matcher(child.out());
      String last = null;
      while (registered.find()) {
        last = registered.group(1);
      }
      assertTrue(last != null, "no 'worker ... registered' line in the log of " + name + ":\n" + child.out());
      return last;
    }

    @Override
    public String toString() {
      return name + " (pid " + pid() + ")";
    }
  }

  /** An acknowledged run of the effects graph: its tag (the effects rows'), steps, thread, id and first process. */
  private record Started(String tag, int steps, String thread, String run, Node via) {
  }

  @BeforeAll
  void databaseAndThreeProcesses() throws Exception {
    Runtime.getRuntime().addShutdownHook(reaper);
    postgres = EmbeddedPostgres.builder().start();
    r2dbcUrl = "r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/postgres";
    String jdbc = postgres.getJdbcUrl("postgres", "postgres");
    effectsUrl = jdbc + "&ApplicationName=" + EFFECTS_APP;
    testUrl = jdbc + "&ApplicationName=" + TEST_APP;
    update("CREATE TABLE effects (id bigserial PRIMARY KEY, tag text NOT NULL, step integer NOT NULL,"
        + " pid bigint NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())");
    notifications = new Notifications(testUrl);
    graphs = ChildServer.graphsDirectory(work.resolve("graphs"));
    topUp();
  }

  @AfterEach
  void threeLiveProcessesAgain() throws Exception {
    for (Node node : cluster) {
      if (node != null && node.child.process().isAlive()) {
        signal(node, "CONT"); // a test that failed while one was stopped
      }
    }
    topUp();
  }

  @AfterAll
  void stopEverything() throws Exception {
    try {
      destroyChildren();
      Runtime.getRuntime().removeShutdownHook(reaper);
      if (notifications != null) {
        notifications.close();
      }
      if (connection != null) {
        connection.close();
      }
    } finally {
      if (postgres != null) {
        postgres.close();
      }
    }
  }

  /** Starts a process in place of each of {@link #cluster} that is missing or dead, all at once. */
  private void topUp() throws Exception {
    Map<Integer, ChildServer> starting = new LinkedHashMap<>();
    for (int i = 0; i < cluster.length; i++) {
      if (cluster[i] == null || !cluster[i].child.process().isAlive()) {
        starting.put(i, launch(String.valueOf((char) ('a' + i))));
      }
    }
    for (Map.Entry<Integer, ChildServer> entry : starting.entrySet()) {
      cluster[entry.getKey()] = new Node(String.valueOf((char) ('a' + entry.getKey())), entry.getValue(),
          entry.getValue().awaitListening());
    }
  }

  // --- the tests ---

  @Test
  void theRunsOfAKilledProcessAreResumedElsewhereAndEndSuccessOnceWithoutRunningCommittedTasksAgain()
      throws Exception {
    Node a = cluster[0];
    Node b = cluster[1];
    Node c = cluster[2];
    List<Started> runs = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      Node via = cluster[i % 3];
      runs.add(startEffects(via, "kill" + i, 10, 300, null));
    }
    List<Started> onA = runs.stream().filter(run -> run.via == a).toList();
    for (Started run : runs) {
      assertEquals(run.via.worker(), owner(run), "a run is claimed by the process that recorded it: " + run);
    }
    // queued on A behind one of its runs: it has no owner, and runs after the resumed one, wherever that is
    Started queued = startEffects(a, onA.get(1).thread, "kill-queued", 2, 100, null, "enqueue");
    assertEquals("pending", status(queued));
    // a joiner on B of a run of A: its stream goes on through A's death, on the process that resumes the run
    Started watched = onA.get(0);
    CompletableFuture<HttpResponse<String>> followed = http.sendAsync(HttpRequest.newBuilder(
            uri(b, "/threads/" + watched.thread + "/runs/" + watched.run + "/stream")).timeout(WAIT.multipliedBy(2))
        .GET().build(), HttpResponse.BodyHandlers.ofString());
    await(() -> onA.stream().allMatch(run -> effectRows(run.tag) >= 2), WAIT, "every run of A wrote two effects");
    for (Started run : onA) {
      assertEquals("running", status(run), "the runs of A are mid-way when it is killed (else this proves nothing)");
    }
    String killedAt = sql("SELECT clock_timestamp()");
    a.child.process().destroyForcibly();
    assertTrue(a.child.process().waitFor(10, TimeUnit.SECONDS), "A died");
    awaitEnded(runs, TTL.plus(WAIT));
    awaitEnded(List.of(queued), WAIT);
    assertEquals("success", status(queued), row(queued));
    assertEquals("1", sql("SELECT attempt::text FROM fluxgraph_runs WHERE run_id = ?", queued.run));
    assertNotEquals(a.worker(), owner(queued));
    assertEndedOnce(queued);
    assertEffects(queued, answer(c, queued), Set.of());
    assertEquals("t", sql("SELECT r.updated_at <= q.started_at FROM fluxgraph_runs r, fluxgraph_runs q"
        + " WHERE r.run_id = ? AND q.run_id = ?", onA.get(1).run, queued.run), "FIFO through the take-over");
    for (Started run : runs) {
      assertEquals("success", status(run), run + ": " + row(run));
      assertEquals(run.via == a ? "2" : "1", sql("SELECT attempt::text FROM fluxgraph_runs WHERE run_id = ?",
          run.run), "the runs of A were resumed once, the others ran once: " + run);
      assertEndedOnce(run);
      assertEffects(run, answer(run.via == a ? b : run.via, run), run.via == a ? Set.of(a.pid()) : Set.of());
    }
    for (Started run : onA) {
      String taker = owner(run);
      assertTrue(taker.startsWith("b-") || taker.startsWith("c-"), "resumed by B or C, was " + taker);
      assertNotEquals(a.worker(), taker);
    }
    assertQuiet();
    String[] recovered = onA.stream().map(Started::run).toArray(String[]::new);
    String recovery = sql("SELECT round(extract(epoch FROM max(updated_at) - ?::timestamptz) * 1000)::text"
        + " FROM fluxgraph_runs WHERE run_id = ANY(?)", killedAt, recovered);
    String resumed = sql("SELECT round(extract(epoch FROM min(created_at) - ?::timestamptz) * 1000) || '..'"
        + " || round(extract(epoch FROM max(created_at) - ?::timestamptz) * 1000) FROM fluxgraph_run_events"
        + " e, unnest(e.names, e.data) AS u (name, data) WHERE e.run_id = ANY(?) AND u.name = 'metadata'"
        + " AND u.data LIKE '%\"attempt\":2%'", killedAt, killedAt, recovered);
    System.out.println("[MultiProcessIT] recovery after kill -9 of " + a + " owning " + onA.size()
        + " running runs: " + recovery + " ms from the kill to the last recovered run's end (lease TTL "
        + Durations.format(TTL) + ", heartbeat " + Durations.format(HEARTBEAT) + "); attempt 2 began " + resumed
        + " ms after the kill; each run had up to " + (onA.get(0).steps - 2) + " of its " + onA.get(0).steps
        + " tasks (300 ms each) left");

    // the watcher on B saw attempt 1 (on A), then attempt 2 (wherever it was resumed), and the run's end
    HttpResponse<String> stream = followed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    List<String[]> events = SseEvents.of(stream);
    List<String[]> metadata = events.stream().filter(event -> event[0].equals("metadata")).toList();
    assertEquals(2, metadata.size(), stream.body());
    assertTrue(metadata.get(0)[2].contains("\"attempt\":1"), metadata.get(0)[2]);
    assertTrue(metadata.get(1)[2].contains("\"attempt\":2"), metadata.get(1)[2]);
    assertConsecutiveIds(events);
    String[] last = events.get(events.size() - 1);
    assertEquals("values", last[0], stream.body());
    assertEquals(JSON.writeValueAsString(answer(c, watched)), last[2]);
    assertEachStepUpdatedAtMostOnce(events, watched.steps);
    assertEquals(answer(c, watched), get(c, "/threads/" + watched.thread + "/runs/" + watched.run + "/join").asText(),
        "join from C answers the resumed run's value");
  }

  @Test
  void aStartingProcessChangesNothingForRunningRunsAndAStoppingOneHandsItsRunsOver() throws Exception {
    List<Started> live = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      live.add(startEffects(cluster[i % 3], "live" + i, 20, 500, null));
    }
    Map<String, String> owners = new HashMap<>();
    for (Started run : live) {
      owners.put(run.run, owner(run));
    }
    Node d = new Node("d", launch("d", "--shutdown-grace", "1s"), 0);
    d = new Node("d", d.child, d.child.awaitListening()); // its sweeper made its first pass before it listens
    int running = 0;
    for (Started run : live) {
      String status = status(run);
      running += status.equals("running") ? 1 : 0;
      assertTrue(status.equals("running") || status.equals("success"), run + ": " + row(run));
      assertEquals(owners.get(run.run), owner(run), "D's start left the run with its owner: " + run);
      assertEquals("1", sql("SELECT attempt::text FROM fluxgraph_runs WHERE run_id = ?", run.run));
    }
    assertTrue(running > 0, "some runs were still running when D listened (else this proves nothing)");

    // D takes two runs, then gets SIGTERM: after its grace (1 s) it hands them over, and they end elsewhere
    Node stopping = d;
    List<Started> handed = List.of(startEffects(d, "handed0", 8, 500, null), startEffects(d, "handed1", 8, 500, null));
    for (Started run : handed) {
      assertEquals(stopping.worker(), owner(run));
    }
    await(() -> handed.stream().allMatch(run -> effectRows(run.tag) >= 2), WAIT, "D's runs wrote two effects");
    String workerD = d.worker();
    String terminatedAt = sql("SELECT clock_timestamp()");
    d.child.process().destroy();
    assertTrue(d.child.process().waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "D stopped on SIGTERM");
    int exit = d.child.process().exitValue();
    assertTrue(exit == 0 || exit == 143, "D's exit code " + exit + "\n" + d.child.err());
    assertTrue(d.child.out().contains("handed over 2 run(s) still executing at the end of the shutdown grace period"),
        d.child.out());
    assertEquals(null, sql("SELECT worker_id FROM fluxgraph_workers WHERE worker_id = ?", workerD),
        "a clean stop removes the worker's row");
    awaitEnded(handed, WAIT);
    for (Started run : handed) {
      assertEquals("success", status(run), run + ": " + row(run));
      assertEquals("2", sql("SELECT attempt::text FROM fluxgraph_runs WHERE run_id = ?", run.run));
      assertEquals(null, sql("SELECT error FROM fluxgraph_runs WHERE run_id = ?", run.run));
      assertNotEquals(workerD, owner(run));
      assertEndedOnce(run);
      assertEffects(run, answer(cluster[0], run), Set.of(d.pid()));
    }
    String handOver = sql("SELECT round(extract(epoch FROM max(updated_at) - ?::timestamptz) * 1000)::text"
        + " FROM fluxgraph_runs WHERE run_id = ANY(?)", terminatedAt,
        handed.stream().map(Started::run).toArray(String[]::new));
    System.out.println("[MultiProcessIT] SIGTERM of " + d + " (grace 1s) with 2 running runs: " + handOver
        + " ms from the signal to the last handed-over run's end");

    awaitEnded(live, WAIT);
    for (Started run : live) {
      assertEquals("success", status(run), run + ": " + row(run));
      assertEquals(owners.get(run.run), owner(run), "neither D's start nor its stop moved the run: " + run);
      assertEquals("1", sql("SELECT attempt::text FROM fluxgraph_runs WHERE run_id = ?", run.run));
      assertEndedOnce(run);
      assertEffects(run, answer(cluster[1], run), Set.of());
    }
    assertQuiet();
  }

  @Test
  void cancelJoinStreamEnqueueAndRejectWorkFromAnotherProcessThanTheOwner() throws Exception {
    Node a = cluster[0];
    Node b = cluster[1];
    Node c = cluster[2];
    // cancel on B of a run on A
    Started doomed = startEffects(a, "cancelled", 30, 300, null);
    await(() -> effectRows(doomed.tag) >= 1, WAIT, "the run on A started");
    long cancelAsked = System.nanoTime();
    post(b, "/threads/" + doomed.thread + "/runs/" + doomed.run + "/cancel?wait=1&action=interrupt", "");
    long cancelMillis = Duration.ofNanos(System.nanoTime() - cancelAsked).toMillis();
    assertEquals("interrupted", get(b, "/threads/" + doomed.thread + "/runs/" + doomed.run).get("status").asText());
    assertEquals("interrupted", status(doomed));
    long rowsAtCancel = effectRows(doomed.tag);
    await(() -> "idle".equals(threadStatus(doomed.thread)), WAIT, "the cancelled run's thread is idle again");
    JsonNode joined = get(c, "/threads/" + doomed.thread + "/runs/" + doomed.run + "/join");
    assertEquals("RunCancelled", joined.path("__error__").path("error").asText(), joined.toString());
    assertEndedOnce(doomed);
    System.out.println("[MultiProcessIT] cancel?wait=1 on B of a run on A answered in " + cancelMillis + " ms");

    // joinStream on C while the run executes on A; then on B with Last-Event-ID
    Started streamed = startEffects(a, "streamed", 4, 300, "[\"updates\",\"values\"]");
    HttpResponse<String> live = send(HttpRequest.newBuilder(uri(c, "/threads/" + streamed.thread + "/runs/"
        + streamed.run + "/stream")).GET());
    List<String[]> events = SseEvents.of(live);
    assertEquals("metadata", events.get(0)[0]);
    assertTrue(events.get(0)[2].contains("\"attempt\":1"), events.get(0)[2]);
    assertConsecutiveIds(events);
    assertEquals(4, events.stream().filter(event -> event[0].equals("updates")
        && event[2].startsWith("{\"effect\":")).count(), "one update per task: " + live.body());
    assertEquals(JSON.writeValueAsString(answer(b, streamed)), events.get(events.size() - 1)[2]);
    List<String[]> rest = SseEvents.of(send(HttpRequest.newBuilder(uri(b, "/threads/" + streamed.thread + "/runs/"
        + streamed.run + "/stream")).header("Last-Event-ID", events.get(1)[1]).GET()));
    assertEquals(events.subList(2, events.size()).stream().map(List::of).toList(),
        rest.stream().map(List::of).toList(), "from B after Last-Event-ID " + events.get(1)[1]);
    assertEffects(streamed, answer(c, streamed), Set.of());

    // enqueue FIFO per thread and reject, across the three processes
    Started first = startEffects(a, "fifo1", 3, 300, null);
    Started second = startEffects(b, first.thread, "fifo2", 3, 100, null, "enqueue");
    Started third = startEffects(c, first.thread, "fifo3", 3, 100, null, "enqueue");
    assertEquals("pending", status(third));
    HttpResponse<String> refused = http.send(HttpRequest.newBuilder(uri(b, "/threads/" + first.thread + "/runs"))
        .header("Content-Type", "application/json").timeout(WAIT).POST(HttpRequest.BodyPublishers.ofString(
            "{\"assistant_id\":\"effects\",\"input\":\"rejected:1:1\",\"multitask_strategy\":\"reject\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(409, refused.statusCode(), refused.body());
    assertTrue(refused.body().contains("busy"), refused.body());
    assertEquals(JSON.writeValueAsString(answer(a, third)), JSON.writeValueAsString(get(a, "/threads/"
        + first.thread + "/runs/" + third.run + "/join")));
    for (Started run : List.of(first, second, third)) {
      awaitEnded(List.of(run), WAIT);
      assertEquals("success", status(run));
      assertEndedOnce(run);
      assertEffects(run, answer(b, run), Set.of());
    }
    assertEquals("3", sql("SELECT count(*)::text FROM fluxgraph_runs WHERE thread_id = ?", first.thread),
        "the rejected run was not recorded");
    assertEquals("t", sql("SELECT f.updated_at <= s.started_at AND s.updated_at <= t.started_at FROM fluxgraph_runs f,"
        + " fluxgraph_runs s, fluxgraph_runs t WHERE f.run_id = ? AND s.run_id = ? AND t.run_id = ?", first.run,
        second.run, third.run), "FIFO: each started after the one before it ended");
    assertEquals("t", sql("SELECT (SELECT max(id) FROM effects WHERE tag = 'fifo1') < (SELECT min(id) FROM effects"
        + " WHERE tag = 'fifo2') AND (SELECT max(id) FROM effects WHERE tag = 'fifo2') < (SELECT min(id) FROM effects"
        + " WHERE tag = 'fifo3')"), "the effects of the three runs do not interleave");
    assertEquals(0, SseEvents.of(send(HttpRequest.newBuilder(uri(a, "/threads/" + first.thread + "/runs/" + third.run
        + "/stream")).header("Last-Event-ID", "1000").GET())).size(), "a finished run's stream ends");
    assertEquals(rowsAtCancel, effectRows(doomed.tag), "the cancelled run wrote no effect after its cancel");
    assertQuiet();
  }

  /**
   * A is stopped (SIGSTOP) in the middle of a task whose result it then cannot commit in time; its lease expires and
   * B or C resumes the run (attempt 2) and runs that task again. A goes on (SIGCONT) while the taker is still in that
   * task, after A's own execution of it is due: A learns that it lost its lease and registers afresh, and meanwhile
   * writes nothing, neither the run's record, nor its thread, nor its checkpoints (its overdue task result must not
   * become the task's committed one), nor another effect; the run ends success on the taker with the taker's result,
   * and A answers for it what the database says.
   */
  @Test
  void anOwnerStoppedPastItsLeaseIsResumedElsewhereAndWritesNothingOnceItGoesOn() throws Exception {
    Node a = cluster[0];
    Node b = cluster[1];
    int millis = 5000;
    Started run = startEffects(a, "stopped", 2, millis, "[\"updates\",\"values\"]", 300);
    String lostWorker = owner(run);
    await(() -> sql("SELECT 1 FROM effects WHERE tag = 'stopped' AND step = 2") != null, WAIT,
        "the run's second task started on A");
    signal(a, "STOP");
    await(() -> processState(a) == 'T', Duration.ofSeconds(5), "A is stopped");
    assertEquals("t", sql("SELECT clock_timestamp() - at < interval '3000 milliseconds' FROM effects WHERE tag ="
        + " 'stopped' AND step = 2"), "A was stopped while its second task waited (else this proves less)");
    long rowsOfA = count("SELECT count(*) FROM effects WHERE tag = 'stopped' AND pid = " + a.pid());
    await(() -> sql("SELECT 1 FROM effects WHERE tag = 'stopped' AND step = 2 AND pid <> ?", a.pid()) != null,
        TTL.plus(WAIT), "the run was resumed elsewhere: its second task started again");
    assertEquals("running", status(run));
    assertEquals("2", sql("SELECT attempt::text FROM fluxgraph_runs WHERE run_id = ?", run.run));
    String taker = owner(run);
    assertNotEquals(lostWorker, taker);
    await(() -> "t".equals(sql("SELECT clock_timestamp() > at + ? * interval '1 millisecond' FROM effects WHERE tag ="
        + " 'stopped' AND step = 2 AND pid = ?", millis + 300, a.pid())), WAIT, "A's execution of the task is due");
    String record = row(run);
    String thread = sql("SELECT status || ' ' || updated_at FROM fluxgraph_threads WHERE thread_id = ?", run.thread);
    String checkpoints = checkpointsOf(run.thread);
    signal(a, "CONT");
    // it learns that it lost its lease, whether its task's end or its heartbeat comes first, and goes on as new
    awaitLine(a, "lost its lease");
    awaitLine(a, "registered in place of " + lostWorker);
    String fresh = a.worker();
    assertNotEquals(lostWorker, fresh);
    // A serves on under its fresh worker id (one more round trip through the database after its fence)
    JsonNode again = post(a, "/runs/wait", "{\"assistant_id\":\"effects\",\"input\":\"after-stop:1:1\"}");
    assertEquals("after-stop:1@" + a.pid(), again.asText(), again.toString());
    assertEquals("t", sql("SELECT clock_timestamp() < at + ? * interval '1 millisecond' FROM effects WHERE tag ="
        + " 'stopped' AND step = 2 AND pid <> ?", millis, a.pid()),
        "the taker is still in the task (else what follows proves less)");
    assertEquals(record, row(run), "the stopped process did not write the run it lost");
    assertEquals(thread, sql("SELECT status || ' ' || updated_at FROM fluxgraph_threads WHERE thread_id = ?",
        run.thread), "nor its thread");
    assertEquals(checkpoints, checkpointsOf(run.thread), "nor its checkpoints (the task's result included)");
    assertEquals(rowsOfA, count("SELECT count(*) FROM effects WHERE tag = 'stopped' AND pid = " + a.pid()),
        "nor started another task");

    awaitEnded(List.of(run), WAIT);
    assertEquals("success", status(run), row(run));
    assertEquals(taker, owner(run));
    String answer = answer(b, run);
    assertEffects(run, answer, Set.of(a.pid())); // the checkpoint holds the taker's result of the second task
    assertTrue(answer.startsWith("stopped:1@" + a.pid() + ","), "the first task, committed by A, was kept: " + answer);
    assertEndedOnce(run);
    // and A answers for it what the database says, as the other processes do
    assertEquals("success", get(a, "/threads/" + run.thread + "/runs/" + run.run).get("status").asText(),
        "the run's record, on A");
    assertEquals(get(b, "/threads/" + run.thread + "/runs/" + run.run + "/join").toString(),
        get(a, "/threads/" + run.thread + "/runs/" + run.run + "/join").toString(), "join, on A and on B");
    List<String[]> onA = SseEvents.of(send(HttpRequest.newBuilder(uri(a, "/threads/" + run.thread + "/runs/" + run.run
        + "/stream")).GET()));
    List<String[]> onB = SseEvents.of(send(HttpRequest.newBuilder(uri(b, "/threads/" + run.thread + "/runs/" + run.run
        + "/stream")).GET()));
    assertEquals(onB.stream().map(List::of).toList(), onA.stream().map(List::of).toList(), "joinStream, on A and B");
    assertConsecutiveIds(onA);
    assertEquals(List.of("metadata", "updates", "metadata", "updates", "updates", "values"),
        onA.stream().map(event -> event[0]).toList(), "attempt 1 (task 1), attempt 2 (task 2, the run's update, its"
        + " value), nothing of the stopped process: " + onA.stream().map(List::of).toList());
    assertQuiet();
  }

  @Test
  void endingEveryConnectionOfTheServersMidLoadIsSurvived() throws Exception {
    List<Started> runs = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      runs.add(startEffects(cluster[i % 3], "terminated" + i, 10, 300, null));
    }
    await(() -> runs.stream().allMatch(run -> effectRows(run.tag) >= 2), WAIT, "every run wrote two effects");
    assertEquals("3", sql("SELECT count(*)::text FROM pg_stat_activity WHERE application_name = 'fluxgraph-listener'"),
        "one LISTEN connection per process");
    String ended = sql("SELECT count(*)::text || ' ' || count(*) FILTER (WHERE application_name ="
        + " 'fluxgraph-listener')::text FROM (SELECT application_name, pg_terminate_backend(pid) FROM pg_stat_activity"
        + " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name NOT IN (?, ?)) t",
        TEST_APP, EFFECTS_APP);
    System.out.println("[MultiProcessIT] pg_terminate_backend: " + ended + " (all, listeners) connections ended");
    assertTrue(ended.endsWith(" 3"), ended);
    for (Started run : runs) {
      assertEquals("running", status(run), "mid-load (else this proves nothing): " + run);
    }
    awaitEnded(runs, WAIT);
    for (Started run : runs) {
      assertEquals("success", status(run), run + ": " + row(run));
      assertEquals("1", sql("SELECT attempt::text FROM fluxgraph_runs WHERE run_id = ?", run.run));
      assertEndedOnce(run);
      assertEffects(run, answer(cluster[2], run), Set.of());
    }
    await(() -> "3".equals(sql("SELECT count(*)::text FROM pg_stat_activity WHERE application_name ="
        + " 'fluxgraph-listener'")), WAIT, "every process listens again");
    // signals flow again: a run on A followed from B to its end, cancel from C of a run on B
    Started after = startEffects(cluster[0], "after-terminate", 3, 200, "[\"updates\",\"values\"]");
    List<String[]> events = SseEvents.of(send(HttpRequest.newBuilder(uri(cluster[1], "/threads/" + after.thread + "/runs/"
        + after.run + "/stream")).GET()));
    assertEquals(JSON.writeValueAsString(answer(cluster[2], after)), events.get(events.size() - 1)[2]);
    Started doomed = startEffects(cluster[1], "cancel-after-terminate", 30, 300, null);
    post(cluster[2], "/threads/" + doomed.thread + "/runs/" + doomed.run + "/cancel?wait=1&action=interrupt", "");
    assertEquals("interrupted", status(doomed));
    for (Node node : cluster) {
      assertTrue(node.child.process().isAlive(), node + " lives");
    }
    assertQuiet();
  }



  // --- what every test asserts ---

  /**
   * The effects of a finished run (see the class comment): {@code answer} names, for each step in order, the pid of
   * the process whose execution the run kept; the checkpoint holds that result and no other for the step; that
   * process wrote exactly one effect row for the step; every other row of the step is older and from a process in
   * {@code lost}; at most one such row per attempt beyond the first.
   */
  private void assertEffects(Started run, String answer, Set<Long> lost) {
    String[] kept = answer.split(",");
    assertEquals(run.steps, kept.length, run + " answered " + answer);
    List<Object[]> rows = effects(run.tag);
    int extra = 0;
    for (int step = 1; step <= run.steps; step++) {
      String[] parts = kept[step - 1].split("@");
      assertEquals(run.tag + ":" + step, parts[0], answer);
      long keeper = Long.parseLong(parts[1]);
      int current = step;
      List<Object[]> ofStep = rows.stream().filter(row -> (int) row[1] == current).toList();
      List<Object[]> ofKeeper = ofStep.stream().filter(row -> (long) row[2] == keeper).toList();
      String shown = run + " step " + step + " kept from pid " + keeper + ", effects (id, step, pid) "
          + rows.stream().map(List::of).toList();
      assertEquals(1, ofKeeper.size(), "the execution the run kept wrote its effect once: " + shown);
      for (Object[] other : ofStep) {
        if (other != ofKeeper.get(0)) {
          extra++;
          assertTrue(lost.contains((long) other[2]), "a second effect of a step comes only from a process that lost"
              + " the run: " + shown);
          assertTrue((long) other[0] < (long) ofKeeper.get(0)[0], "and before the execution that was kept: " + shown);
        }
      }
      assertEquals(List.of(JSON.valueToTree(kept[step - 1]).toString()), committed(run.thread, run.tag, step),
          "the checkpoint holds one result for the step, the one the run answered: " + shown);
    }
    int attempt = Integer.parseInt(sql("SELECT attempt::text FROM fluxgraph_runs WHERE run_id = ?", run.run));
    assertTrue(extra <= attempt - 1, run + ": " + extra + " effect(s) of executions cut short in " + attempt
        + " attempt(s): " + rows.stream().map(List::of).toList());
  }

  /** The distinct results of the run's step {@code step} in the thread's checkpoints (their writes), as JSON. */
  private List<String> committed(String thread, String tag, int step) {
    return strings("SELECT DISTINCT value::text FROM fluxgraph_writes WHERE thread_id = ? AND task_name = 'effect'"
        + " AND value::text LIKE ?", thread, "\"" + tag + ":" + step + "@%");
  }

  /** Exactly one {@code end:<run>} notification: the run's final status was written once. */
  private void assertEndedOnce(Started run) throws InterruptedException {
    await(() -> notifications.count("end:" + run.run) >= 1, Duration.ofSeconds(5), "the end of " + run
        + " was announced");
    assertEquals(1, notifications.count("end:" + run.run), "the end of " + run + " was written once");
  }

  /** No run of any test is left queued or running, and no thread busy. */
  private void assertQuiet() {
    assertEquals(null, sql("SELECT string_agg(run_id || ' ' || status, ', ') FROM fluxgraph_runs"
        + " WHERE status IN ('pending', 'running')"), "no run stays running or queued");
    assertEquals(null, sql("SELECT string_agg(thread_id, ', ') FROM fluxgraph_threads WHERE status = 'busy'"),
        "no thread stays busy");
  }

  private static void assertConsecutiveIds(List<String[]> events) {
    for (int i = 0; i < events.size(); i++) {
      assertEquals(Long.toString(Long.parseLong(events.get(0)[1]) + i), events.get(i)[1],
          "event ids count up by one: " + events.stream().map(List::of).toList());
    }
  }

  /** A replayed task emits no {@code updates} chunk: no step's update is seen twice in the run's stream. */
  private static void assertEachStepUpdatedAtMostOnce(List<String[]> events, int steps) {
    Set<String> seen = new HashSet<>();
    for (String[] event : events) {
      if (event[0].equals("updates")) {
        assertTrue(seen.add(event[2]), "update " + event[2] + " seen twice");
      }
    }
    assertTrue(seen.size() <= steps, seen.toString());
  }

  // --- runs ---

  private Started startEffects(Node via, String tag, int steps, int millis, @Nullable String streamModes)
      throws Exception {
    String thread = post(via, "/threads", "{}").get("thread_id").asText();
    return startEffects(via, thread, tag, steps, Integer.toString(millis), streamModes, "reject");
  }

  /** With a first step of {@code firstMillis}. */
  private Started startEffects(Node via, String tag, int steps, int millis, @Nullable String streamModes,
                               int firstMillis) throws Exception {
    String thread = post(via, "/threads", "{}").get("thread_id").asText();
    return startEffects(via, thread, tag, steps, millis + ":" + firstMillis, streamModes, "reject");
  }

  private Started startEffects(Node via, String thread, String tag, int steps, int millis,
                               @Nullable String streamModes, String multitaskStrategy) throws Exception {
    return startEffects(via, thread, tag, steps, Integer.toString(millis), streamModes, multitaskStrategy);
  }

  /** Starts an effects run in the background on {@code via}, durability sync; it is acknowledged when this returns. */
  private Started startEffects(Node via, String thread, String tag, int steps, String millis,
                               @Nullable String streamModes, String multitaskStrategy) throws Exception {
    String body = "{\"assistant_id\":\"effects\",\"input\":\"" + tag + ":" + steps + ":" + millis + "\","
        + "\"durability\":\"sync\",\"multitask_strategy\":\"" + multitaskStrategy + "\""
        + (streamModes == null ? "" : ",\"stream_mode\":" + streamModes) + "}";
    String run = post(via, "/threads/" + thread + "/runs", body).get("run_id").asText();
    assertTrue(sql("SELECT request::text FROM fluxgraph_runs WHERE run_id = ?", run).contains(tag),
        "an acknowledged run has its request in the database");
    return new Started(tag, steps, thread, run, via);
  }

  /**
   * The run's answer (a JSON string), read through {@code node}: the last event of its kept stream (joinStream of a
   * finished run replays it), since join answers the thread's latest values, which a later run may have replaced.
   */
  private String answer(Node node, Started run) throws Exception {
    List<String[]> events = SseEvents.of(send(HttpRequest.newBuilder(uri(node, "/threads/" + run.thread + "/runs/"
        + run.run + "/stream")).GET()));
    String[] last = events.get(events.size() - 1);
    assertEquals("values", last[0], run + " streamed on " + node + ": " + events.stream().map(List::of).toList());
    JsonNode value = JSON.readTree(last[2]);
    assertTrue(value.isTextual(), run + " answered " + value);
    return value.asText();
  }

  private void awaitEnded(List<Started> runs, Duration within) throws InterruptedException {
    await(() -> runs.stream().noneMatch(run -> List.of("pending", "running").contains(status(run))), within,
        "the runs ended: " + runs);
  }

  private String status(Started run) {
    return sql("SELECT status FROM fluxgraph_runs WHERE run_id = ?", run.run);
  }

  private String owner(Started run) {
    return sql("SELECT owner FROM fluxgraph_runs WHERE run_id = ?", run.run);
  }

  private String threadStatus(String thread) {
    return sql("SELECT status FROM fluxgraph_threads WHERE thread_id = ?", thread);
  }

  /** The run's record as text, for messages and before/after comparisons. */
  private String row(Started run) {
    return sql("SELECT concat_ws(' ', status, owner, attempt, updated_at, error) FROM fluxgraph_runs WHERE run_id = ?",
        run.run);
  }

  private String checkpointsOf(String thread) {
    return sql("SELECT (SELECT count(*) FROM fluxgraph_checkpoints WHERE thread_id = ?) || ' checkpoints, '"
        + " || (SELECT count(*) FROM fluxgraph_writes WHERE thread_id = ?) || ' writes, latest '"
        + " || (SELECT checkpoint_id FROM fluxgraph_checkpoints WHERE thread_id = ? ORDER BY created_at DESC,"
        + " checkpoint_id DESC LIMIT 1)", thread, thread, thread);
  }

  private long effectRows(String tag) {
    return Long.parseLong(sql("SELECT count(*)::text FROM effects WHERE tag = ?", tag));
  }

  /** The run's effect rows, oldest first: id, step, pid. */
  private List<Object[]> effects(String tag) {
    List<Object[]> rows = new ArrayList<>();
    query("SELECT id, step, pid FROM effects WHERE tag = ? ORDER BY id", new Object[] {tag}, result -> {
      while (result.next()) {
        rows.add(new Object[] {result.getLong(1), result.getInt(2), result.getLong(3)});
      }
    });
    return rows;
  }

  // --- processes ---

  private ChildServer launch(String prefix, String... options) throws IOException {
    List<String> args = new ArrayList<>(List.of("--port", "0", "--database-url", r2dbcUrl, "--lease-ttl",
        Durations.format(TTL), "--heartbeat-interval", Durations.format(HEARTBEAT)));
    args.addAll(List.of(options));
    ChildServer child = ChildServer.start(graphs, work.resolve("run"), LOGS, Map.of("FLUXGRAPH_WORKER_ID_PREFIX",
        prefix, StartupTestGraphs.JDBC_URL, effectsUrl), JVM_OPTIONS, args);
    children.add(child.process());
    return child;
  }

  private void destroyChildren() {
    for (Process child : children) {
      child.destroyForcibly();
    }
    for (Process child : children) {
      try {
        child.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static void signal(Node node, String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(node.pid())).inheritIO().start();
    assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
  }

  /** The state letter of the process in /proc (T: stopped). */
  private static char processState(Node node) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(node.pid()), "stat"), StandardCharsets.UTF_8);
      return stat.charAt(stat.lastIndexOf(')') + 2);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static void awaitLine(Node node, String text) throws InterruptedException {
    await(() -> node.child.out().contains(text), Duration.ofSeconds(15), "'" + text + "' in the log of " + node
        + ":\n" + node.child.out());
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

  // --- HTTP ---

  private static URI uri(Node node, String path) {
    return URI.create("http://127.0.0.1:" + node.port + path);
  }

  private JsonNode post(Node node, String path, String body) throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(uri(node, path))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
    return response.body().isEmpty() ? JSON.nullNode() : JSON.readTree(response.body());
  }

  private JsonNode get(Node node, String path) throws Exception {
    return JSON.readTree(send(HttpRequest.newBuilder(uri(node, path)).GET()).body());
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    HttpResponse<String> response = http.send(request.timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
    // a cancel with wait answers 204 once the run ended (202 without wait), as the reference does
    int expected = response.request().uri().getPath().endsWith("/cancel")
        ? (response.request().uri().getQuery() != null && response.request().uri().getQuery().contains("wait=1")
            ? 204 : 202) : 200;
    assertEquals(expected, response.statusCode(), response.request().uri() + ": " + response.body());
    return response;
  }

  // --- SQL, on this test's own connection (application_name MultiProcessIT) ---

  private interface Rows {
    void read(ResultSet rows) throws SQLException;
  }

  private void query(String sql, Object[] parameters, Rows rows) {
    try {
      if (connection == null || !connection.isValid(2)) {
        connection = DriverManager.getConnection(testUrl);
      }
      try (PreparedStatement statement = connection.prepareStatement(sql)) {
        for (int i = 0; i < parameters.length; i++) {
          if (parameters[i] instanceof String[] array) {
            statement.setArray(i + 1, connection.createArrayOf("text", array));
          } else {
            statement.setObject(i + 1, parameters[i]);
          }
        }
        try (ResultSet result = statement.executeQuery()) {
          rows.read(result);
        }
      }
    } catch (SQLException e) {
      throw new AssertionError(sql, e);
    }
  }

  /** The first column of the first row as text (null without rows). */
  private @Nullable String sql(String sql, Object... parameters) {
    String[] first = {null};
    query(sql, parameters, result -> {
      if (result.next()) {
        first[0] = result.getString(1);
      }
    });
    return first[0];
  }

  private List<String> strings(String sql, Object... parameters) {
    List<String> values = new ArrayList<>();
    query(sql, parameters, result -> {
      while (result.next()) {
        values.add(result.getString(1));
      }
    });
    return values;
  }

  private long count(String sql) {
    return Long.parseLong(sql(sql));
  }

  private void update(String sql) throws SQLException {
    try (Connection once = DriverManager.getConnection(testUrl);
         Statement statement = once.createStatement()) {
      statement.execute(sql);
    }
  }

  /** The notifications of the run queue's channel, received on a connection of this test's own. */
  private static final class Notifications implements AutoCloseable {

    private final Connection connection;
    private final List<String> payloads = new CopyOnWriteArrayList<>();
    private final Thread reader;
    private volatile boolean open = true;
    private volatile @Nullable SQLException failure;

    Notifications(String url) throws SQLException {
      connection = DriverManager.getConnection(url);
      try (Statement statement = connection.createStatement()) {
        statement.execute("LISTEN fluxgraph_runs");
      }
      reader = new Thread(this::read, "multi-process-it-notifications");
      reader.setDaemon(true);
      reader.start();
    }

    private void read() {
      try {
        PGConnection listening = connection.unwrap(PGConnection.class);
        while (open) {
          PGNotification[] received = listening.getNotifications(100);
          if (received != null) {
            for (PGNotification notification : received) {
              payloads.add(notification.getParameter());
            }
          }
        }
      } catch (SQLException e) {
        if (open) {
          failure = e;
        }
      }
    }

    long count(String payload) {
      SQLException failed = failure;
      if (failed != null) {
        throw new AssertionError("the test's LISTEN connection failed", failed);
      }
      return payloads.stream().filter(payload::equals).count();
    }

    @Override
    public void close() throws Exception {
      open = false;
      reader.join(2000);
      connection.close();
    }
  }
}
