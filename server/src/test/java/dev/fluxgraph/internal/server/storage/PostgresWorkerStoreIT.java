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
import java.util.List;
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
    runs.insert(record(run, thread, created, created, "running", owner)).block(WAIT);
    assertEquals(owner, sql("SELECT owner FROM fluxgraph_runs WHERE run_id = '" + run + "'"));
    assertEquals("1", sql("SELECT attempt FROM fluxgraph_runs WHERE run_id = '" + run + "'"));

    runs.save(record(run, thread, created, created.plusMillis(1), "success", other)).block(WAIT);
    assertEquals("running", status(run), "another worker changes nothing");
    runs.save(record(run, thread, created, created.plusMillis(2), "success", null)).block(WAIT);
    assertEquals("running", status(run), "a write without owner changes nothing");
    runs.save(new RunStore.RunRecord(run, thread, "graph", created, created.plusMillis(2), "success", Map.of(),
        "reject", owner, null, 2)).block(WAIT);
    assertEquals("running", status(run), "a write of another attempt changes nothing");

    expire(owner);
    runs.save(record(run, thread, created, created.plusMillis(3), "success", owner)).block(WAIT);
    assertEquals("running", status(run), "the owner whose lease expired changes nothing");
    assertFalse(workers.renew(owner, TTL).block(WAIT), "an expired lease is not revived");

    String live = worker(TTL);
    String second = UUID.randomUUID().toString();
    String otherThread = thread("busy");
    runs.insert(record(second, otherThread, created, created, "running", live)).block(WAIT);
    runs.save(record(second, otherThread, created, created.plusMillis(1), "success", live)).block(WAIT);
    assertEquals("success", status(second), "the owner with a live lease changes its run");
    assertTrue(workers.renew(live, TTL).block(WAIT));
    String unknown = UUID.randomUUID().toString();
    runs.save(record(unknown, otherThread, created, created, "running", live)).block(WAIT);
    assertEquals(null, status(unknown), "a save never records a run");
  }

  @Test
  void aRunsLastEventsAreKeptWithItsEndAndOnlyWhenTheEndIs() {
    String owner = worker(TTL);
    String other = worker(TTL);
    String thread = thread("busy");
    String run = UUID.randomUUID().toString();
    Instant created = Instant.now();
    runs.insert(record(run, thread, created, created, "running", owner)).block(WAIT);
    List<PostgresEventStore.StoredEvent> last = List.of(new PostgresEventStore.StoredEvent(1, "values", "{\"a\":1}"),
        new PostgresEventStore.StoredEvent(2, "updates", "{\"b\":2}"));

    runs.save(record(run, thread, created, created.plusMillis(1), "success", other), last).block(WAIT);
    assertEquals("running", status(run));
    assertEquals("0", sql("SELECT count(*) FROM fluxgraph_run_events WHERE run_id = '" + run + "'"),
        "a save that changes nothing keeps none of its events");

    runs.save(record(run, thread, created, created.plusMillis(2), "success", owner), last).block(WAIT);
    assertEquals("success", status(run));
    assertEquals("1 2 {values,updates} " + thread, sql("SELECT string_agg(seq || ' ' || last_seq || ' ' || names::text"
        + " || ' ' || thread_id, ',') FROM fluxgraph_run_events WHERE run_id = '" + run + "'"),
        "kept in order, as one row, on the run's thread");
    runs.save(record(run, thread, created, created.plusMillis(2), "success", owner), last).block(WAIT);
    assertEquals("1", sql("SELECT count(*) FROM fluxgraph_run_events WHERE run_id = '" + run + "'"),
        "a save sent again keeps them once");
  }

  @Test
  void aRunsEndSetsItsThreadsStatusInTheSameWriteAndOnlyWhenTheEndIsWritten() {
    String owner = worker(TTL);
    String other = worker(TTL);
    String thread = thread("busy");
    Instant created = Instant.now();
    String run = run(thread, created, "running", owner);

    runs.save(record(run, thread, created, created.plusMillis(1), "success", other), List.of(), "idle").block(WAIT);
    assertEquals("running", status(run));
    assertEquals("busy", threadStatus(thread), "a save that changes nothing leaves the thread alone");

    runs.save(record(run, thread, created, created.plusMillis(2), "success", owner), List.of(), "interrupted")
        .block(WAIT);
    assertEquals("success", status(run));
    assertEquals("interrupted", threadStatus(thread), "the run's end and its thread's status commit together");
    assertEquals(sql("SELECT updated_at FROM fluxgraph_runs WHERE run_id = '" + run + "'"),
        sql("SELECT updated_at FROM fluxgraph_threads WHERE thread_id = '" + thread + "'"));
    runs.save(record(run, thread, created, created.plusMillis(3), "success", owner), List.of(), "error").block(WAIT);
    assertEquals("interrupted", threadStatus(thread), "a finished run's save sent again changes nothing");

    String queued = thread("busy");
    String ending = run(queued, created, "running", owner);
    run(queued, created.plusMillis(1), "pending", null);
    runs.save(record(ending, queued, created, created.plusMillis(2), "success", owner), List.of(), "idle")
        .block(WAIT);
    assertEquals("busy", threadStatus(queued), "a thread with a queued run stays busy");

    String untouched = thread("busy");
    String quiet = run(untouched, created, "running", owner);
    runs.save(record(quiet, untouched, created, created.plusMillis(1), "error", owner), List.of(), null).block(WAIT);
    assertEquals("error", status(quiet));
    assertEquals("busy", threadStatus(untouched), "a save without a thread status leaves the thread alone");

    String lost = thread("busy");
    String late = run(lost, created, "running", owner);
    expire(owner);
    runs.save(record(late, lost, created, created.plusMillis(1), "success", owner), List.of(), "idle").block(WAIT);
    assertEquals("running", status(late));
    assertEquals("busy", threadStatus(lost), "an owner whose lease expired writes neither");
  }

  @Test
  void theSweepRequeuesTheRunsOfLostOwnersOnceAndEndsThoseItCannotResume() {
    String live = worker(TTL);
    String dead = worker(TTL);
    Instant now = Instant.now();
    String lonely = thread("busy"); // only the dead worker's run is on it
    String lost = resumable(run(lonely, now, "running", dead));
    String queuedBehind = thread("busy");
    String lostToo = resumable(run(queuedBehind, now, "running", dead));
    String waiting = resumable(run(queuedBehind, now.plusMillis(1), "pending", null));
    String alive = resumable(run(thread("busy"), now, "running", live));
    String legacyThread = thread("busy");
    String legacy = run(legacyThread, now, "running", null); // no request recorded: cannot be resumed
    String tiredThread = thread("busy");
    String tired = resumable(run(tiredThread, now, "running", dead));
    sql("UPDATE fluxgraph_runs SET attempt = 3 WHERE run_id = '" + tired + "' RETURNING run_id");
    String unknown = resumable(run(thread("busy"), now, "running", "nobody-" + UUID.randomUUID()));
    String finished = run(thread("idle"), now, "success", dead);
    expire(dead);
    long expected = Long.parseLong(sql("SELECT count(*) FROM fluxgraph_runs r LEFT JOIN fluxgraph_workers w"
        + " ON w.worker_id = r.owner WHERE r.status = 'running'"
        + " AND (w.worker_id IS NULL OR w.lease_expires_at <= now())")); // with other tests' runs of dead owners

    PostgresWorkerStore.Swept[] both = Mono.zip(sweep(), sweep(), (a, b) ->
        new PostgresWorkerStore.Swept[] {a, b}).block(WAIT);
    PostgresWorkerStore.Swept again = sweep().block(WAIT);

    assertTrue(expected >= 5, "" + expected);
    assertEquals(expected, both[0].requeued() + both[1].requeued() + both[0].ended() + both[1].ended(),
        "each run is taken by one sweep");
    assertEquals(0, again.requeued() + again.ended());
    for (String requeued : new String[] {lost, lostToo, unknown}) {
      assertEquals("pending", status(requeued), requeued);
      assertEquals(null, sql("SELECT owner FROM fluxgraph_runs WHERE run_id = '" + requeued + "'"));
      assertEquals("2", sql("SELECT attempt FROM fluxgraph_runs WHERE run_id = '" + requeued + "'"));
      assertEquals("t", sql("SELECT available_at <= now() FROM fluxgraph_runs WHERE run_id = '" + requeued + "'"),
          "the first take-over is not delayed");
    }
    assertEquals("pending", status(waiting), "a queued run stays queued");
    assertEquals("running", status(alive), "the run of a live worker is left alone");
    assertEquals("success", status(finished));
    assertEquals("busy", threadStatus(lonely), "its run is queued again");
    assertEquals("error", status(legacy));
    assertTrue(sql("SELECT error FROM fluxgraph_runs WHERE run_id = '" + legacy + "'").contains(
        "its request was not recorded"));
    assertEquals("error", threadStatus(legacyThread));
    String expiredAt = sql("SELECT to_char(lease_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        + " FROM fluxgraph_workers WHERE worker_id = '" + dead + "'");
    assertEquals("gave up after 3 attempt(s) (max_attempts 3): the server process running it stopped each time"
        + " (worker " + dead + ", lease expired at " + expiredAt + ")",
        sql("SELECT error FROM fluxgraph_runs WHERE run_id = '" + tired + "'"));
    assertEquals("error", threadStatus(tiredThread));

    // a second take-over of the same run waits a backoff
    sql("UPDATE fluxgraph_runs SET status = 'running', owner = '" + dead + "' WHERE run_id = '" + lost
        + "' RETURNING run_id");
    sweep().block(WAIT);
    assertEquals("3", sql("SELECT attempt FROM fluxgraph_runs WHERE run_id = '" + lost + "'"));
    assertEquals("t", sql("SELECT available_at > now() FROM fluxgraph_runs WHERE run_id = '" + lost + "'"));
  }

  private static Mono<PostgresWorkerStore.Swept> sweep() {
    return workers.sweep(TTL, 3, Duration.ofSeconds(1));
  }

  /** Records a request for the run, so that the sweep may queue it again. */
  private static String resumable(String run) {
    sql("UPDATE fluxgraph_runs SET request = '{}'::jsonb WHERE run_id = '" + run + "' RETURNING run_id");
    return run;
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
    sweep().block(WAIT);
    assertEquals("busy", threadStatus(fresh), "its run's record may not be saved yet");
    assertEquals("error", threadStatus(old));
    assertEquals("busy", threadStatus(running), "a long run of a live worker");
  }

  @Test
  void theEarliestLeaseOfAWorkerOwningRunningRunsTellsWhenToSweepNext() {
    String idle = worker(Duration.ofMillis(1500)); // owns no running run: not counted
    String soon = worker(Duration.ofSeconds(3));
    String later = worker(Duration.ofSeconds(20));
    run(thread("busy"), Instant.now(), "running", soon);
    run(thread("busy"), Instant.now(), "running", later);
    long millis = workers.untilEarliestExpiry().block(WAIT);
    assertTrue(millis <= 3000, "" + millis);
    assertTrue(idle.startsWith("w-"));
    expire(soon);
    assertTrue(workers.untilEarliestExpiry().block(WAIT) <= 0, "an expired lease: sweep now");
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
    runs.insert(record(id, thread, at, at, status, owner)).block(WAIT);
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
