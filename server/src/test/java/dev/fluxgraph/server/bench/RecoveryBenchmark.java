package dev.fluxgraph.server.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * Recovery after {@code kill -9}: how long the runs of a killed server process take to end on another process of
 * the same PostgreSQL. Each trial, on a database of its own in one embedded PostgreSQL with the durable settings
 * ({@link DurablePostgres}): starts two server processes B and A with the command line ({@code FluxgraphServer.main},
 * this JVM's class path plus a directory holding the services file of {@link BenchGraphs}, the options given after
 * the first four arguments: none means the defaults, a 30 s lease renewed every 5 s), puts {@code runs} background
 * runs of {@code sleep_until} on A (each on its own thread; they are running there, owned by A, checked in the
 * database), kills A with SIGKILL at a random moment of its heartbeat period, and polls the runs' rows until each has
 * ended. The recovery time is from the kill to the end of the last run ({@code updated_at} of its final row); a run's
 * {@code sleep_until} time is one second after the kill, so a resumed run ends as soon as it executes again. Each run
 * must end {@code success} on B at attempt 2 with its thread's state holding its input, or the benchmark fails.
 * Prints one line per trial, then the p50 and the maximum.
 *
 * <p>Usage: {@code RecoveryBenchmark <trials> <runs per trial> <graphs directory> <work directory> [server option...]}
 * ({@code scripts/bench-durable.sh} writes the graphs directory).
 */
public final class RecoveryBenchmark {

  private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+) ");
  private static final long START_TIMEOUT_MILLIS = 120_000;
  /** The kill comes this long after the runs are in, plus up to one default heartbeat period at random. */
  private static final long KILL_AFTER_MILLIS = 2_000;
  private static final long HEARTBEAT_MILLIS = 5_000;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private RecoveryBenchmark() {
  }

  /** A server started as a child JVM, its output in files. */
  private record Child(Process process, Path out, int port) {
    String url() {
      return "http://127.0.0.1:" + port;
    }
  }

  /** One trial's outcome, milliseconds from the kill. */
  private record Trial(long lastEnd, long firstEnd, long leaseExpiry, long observed) {
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      throw new IllegalArgumentException(
          "usage: RecoveryBenchmark <trials> <runs per trial> <graphs directory> <work directory> [server option...]");
    }
    int trials = Integer.parseInt(args[0]);
    int runs = Integer.parseInt(args[1]);
    if (trials < 1 || runs < 1) {
      throw new IllegalArgumentException("trials and runs per trial must be at least 1, were " + trials + " and "
          + runs);
    }
    Path graphs = Path.of(args[2]).toAbsolutePath();
    Path work = Files.createDirectories(Path.of(args[3]).toAbsolutePath());
    List<String> options = List.of(args).subList(4, args.length);
    if (!Files.isRegularFile(graphs.resolve("META-INF/services/dev.fluxgraph.server.GraphProvider"))) {
      throw new IllegalArgumentException(graphs + " holds no META-INF/services/dev.fluxgraph.server.GraphProvider");
    }
    EmbeddedPostgres postgres = DurablePostgres.start(work.resolve("postgres"));
    System.out.printf(Locale.ROOT, "recovery after kill -9: %d trials of %d runs, server options %s, PostgreSQL %s%n",
        trials, runs, options.isEmpty() ? "(defaults)" : String.join(" ", options), DurablePostgres.settings(postgres));
    List<Trial> results = new ArrayList<>();
    for (int trial = 1; trial <= trials; trial++) {
      String database = "recovery_" + trial;
      execute(postgres.getPostgresDatabase(), "CREATE DATABASE " + database);
      try {
        Trial result = trial(postgres, database, runs, graphs, work.resolve(database), options);
        results.add(result);
        System.out.printf(Locale.ROOT, "trial %d: last run ended %.2f s after the kill (first %.2f s; A's lease"
                + " expired %.2f s after the kill; seen done by polling %.2f s)%n", trial, result.lastEnd() / 1e3,
            result.firstEnd() / 1e3, result.leaseExpiry() / 1e3, result.observed() / 1e3);
      } finally {
        execute(postgres.getPostgresDatabase(), "DROP DATABASE " + database + " WITH (FORCE)");
      }
    }
    long[] last = results.stream().mapToLong(Trial::lastEnd).sorted().toArray();
    System.out.printf(Locale.ROOT, "recovery (kill to the last recovered run's end): p50 %.2f s, max %.2f s, min %.2f"
        + " s over %d trials%n", last[last.length / 2] / 1e3, last[last.length - 1] / 1e3, last[0] / 1e3, last.length);
    postgres.close();
  }

  private static Trial trial(EmbeddedPostgres postgres, String database, int runs, Path graphs, Path logs,
      List<String> options) throws Exception {
    DataSource data = postgres.getDatabase("postgres", database);
    String url = "r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/" + database;
    Child b = start("b", url, graphs, logs, options);
    Child a = null;
    try {
      Set<String> before = workers(data);
      a = start("a", url, graphs, logs, options);
      Set<String> after = workers(data);
      after.removeAll(before);
      if (after.size() != 1) {
        throw new IllegalStateException("expected one new worker for A, found " + after);
      }
      String workerA = after.iterator().next();
      long killAt = System.currentTimeMillis() + KILL_AFTER_MILLIS
          + ThreadLocalRandom.current().nextLong(HEARTBEAT_MILLIS);
      long until = killAt + 1_000;
      List<String[]> started = new ArrayList<>(); // thread id, run id
      for (int i = 0; i < runs; i++) {
        String thread = post(a, "/threads", "{}").get("thread_id").asText();
        JsonNode run = post(a, "/threads/" + thread + "/runs",
            "{\"assistant_id\":\"sleep_until\",\"input\":" + until + "}");
        started.add(new String[] {thread, run.get("run_id").asText()});
      }
      String[] ids = started.stream().map(s -> s[1]).toArray(String[]::new);
      List<Row> rows = rows(data, ids);
      for (Row row : rows) {
        if (!row.status().equals("running") || !workerA.equals(row.owner())) {
          throw new IllegalStateException("run " + row.runId() + " is " + row.status() + " on " + row.owner()
              + " before the kill, not running on A (" + workerA + ")");
        }
      }
      long wait = killAt - System.currentTimeMillis();
      if (wait < 0) {
        throw new IllegalStateException("the runs took longer to start than the delay before the kill");
      }
      Thread.sleep(wait);
      long killed = System.currentTimeMillis();
      a.process().destroyForcibly(); // SIGKILL
      a.process().waitFor();
      long deadline = killed + 300_000;
      long observed;
      while (true) {
        rows = rows(data, ids);
        if (rows.stream().allMatch(row -> !row.status().equals("running") && !row.status().equals("pending"))) {
          observed = System.currentTimeMillis() - killed;
          break;
        }
        if (System.currentTimeMillis() > deadline) {
          throw new IllegalStateException("runs not ended 300 s after the kill: " + rows);
        }
        Thread.sleep(20);
      }
      Set<String> workerB = workers(data);
      workerB.remove(workerA);
      for (Row row : rows) {
        if (!row.status().equals("success") || row.attempt() != 2 || !workerB.contains(row.owner())) {
          throw new IllegalStateException("run " + row.runId() + " ended " + row.status() + " at attempt "
              + row.attempt() + " on " + row.owner() + ", not success at attempt 2 on B " + workerB);
        }
      }
      for (String[] run : started) {
        JsonNode values = get(b, "/threads/" + run[0] + "/state").get("values");
        if (values == null || values.asLong() != until) {
          throw new IllegalStateException("thread " + run[0] + " holds " + values + ", not " + until);
        }
      }
      long lastEnd = rows.stream().mapToLong(row -> row.updatedAt().getTime()).max().orElseThrow() - killed;
      long firstEnd = rows.stream().mapToLong(row -> row.updatedAt().getTime()).min().orElseThrow() - killed;
      long leaseExpiry = leaseExpiry(data, workerA) - killed;
      return new Trial(lastEnd, firstEnd, leaseExpiry, observed);
    } finally {
      if (a != null) {
        a.process().destroyForcibly();
      }
      b.process().destroy();
      if (!b.process().waitFor(60, TimeUnit.SECONDS)) {
        b.process().destroyForcibly();
      }
    }
  }

  /** A run's row in {@code fluxgraph_runs}. */
  private record Row(String runId, String status, String owner, int attempt, Timestamp updatedAt) {
  }

  private static List<Row> rows(DataSource data, String[] runIds) throws SQLException {
    try (Connection connection = data.getConnection();
         PreparedStatement statement = connection.prepareStatement(
             "SELECT run_id, status, owner, attempt, updated_at FROM fluxgraph_runs WHERE run_id = ANY(?)")) {
      Array ids = connection.createArrayOf("text", runIds);
      statement.setArray(1, ids);
      List<Row> rows = new ArrayList<>();
      try (ResultSet result = statement.executeQuery()) {
        while (result.next()) {
          rows.add(new Row(result.getString(1), result.getString(2), result.getString(3), result.getInt(4),
              result.getTimestamp(5)));
        }
      }
      if (rows.size() != runIds.length) {
        throw new IllegalStateException("found " + rows.size() + " of the " + runIds.length + " runs");
      }
      return rows;
    }
  }

  private static Set<String> workers(DataSource data) throws SQLException {
    try (Connection connection = data.getConnection(); Statement statement = connection.createStatement();
         ResultSet result = statement.executeQuery("SELECT worker_id FROM fluxgraph_workers")) {
      Set<String> ids = new HashSet<>();
      while (result.next()) {
        ids.add(result.getString(1));
      }
      return ids;
    }
  }

  private static long leaseExpiry(DataSource data, String worker) throws SQLException {
    try (Connection connection = data.getConnection();
         PreparedStatement statement = connection.prepareStatement(
             "SELECT lease_expires_at FROM fluxgraph_workers WHERE worker_id = ?")) {
      statement.setString(1, worker);
      try (ResultSet result = statement.executeQuery()) {
        return result.next() ? result.getTimestamp(1).getTime() : -1;
      }
    }
  }

  private static void execute(DataSource data, String sql) throws SQLException {
    try (Connection connection = data.getConnection(); Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  private static Child start(String name, String databaseUrl, Path graphs, Path logs, List<String> options)
      throws IOException, InterruptedException {
    Files.createDirectories(logs);
    Path out = logs.resolve(name + ".out");
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path") + File.pathSeparator + graphs,
        "dev.fluxgraph.server.FluxgraphServer", "--database-url", databaseUrl, "--port", "0",
        "--worker-id-prefix", "bench-" + name));
    command.addAll(options);
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
    while (System.currentTimeMillis() < deadline) {
      Matcher listening = LISTENING.matcher(Files.readString(out, StandardCharsets.UTF_8));
      if (listening.find()) {
        return new Child(process, out, Integer.parseInt(listening.group(1)));
      }
      if (!process.isAlive()) {
        throw new IllegalStateException("server " + name + " ended with " + process.exitValue() + ": "
            + Files.readString(out, StandardCharsets.UTF_8));
      }
      process.waitFor(100, TimeUnit.MILLISECONDS);
    }
    process.destroyForcibly();
    throw new IllegalStateException("server " + name + " did not listen within " + START_TIMEOUT_MILLIS + " ms");
  }

  private static JsonNode post(Child server, String path, String body) throws IOException, InterruptedException {
    return send(server, HttpRequest.newBuilder(URI.create(server.url() + path)).header("Content-Type",
        "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build());
  }

  private static JsonNode get(Child server, String path) throws IOException, InterruptedException {
    return send(server, HttpRequest.newBuilder(URI.create(server.url() + path)).GET().build());
  }

  private static JsonNode send(Child server, HttpRequest request) throws IOException, InterruptedException {
    HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException(request.method() + " " + request.uri().getPath() + ": "
          + response.statusCode() + " " + response.body() + " (server log " + server.out() + ")");
    }
    return JSON.readTree(response.body());
  }
}
