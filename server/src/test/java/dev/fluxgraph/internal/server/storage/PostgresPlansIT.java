package dev.fluxgraph.internal.server.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.server.TestSql;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The server's hot statements find threads by key on a database that was empty when they were first planned. Their
 * texts are prepared once per connection, and PostgreSQL keeps the generic plan it chose after a few executions:
 * chosen while the tables were small (a fresh database, before its first analyze), a statement that joins its batch
 * to {@code fluxgraph_threads} may scan every thread for as long as its connection lives (until autovacuum's analyze
 * of the table makes it plan again). Thread creations, one statement per {@code POST /threads}, are written so that
 * they cannot; so is a run's record, which looks at its thread's unfinished runs. And a run's updates of its thread
 * stay in place.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PostgresPlansIT {

  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final int THREADS = 1500;

  private static EmbeddedPostgres postgres;
  private static PostgresSaver saver;
  private static PostgresThreadStore threads;

  @BeforeAll
  static void database() throws IOException {
    postgres = EmbeddedPostgres.builder().start();
    saver = PostgresSaver.connect("r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/postgres");
    saver.setup().block(WAIT);
    new PostgresRunStore(saver.connectionFactory()).setup().block(WAIT); // a thread's update checks its runs
    threads = new PostgresThreadStore(saver.connectionFactory());
    threads.setup().block(WAIT);
  }

  @AfterAll
  static void stop() throws IOException {
    saver.close();
    postgres.close();
  }

  @Test
  @Order(1) // its counters are the table's first
  void creatingThreadsFindsTheExistingOnesByKeyHoweverTheTableGrew() {
    List<String> created = new ArrayList<>();
    for (int i = 0; i < THREADS; i++) { // one after the other: each its own statement, on the few connections in use
      String thread = UUID.randomUUID().toString();
      threads.create(thread, Map.of(), "raise").block(WAIT);
      created.add(thread);
    }
    // a scan of the table per creation would read about THREADS^2 / 2 rows (over a million)
    long afterCreations = counterOnce("n_tup_ins", THREADS, "seq_tup_read");
    assertTrue(afterCreations < 10L * THREADS, "rows read by sequential scans of threads: " + afterCreations);
    for (String thread : created.subList(0, 20)) { // the existing ones, through the same statement
      ThreadStore.ThreadRecord again = threads.create(thread, Map.of("again", true), "do_nothing").block(WAIT);
      assertEquals(thread, Objects.requireNonNull(again).threadId());
      assertEquals(Map.of(), again.metadata(), "the thread as it was");
    }
  }

  /**
   * Every run sets its thread {@code busy}, then its end's status: those updates stay in place (HOT), so they write
   * no index entry and leave no dead one behind, which a partial index over {@code updated_at} (the one for threads
   * with a ttl) prevented although no thread of this test has a ttl.
   */
  @Test
  @Order(2)
  void aThreadsStatusUpdatesStayInPlace() {
    int count = 300;
    for (int i = 0; i < count; i++) {
      String thread = UUID.randomUUID().toString();
      threads.create(thread, Map.of(), "raise").block(WAIT);
      threads.update(thread, "busy", "graph", Map.of()).block(WAIT);
      threads.update(thread, "idle", "graph", Map.of()).block(WAIT);
    }
    counterOnce("n_tup_ins", THREADS + count, "n_tup_ins");
    long inPlace = counterOnce("n_tup_upd", 2L * count, "n_tup_hot_upd");
    assertTrue(inPlace >= 2L * count * 9 / 10, "updates in place: " + inPlace + " of " + 2 * count);
  }

  /**
   * Recording a run looks at its thread's unfinished runs, which it finds by key, not among every unfinished run,
   * whatever the plan: the database of this test makes every statement use the generic plan made at its first
   * execution, with the tables empty (the worst case a fresh database can give: PostgreSQL's choice between that plan
   * and the ones made for the actual values depends on timing, see docs/design.md, "Plans on a fresh database").
   */
  @Test
  @Order(3)
  void recordingRunsFindsTheirThreadsUnfinishedRunsByKeyWhateverThePlan() throws Exception {
    TestSql.execute(postgres, "CREATE DATABASE enqueues");
    TestSql.execute(postgres, "ALTER DATABASE enqueues SET plan_cache_mode = force_generic_plan");
    try (PostgresSaver fresh = PostgresSaver.connect("r2dbc:postgresql://postgres@localhost:" + postgres.getPort()
        + "/enqueues")) {
      fresh.setup().block(WAIT);
      new PostgresRunStore(fresh.connectionFactory()).setup().block(WAIT);
      PostgresThreadStore freshThreads = new PostgresThreadStore(fresh.connectionFactory());
      freshThreads.setup().block(WAIT);
      String worker = "w-" + UUID.randomUUID();
      new PostgresWorkerStore(fresh.connectionFactory()).register(worker, Duration.ofMinutes(5)).block(WAIT);
      PostgresRunQueue queue = new PostgresRunQueue(fresh.connectionFactory());
      ObjectNode request = JsonNodeFactory.instance.objectNode();
      request.putObject("body").put("input", 1);
      for (int i = 0; i < THREADS; i++) {
        String thread = UUID.randomUUID().toString();
        freshThreads.create(thread, Map.of(), "raise").block(WAIT);
        PostgresRunQueue.Enqueued enqueued = queue.enqueue(new PostgresRunQueue.NewRun(UUID.randomUUID().toString(),
            thread, "assistant", Instant.now(), Map.of(), "reject", worker, request, Duration.ZERO, "graph",
            null)).block(WAIT);
        // left running: the unfinished runs are what the next enqueues must not all read
        assertTrue(Objects.requireNonNull(enqueued).threadMarked(), "claimed, and its thread marked busy");
      }
      long runsRead = counterOnce(() -> Long.parseLong(Objects.requireNonNull(TestSql.first(postgres, "enqueues",
              "SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'fluxgraph_runs'"))), THREADS,
          () -> Long.parseLong(Objects.requireNonNull(TestSql.first(postgres, "enqueues",
              "SELECT seq_tup_read + idx_tup_fetch FROM pg_stat_user_tables WHERE relname = 'fluxgraph_runs'"))));
      // reading every unfinished run at each enqueue reads about THREADS^2 / 2 rows
      assertTrue(runsRead < 10L * THREADS, "rows of runs read by " + THREADS + " enqueues: " + runsRead);
    }
  }

  /**
   * Waits until {@code fluxgraph_threads}' counter {@code column} reached {@code expected} (each backend reports its
   * counters when idle, up to ten seconds later), then answers the counter {@code wanted}.
   */
  private static long counterOnce(String column, long expected, String wanted) {
    return counterOnce(() -> counter(column), expected, () -> counter(wanted));
  }

  private static long counterOnce(LongSupplier counter, long expected, LongSupplier wanted) {
    long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
    while (counter.getAsLong() < expected && System.nanoTime() < deadline) {
      sleep(250);
    }
    assertEquals(expected, counter.getAsLong(), "the counters are in");
    return wanted.getAsLong();
  }

  private static long counter(String column) {
    return Long.parseLong(sql("SELECT " + column + " FROM pg_stat_user_tables WHERE relname = 'fluxgraph_threads'"));
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String sql(String query) {
    return Objects.requireNonNull(TestSql.first(postgres, query));
  }
}
