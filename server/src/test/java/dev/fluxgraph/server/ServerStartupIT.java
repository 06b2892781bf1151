package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The command line as a user runs it: {@code FluxgraphServer.main} in a child JVM on the test class path. A problem at
 * start is exactly one line on standard error (the problem and the fix), no stack trace, and a non-zero exit code;
 * a server that starts logs one line per event on standard output, at the level of {@code --log-level}.
 */
class ServerStartupIT {

  /** One line of the default format: time, level, [thread], logger - message. */
  private static final Pattern LOG_LINE = Pattern.compile(
      "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) (ERROR|WARN |INFO |DEBUG|TRACE) "
          + "\\[[^\\]]+\\] \\S+ - .*");
  private static final Duration START = ChildServer.START;

  @TempDir
  Path work;
  private Path graphs;

  /** What a finished child JVM left. */
  record Outcome(int exit, String out, String err) {
    List<String> errLines() {
      return err.lines().toList();
    }
  }

  @BeforeEach
  void graphsOnTheClassPath() throws IOException {
    graphs = ChildServer.graphsDirectory(work.resolve("graphs"));
  }

  // --- servers that start ---

  @Test
  void startsLogsOneLinePerEventAndStopsOnSigterm() throws Exception {
    ChildServer child = start(Map.of(), List.of(), "--in-memory", "--port", "0");
    int port = child.awaitListening();
    HttpResponse<String> ok = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ok")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, ok.statusCode());
    child.stop();
    String out = child.out();
    Pattern listening = Pattern.compile("INFO  \\[main\\] \\S*FluxgraphServer - Fluxgraph server listening on "
        + "http://127\\.0\\.0\\.1:" + port + " \\(storage: in memory \\(nothing is kept\\)\\)");
    assertTrue(listening.matcher(out).find(), out);
    assertTrue(out.contains("Fluxgraph server stopping"), out);
    assertFalse(out.contains(" DEBUG "), "INFO is the default level:\n" + out);
    for (String line : out.lines().toList()) {
      assertTrue(LOG_LINE.matcher(line).matches(), "not one log line: " + line);
    }
    assertEquals("", child.err(), "nothing on stderr (no SLF4J warning)");
  }

  @Test
  void sigtermLetsTheRunsFinishWithinTheGracePeriodAndRefusesNewOnes() throws Exception {
    ChildServer child = start(Map.of(), List.of(), "--in-memory", "--port", "0", "--shutdown-grace", "20s");
    int port = child.awaitListening();
    HttpClient http = HttpClient.newHttpClient();
    URI waitRun = URI.create("http://127.0.0.1:" + port + "/runs/wait");
    java.util.concurrent.CompletableFuture<HttpResponse<String>> waiting = http.sendAsync(HttpRequest.newBuilder(
            waitRun).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"assistant_id\":\"sleep\",\"input\":2000}")).build(),
        HttpResponse.BodyHandlers.ofString());
    HttpRequest busy = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/threads/search"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"status\":\"busy\"}")).build();
    long deadline = System.nanoTime() + START.toNanos();
    while (http.send(busy, HttpResponse.BodyHandlers.ofString()).body().equals("[]")) { // the run is under way
      assertTrue(System.nanoTime() < deadline, "the run did not start");
      child.process().waitFor(20, TimeUnit.MILLISECONDS);
    }
    child.process().destroy(); // SIGTERM while the run sleeps
    HttpRequest another = HttpRequest.newBuilder(waitRun)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"assistant_id\":\"sleep\",\"input\":1}")).build();
    HttpResponse<String> refused = http.send(another, HttpResponse.BodyHandlers.ofString());
    while (refused.statusCode() == 200 && System.nanoTime() < deadline) { // accepted before the drain began
      refused = http.send(another, HttpResponse.BodyHandlers.ofString());
    }
    assertEquals(503, refused.statusCode(), refused.body());
    assertTrue(refused.body().contains("shutting down"), refused.body());
    HttpResponse<String> answered = waiting.get(30, TimeUnit.SECONDS);
    assertEquals(200, answered.statusCode(), answered.body());
    assertEquals("2000", answered.body(), "the run finished within the grace period");
    assertTrue(child.process().waitFor(30, TimeUnit.SECONDS));
    String out = child.out();
    assertTrue(out.contains("Fluxgraph server stopping"), out);
    assertFalse(out.contains("cancelled"), "nothing was cut short:\n" + out);
  }

  @Test
  void sigtermOnTheEmbeddedDatabaseStopsTheServerFirstThenPostgres() throws Exception {
    Path dataDir = work.resolve("sigterm/postgres");
    ChildServer child = start(Map.of(), List.of(), "--port", "0", "--data-dir", dataDir.toString());
    try {
      child.awaitListening();
      assertTrue(Files.exists(dataDir.resolve("postmaster.pid")), "the embedded PostgreSQL runs");
      child.stop();
      String out = child.out();
      assertTrue(out.contains("Fluxgraph server stopping"), out);
      assertTrue(out.contains("deregistered"), "the worker left while its database was still up:\n" + out);
      assertFalse(out.contains(" WARN ") || out.contains(" ERROR "), "a clean stop warns of nothing:\n" + out);
      assertFalse(Files.exists(dataDir.resolve("postmaster.pid")), "and PostgreSQL stopped with the server");
    } finally {
      if (child.process().isAlive()) {
        child.process().destroyForcibly().waitFor();
      }
      stopLeftoverPostgres(dataDir);
    }
  }

  @Test
  void logLevelFromTheEnvironmentAndTheOption() throws Exception {
    ChildServer debug = start(Map.of("FLUXGRAPH_LOG_LEVEL", "debug"), List.of(), "--in-memory", "--port", "0");
    debug.awaitListening();
    debug.stop();
    assertTrue(debug.out().contains(" DEBUG "), debug.out());
    assertEquals("", debug.err());

    int port = freePort(); // at WARN there is no "listening" line to read the port from
    ChildServer quiet = start(Map.of("FLUXGRAPH_LOG_LEVEL", "debug"), List.of(), "--in-memory", "--port",
        String.valueOf(port), "--log-level", "WARN"); // the option wins over the environment
    awaitAnswer(quiet, port);
    quiet.stop();
    assertFalse(quiet.out().contains(" INFO "), quiet.out());
    assertFalse(quiet.out().contains(" DEBUG "), quiet.out());
    assertEquals("", quiet.err());
  }

  @Test
  void ownLogbackConfigurationReplacesTheDefault() throws Exception {
    Path config = work.resolve("my-logback.xml");
    Files.writeString(config, """
        <configuration>
          <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
            <encoder><pattern>MINE %level %msg%n</pattern></encoder>
          </appender>
          <root level="INFO"><appender-ref ref="OUT"/></root>
        </configuration>
        """);
    ChildServer child = start(Map.of(), List.of("-Dlogback.configurationFile=" + config), "--in-memory", "--port", "0");
    long deadline = System.nanoTime() + START.toNanos();
    while (!child.out().contains("MINE INFO Fluxgraph server listening on") && System.nanoTime() < deadline
        && child.process().isAlive()) {
      child.process().waitFor(100, TimeUnit.MILLISECONDS);
    }
    child.stop();
    assertTrue(child.out().contains("MINE INFO Fluxgraph server listening on http://127.0.0.1:"), child.out());
    assertEquals("", child.err());
  }

  /**
   * The embedded PostgreSQL: its output goes to {@code <data-dir>.log}, not to the console; a second server on the
   * same {@code --data-dir} is refused in one line; on its database a missing database or role is one line too; and
   * after the first server was killed (its PostgreSQL left running), a new one names the leftover in one line.
   */
  @Test
  void embeddedPostgresKeepsItsOutputInItsLogAndItsDirectoryToItself() throws Exception {
    Path dataDir = work.resolve("data/postgres");
    ChildServer first = start(Map.of(), List.of(), "--port", "0", "--data-dir", dataDir.toString());
    try {
      first.awaitListening();
      Matcher embedded = Pattern.compile("embedded PostgreSQL ready on port (\\d+)").matcher(first.out());
      assertTrue(embedded.find(), first.out());
      Path log = work.resolve("data/postgres.log");
      assertTrue(Files.readString(log).contains("database system is ready to accept connections"),
          "PostgreSQL's output is in its log file");
      assertFalse(first.out().contains("database system is ready"), "and not on the console:\n" + first.out());
      for (String line : first.out().lines().toList()) {
        assertTrue(LOG_LINE.matcher(line).matches(), "not one log line: " + line);
      }
      assertEquals("", first.err());
      try (Connection jdbc = DriverManager.getConnection("jdbc:postgresql://localhost:" + embedded.group(1)
          + "/postgres?user=postgres"); Statement statement = jdbc.createStatement()) {
        for (String setting : List.of("fsync", "synchronous_commit", "full_page_writes")) {
          try (ResultSet result = statement.executeQuery("SHOW " + setting)) {
            assertTrue(result.next());
            assertEquals("on", result.getString(1), "the embedded PostgreSQL is durable: " + setting);
          }
        }
      }

      Outcome second = run("--port", "0", "--data-dir", dataDir.toString());
      assertProblem(second, 1, "fluxgraph: --data-dir " + dataDir + " is in use by another Fluxgraph server; stop "
          + "it or pass another --data-dir");

      String missing = "r2dbc:postgresql://postgres@localhost:" + embedded.group(1) + "/no_such_db";
      Outcome noDatabase = run("--port", "0", "--database-url", missing);
      assertProblem(noDatabase, 1, "fluxgraph: PostgreSQL at localhost:" + embedded.group(1) + "/no_such_db has "
          + "no such database (");
      assertTrue(noDatabase.err().contains("create it or fix the database name in --database-url"),
          noDatabase.err());

      String stranger = "r2dbc:postgresql://nobody_here@localhost:" + embedded.group(1) + "/postgres";
      assertProblem(run("--port", "0", "--database-url", stranger), 1, "fluxgraph: PostgreSQL at localhost:"
          + embedded.group(1) + "/postgres refused the login (role \"nobody_here\" does not exist); fix the user or "
          + "password in --database-url");

      first.process().destroyForcibly().waitFor(); // kill -9: its PostgreSQL goes on running
      Outcome afterKill = run("--port", "0", "--data-dir", dataDir.toString());
      assertProblem(afterKill, 1, "fluxgraph: a PostgreSQL left running by an earlier server holds --data-dir "
          + dataDir + " (FATAL: lock file \"postmaster.pid\" already exists); stop it (pg_ctl stop -D " + dataDir
          + ") or pass another --data-dir");
    } finally {
      if (first.process().isAlive()) {
        first.stop();
      }
      stopLeftoverPostgres(dataDir);
    }
  }

  // --- problems at start: one line, non-zero exit ---

  @Test
  void portInUse() throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
      int port = taken.getLocalPort();
      Outcome outcome = run("--port", String.valueOf(port)); // default storage: fails before PostgreSQL starts
      assertProblem(outcome, 1, "fluxgraph: port " + port + " is in use on 127.0.0.1; pass --port <n> or stop the "
          + "other program");
      assertFalse(Files.exists(work.resolve("run/.fluxgraph")), "the embedded database was not started");
    }
  }

  @Test
  void hostThatIsNotThisMachine() throws Exception {
    Outcome outcome = run("--in-memory", "--host", "203.0.113.7", "--port", "0"); // TEST-NET-3, never local
    assertProblem(outcome, 1, "fluxgraph: cannot listen on 203.0.113.7: it is not an address of this machine; pass "
        + "--host 127.0.0.1, 0.0.0.0 or another local address");
  }

  @Test
  void databaseRefusesConnections() throws Exception {
    int port = freePort(); // nobody listens there once it is closed
    Outcome outcome = run("--port", "0", "--database-url", "r2dbc:postgresql://app:secret@127.0.0.1:" + port + "/app");
    assertProblem(outcome, 1, "fluxgraph: cannot connect to PostgreSQL at 127.0.0.1:" + port + "/app (connection "
        + "refused); start PostgreSQL there or fix the host and port in --database-url");
  }

  @Test
  void databaseHostUnknown() throws Exception {
    Outcome outcome = run("--port", "0", "--database-url", "r2dbc:postgresql://app@no-such-host.invalid:5432/app");
    assertProblem(outcome, 1, "fluxgraph: cannot connect to PostgreSQL at no-such-host.invalid:5432/app: unknown host; "
        + "fix the host in --database-url");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "postgresql://app:secret@localhost/app | --database-url postgresql://app:***@localhost/app is not an R2DBC URL; "
          + "write it as r2dbc:postgresql://user:password@host:5432/database",
      "jdbc:postgresql://localhost:5432/app | --database-url jdbc:postgresql://localhost:5432/app is not an R2DBC URL "
          + "(that is a JDBC URL); write it as r2dbc:postgresql://user:password@host:5432/database",
      "r2dbc:mysql://app:secret@localhost/app | --database-url r2dbc:mysql://app:***@localhost/app names the driver "
          + "'mysql', but Fluxgraph keeps its data in PostgreSQL; write it as "
          + "r2dbc:postgresql://user:password@host:5432/database",
      "r2dbc:postgresql | --database-url r2dbc:postgresql is malformed; write it as "
          + "r2dbc:postgresql://user:password@host:5432/database",
  })
  void malformedDatabaseUrl(String url, String problem) throws Exception {
    Outcome outcome = run("--port", "0", "--database-url", url);
    assertProblem(outcome, 2, "fluxgraph: " + problem + " (--help lists the options)");
    assertFalse(outcome.err().contains("secret"), "the password is not printed");
  }

  @Test
  void dataDirThatIsAFile() throws Exception {
    Path file = Files.writeString(work.resolve("notes.txt"), "not a directory");
    assertProblem(run("--port", "0", "--data-dir", file.toString()), 1, "fluxgraph: --data-dir " + file
        + " is a file, not a directory; pass a directory (it is created if missing)");
  }

  @Test
  void dataDirThatCannotBeCreated() throws Exception {
    Path file = Files.writeString(work.resolve("notes.txt"), "not a directory");
    Path below = file.resolve("postgres"); // unwritable even for root: its parent is a file
    Outcome outcome = run("--port", "0", "--data-dir", below.toString());
    assertProblem(outcome, 1, "fluxgraph: cannot use --data-dir " + below + " (");
    assertTrue(outcome.err().strip().endsWith("); pass a directory you can write to"), outcome.err());
  }

  @Test
  void dataDirWithOtherFiles() throws Exception {
    Path home = Files.createDirectories(work.resolve("home"));
    Files.writeString(home.resolve("thesis.tex"), "\\documentclass{article}");
    assertProblem(run("--port", "0", "--data-dir", home.toString()), 1, "fluxgraph: --data-dir " + home
        + " is not empty and holds no PostgreSQL data; pass an empty or new directory");
    assertEquals(List.of("thesis.tex"), List.of(home.toFile().list()), "nothing was written there");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "--in-memory --database-url r2dbc:postgresql://localhost/app | --in-memory and --database-url exclude each "
          + "other; pass one of them",
      "--in-memory --data-dir somewhere | --data-dir is the embedded PostgreSQL's directory and has no effect with "
          + "--in-memory; leave it out",
      "--port 70000 | --port must be between 0 and 65535, was 70000",
      "--port many | Invalid value for option '--port': 'many' is not an int",
      "--log-level loud | --log-level 'loud' is not a log level; use one of error, warn, info, debug, trace, off",
      "--por 2025 | Unknown options: '--por', '2025'; did you mean --port?",
      "--lease-ttl 5x | --lease-ttl: '5x' is not a duration; write a whole number and a unit (ms, s, m or h), like "
          + "500ms, 5s or 2m",
      "--lease-ttl 500ms | --lease-ttl: the lease TTL must be at least 1s, was 500ms",
      "--heartbeat-interval 20s | --heartbeat-interval: the heartbeat interval (20s) must be at most a third of the "
          + "lease TTL (30s), so that one late heartbeat does not lose the lease",
      "--lease-ttl 3s --heartbeat-interval 2s | --heartbeat-interval: the heartbeat interval (2s) must be at most a "
          + "third of the lease TTL (3s), so that one late heartbeat does not lose the lease",
      "--heartbeat-interval 0ms | --heartbeat-interval: the heartbeat interval must be positive, was 0ms",
      "--in-memory --lease-ttl 3s | --lease-ttl is for several server processes on one PostgreSQL and has no effect "
          + "with --in-memory; leave it out",
      "--worker-id-prefix a/b | --worker-id-prefix: the worker id prefix must be 1 to 64 letters, digits, '.', '_' "
          + "or '-', was 'a/b'",
      "--max-attempts 0 | --max-attempts: max attempts must be between 1 and 100, was 0",
      "--max-attempts three | Invalid value for option '--max-attempts': 'three' is not an int",
      "--in-memory --max-attempts 2 | --max-attempts is for several server processes on one PostgreSQL and has no "
          + "effect with --in-memory; leave it out",
      "--shutdown-grace 2h | --shutdown-grace: the shutdown grace period must be between 0s and 1h, was 2h",
      "--shutdown-grace soon | --shutdown-grace: 'soon' is not a duration; write a whole number and a unit (ms, s, m "
          + "or h), like 500ms, 5s or 2m",
      "--events-retention 10ms | --events-retention: the events retention must be at least 1s, was 10ms",
      "--in-memory --events-retention 1h | --events-retention is for several server processes on one PostgreSQL and "
          + "has no effect with --in-memory; leave it out",
      "--in-memory --graph-config [1] | --graph-config must be a JSON object of graph id to config",
      "--in-memory --graph-config {\"echo\":1} | --graph-config: the config of graph 'echo' must be an object",
  })
  void badOptions(String args, String problem) throws Exception {
    assertProblem(run(args.split(" ")), 2, "fluxgraph: " + problem + " (--help lists the options)");
  }

  @Test
  void badLogLevelInTheEnvironment() throws Exception {
    assertProblem(run(Map.of("FLUXGRAPH_LOG_LEVEL", "chatty"), "--in-memory", "--port", "0"), 2,
        "fluxgraph: FLUXGRAPH_LOG_LEVEL 'chatty' is not a log level; use one of error, warn, info, debug, trace, off "
            + "(--help lists the options)");
  }

  @Test
  void noGraphsOnTheClassPath() throws Exception {
    graphs = work.resolve("empty"); // the services file is not on this class path
    assertProblem(run("--in-memory", "--port", "0"), 1, "fluxgraph: no graphs to serve: put a jar with a "
        + "GraphProvider (listed in META-INF/services/dev.fluxgraph.server.GraphProvider) on the class path");
  }

  @Test
  void helpIsNoProblem() throws Exception {
    Outcome help = run("--help");
    assertEquals(0, help.exit());
    assertTrue(help.out().contains("--log-level=<level>"), help.out());
    assertEquals("", help.err());
  }

  // --- plumbing ---

  /** Asserts a one-line problem: the exit code, stderr exactly one line starting with {@code line}, no trace. */
  private static void assertProblem(Outcome outcome, int exit, String line) {
    String shown = "\nexit " + outcome.exit() + "\nstderr:\n" + outcome.err() + "\nstdout:\n" + outcome.out();
    assertEquals(exit, outcome.exit(), shown);
    assertEquals(1, outcome.errLines().size(), "one line on stderr" + shown);
    assertTrue(outcome.errLines().get(0).startsWith(line), "expected: " + line + shown);
    assertFalse(outcome.err().contains("\tat ") || outcome.out().contains("\tat "), "no stack trace" + shown);
  }

  /** Asks {@code /ok} until the server answers; fails if the process ends first. */
  private static void awaitAnswer(ChildServer child, int port) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpRequest ok = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ok")).build();
    long deadline = System.nanoTime() + START.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        assertEquals(200, http.send(ok, HttpResponse.BodyHandlers.ofString()).statusCode());
        return;
      } catch (IOException notYet) {
        if (!child.process().isAlive()) {
          fail("the server ended with " + child.process().exitValue() + "\nstderr:\n" + child.err());
        }
        child.process().waitFor(100, TimeUnit.MILLISECONDS);
      }
    }
    fail("no answer on port " + port + " within " + START);
  }

  /** Stops a PostgreSQL that a killed server left running on {@code dataDir} (the first line of its pid file). */
  private static void stopLeftoverPostgres(Path dataDir) throws Exception {
    Path pidFile = dataDir.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
    ProcessHandle postgres = ProcessHandle.of(pid).orElse(null);
    if (postgres != null) {
      postgres.destroy(); // SIGTERM: PostgreSQL's "smart" shutdown
      postgres.onExit().get(60, TimeUnit.SECONDS);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket free = new ServerSocket(0)) {
      return free.getLocalPort();
    }
  }

  private Outcome run(String... args) throws Exception {
    return run(Map.of(), args);
  }

  private Outcome run(Map<String, String> env, String... args) throws Exception {
    ChildServer child = start(env, List.of(), args);
    if (!child.process().waitFor(START.toSeconds(), TimeUnit.SECONDS)) {
      child.process().destroyForcibly();
      fail("still running after " + START + ": " + String.join(" ", args) + "\nstdout:\n" + child.out());
    }
    return new Outcome(child.process().exitValue(), child.out(), child.err());
  }

  private ChildServer start(Map<String, String> env, List<String> jvmOptions, String... args) throws IOException {
    return ChildServer.start(graphs, work.resolve("run"), work, env, jvmOptions, List.of(args));
  }
}
