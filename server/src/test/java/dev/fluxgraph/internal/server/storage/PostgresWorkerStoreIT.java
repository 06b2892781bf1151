package dev.fluxgraph.internal.server.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.server.TestSql;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * The workers' table and the owner writes against a real PostgreSQL: a run's record changes only by its owner while
 * the owner's lease holds (compare-and-set), and the sweep ends exactly the runs of expired or unknown owners, once,
 * whoever else sweeps at the same moment.
 */
class PostgresWorkerStoreIT {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final Duration TTL = Duration.ofSeconds(30);

  private static EmbeddedPostgres postgres;
  private static PostgresSaver saver;
  private static PostgresRunStore runs;
  private static PostgresThreadStore threads;
  private static PostgresWorkerStore workers;

  @BeforeAll
  static void database() throws IOException {
    postgres = EmbeddedPostgres.builder().start();
    saver = PostgresSaver.connect("r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/postgres");
    saver.setup().block(WAIT);
    threads = new PostgresThreadStore(saver.connectionFactory());
    runs = new PostgresRunStore(saver.connectionFactory());
    workers = new PostgresWorkerStore(saver.connectionFactory());
    threads.setup().then(runs.setup()).block(WAIT);
  }

  @AfterAll
  static void stop() throws IOException {
    saver.close();
    postgres.close();
  }

  @Test
  void onlyTheOwnerWithALiveLeaseChangesARun() {
    String owner = worker(TTL);
    String other = worker(TTL);
    String thread = thread("busy");
    String run = UUID.randomUUID().toString();
    Instant created = Instant.now();
    runs.save(record(run, thread, created, created, "running", owner)).block(WAIT);
    assertEquals(owner, sql("SELECT owner FROM fluxgraph_runs WHERE run_id = '" + run + "'"));
    assertEquals("1", sql("SELECT attempt FROM fluxgraph_runs WHERE run_id = '" + run + "'"));

    runs.save(record(run, thread, created, created.plusMillis(1), "success", other)).block(WAIT);
    assertEquals("running", status(run), "another worker changes nothing");
    runs.save(record(run, thread, created, created.plusMillis(2), "success", null)).block(WAIT);
    assertEquals("running", status(run), "a write without owner changes nothing");

    expire(owner);
    runs.save(record(run, thread, created, created.plusMillis(3), "success", owner)).block(WAIT);
    assertEquals("running", status(run), "the owner whose lease expired changes nothing");
    assertFalse(workers.renew(owner, TTL).block(WAIT), "an expired lease is not revived");

    String live = worker(TTL);
    String second = UUID.randomUUID().toString();
    runs.save(record(second, thread, created, created, "running", live)).block(WAIT);
    runs.save(record(second, thread, created, created.plusMillis(1), "success", live)).block(WAIT);
    assertEquals("success", status(second), "the owner with a live lease changes its run");
    assertTrue(workers.renew(live, TTL).block(WAIT));
  }

  @Test
  void theSweepEndsTheRunsOfExpiredAndUnknownOwnersOnceAndRepairsTheirThreads() {
    String live = worker(TTL);
    String dead = worker(TTL);
    Instant now = Instant.now();
    String lonely = thread("busy"); // only the dead worker's run is on it
    String shared = thread("busy"); // the dead worker's run ended, a live one's runs
    String lost = run(lonely, now, "running", dead);
    String queued = run(lonely, now, "pending", dead);
    String lostToo = run(shared, now, "running", dead);
    String alive = run(shared, now, "running", live);
    String legacy = run(thread("busy"), now, "running", null);
    String unknown = run(thread("idle"), now, "running", "nobody-" + UUID.randomUUID());
    String finished = run(thread("idle"), now, "success", dead);
    expire(dead);
    long expected = Long.parseLong(sql("SELECT count(*) FROM fluxgraph_runs r LEFT JOIN fluxgraph_workers w"
        + " ON w.worker_id = r.owner WHERE r.status IN ('pending', 'running')"
        + " AND (w.worker_id IS NULL OR w.lease_expires_at <= now())")); // with other tests' runs of dead owners

    PostgresWorkerStore.Swept[] both = Mono.zip(workers.sweep(TTL), workers.sweep(TTL), (a, b) ->
        new PostgresWorkerStore.Swept[] {a, b}).block(WAIT);
    PostgresWorkerStore.Swept again = workers.sweep(TTL).block(WAIT);

    assertTrue(expected >= 5, "" + expected);
    assertEquals(expected, both[0].runs() + both[1].runs(), "each run is ended by one sweep");
    assertEquals(0, again.runs());
    for (String ended : new String[] {lost, queued, lostToo, legacy, unknown}) {
      assertEquals("error", status(ended), ended);
    }
    String expiredAt = sql("SELECT to_char(lease_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        + " FROM fluxgraph_workers WHERE worker_id = '" + dead + "'");
    assertEquals("the server process running it stopped (worker " + dead + ", lease expired at " + expiredAt + ")",
        sql("SELECT error FROM fluxgraph_runs WHERE run_id = '" + lost + "'"));
    assertTrue(sql("SELECT error FROM fluxgraph_runs WHERE run_id = '" + unknown + "'").endsWith(
        ", no longer registered)"));
    assertEquals("running", status(alive), "the run of a live worker is left alone");
    assertEquals("success", status(finished));
    assertEquals("error", threadStatus(lonely));
    assertEquals("busy", threadStatus(shared), "another run of a live worker is on it");
  }

  @Test
  void aThreadBusyWithoutALiveRunIsRepairedOnlyAfterTheGracePeriod() {
    String fresh = thread("busy");
    String old = thread("busy");
    sql("UPDATE fluxgraph_threads SET updated_at = now() - interval '1 minute' WHERE thread_id = '" + old + "'"
        + " RETURNING thread_id");
    String live = worker(TTL);
    String running = thread("busy");
    run(running, Instant.now(), "running", live);
    sql("UPDATE fluxgraph_threads SET updated_at = now() - interval '1 minute' WHERE thread_id = '" + running + "'"
        + " RETURNING thread_id");
    workers.sweep(TTL).block(WAIT);
    assertEquals("busy", threadStatus(fresh), "its run's record may not be saved yet");
    assertEquals("error", threadStatus(old));
    assertEquals("busy", threadStatus(running), "a long run of a live worker");
  }

  @Test
  void expiredWorkersAreDeletedOnceTheyOwnNoUnfinishedRun() {
    String gone = worker(TTL);
    String owning = worker(TTL);
    run(thread("busy"), Instant.now(), "running", owning);
    sql("UPDATE fluxgraph_workers SET lease_expires_at = now() - interval '1 hour' WHERE worker_id IN ('" + gone
        + "', '" + owning + "') RETURNING worker_id");
    workers.deleteExpired(Duration.ofMinutes(1)).block(WAIT);
    assertEquals(null, sql("SELECT worker_id FROM fluxgraph_workers WHERE worker_id = '" + gone + "'"));
    assertEquals(owning, sql("SELECT worker_id FROM fluxgraph_workers WHERE worker_id = '" + owning + "'"),
        "kept until its runs are swept");
    workers.deregister(owning).block(WAIT);
    assertEquals(null, sql("SELECT worker_id FROM fluxgraph_workers WHERE worker_id = '" + owning + "'"));
  }

  private static String worker(Duration ttl) {
    String id = "w-" + UUID.randomUUID();
    workers.register(id, ttl).block(WAIT);
    return id;
  }

  private static void expire(String worker) {
    sql("UPDATE fluxgraph_workers SET lease_expires_at = now() - interval '1 millisecond' WHERE worker_id = '"
        + worker + "' RETURNING worker_id");
  }

  private static String thread(String status) {
    String id = UUID.randomUUID().toString();
    threads.create(id, Map.of(), "do_nothing").block(WAIT);
    threads.update(id, status, null, Map.of()).block(WAIT);
    return id;
  }

  private static String run(String thread, Instant at, String status, @Nullable String owner) {
    String id = UUID.randomUUID().toString();
    runs.save(record(id, thread, at, at, status, owner)).block(WAIT);
    return id;
  }

  private static RunStore.RunRecord record(String run, String thread, Instant created, Instant updated, String status,
                                           @Nullable String owner) {
    return new RunStore.RunRecord(run, thread, "graph", created, updated, status, Map.of(), "reject", owner);
  }

  private static String status(String run) {
    return sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + run + "'");
  }

  private static String threadStatus(String thread) {
    return sql("SELECT status FROM fluxgraph_threads WHERE thread_id = '" + thread + "'");
  }

  private static @Nullable String sql(String query) {
    return TestSql.first(postgres, query);
  }
}
