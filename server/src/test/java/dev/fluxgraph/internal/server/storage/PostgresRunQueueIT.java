package dev.fluxgraph.internal.server.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.server.TestSql;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/**
 * The run queue on a real PostgreSQL: a run recorded with its request and claimed in one statement when its thread is
 * free, one running run per thread whatever the races, FIFO per thread, claims under a live lease only and each run
 * claimed once, cancel flags, and runs handed back to the queue.
 */
class PostgresRunQueueIT {

  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final Duration TTL = Duration.ofSeconds(30);

  private static EmbeddedPostgres postgres;
  private static PostgresSaver saver;
  private static PostgresRunQueue queue;
  private static PostgresWorkerStore workers;

  @BeforeAll
  static void database() throws IOException {
    postgres = EmbeddedPostgres.builder().start();
    saver = PostgresSaver.connect("r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/postgres");
    saver.setup().block(WAIT);
    new PostgresThreadStore(saver.connectionFactory()).setup()
        .then(new PostgresRunStore(saver.connectionFactory()).setup()).block(WAIT);
    queue = new PostgresRunQueue(saver.connectionFactory());
    workers = new PostgresWorkerStore(saver.connectionFactory());
  }

  @AfterAll
  static void stop() throws IOException {
    saver.close();
    postgres.close();
  }

  @Test
  void aRunOnAFreeThreadIsClaimedByItsRecorderAndOthersFollowTheStrategy() {
    String me = worker();
    String thread = UUID.randomUUID().toString();
    PostgresRunQueue.Enqueued first = queue.enqueue(run(thread, "reject", me, Duration.ZERO)).block(WAIT);
    assertEquals("running", first.status());
    assertEquals(List.of(), first.ahead());
    String running = only("SELECT run_id FROM fluxgraph_runs WHERE thread_id = '" + thread + "'");
    assertEquals(me, only("SELECT owner FROM fluxgraph_runs WHERE run_id = '" + running + "'"));
    assertEquals("{\"body\": {\"input\": 1}}", only("SELECT request::text FROM fluxgraph_runs WHERE run_id = '"
        + running + "'"), "the whole request is recorded");

    PostgresRunQueue.Enqueued refused = queue.enqueue(run(thread, "reject", me, Duration.ZERO)).block(WAIT);
    assertNull(refused.status(), "reject records nothing");
    assertEquals(running, refused.ahead().get(0).runId());
    assertEquals("1", only("SELECT count(*) FROM fluxgraph_runs WHERE thread_id = '" + thread + "'"));

    PostgresRunQueue.Enqueued queued = queue.enqueue(run(thread, "enqueue", me, Duration.ZERO)).block(WAIT);
    assertEquals("pending", queued.status());
    assertNull(only("SELECT owner FROM fluxgraph_runs WHERE thread_id = '" + thread + "' AND status = 'pending'"),
        "a queued run has no owner");
    assertNull(only("SELECT cancel_action FROM fluxgraph_runs WHERE run_id = '" + running + "'"));

    PostgresRunQueue.Enqueued interrupting = queue.enqueue(run(thread, "interrupt", me, Duration.ZERO)).block(WAIT);
    assertEquals("pending", interrupting.status());
    assertEquals(2, interrupting.ahead().size());
    assertEquals("2", only("SELECT count(*) FROM fluxgraph_runs WHERE thread_id = '" + thread
        + "' AND cancel_action = 'interrupt'"), "the runs ahead are flagged for cancelling");
  }

  @Test
  void concurrentRunsOfOneFreeThreadGetOneRunningAndTheRestQueuedInOrder() {
    String me = worker();
    String thread = UUID.randomUUID().toString();
    List<PostgresRunQueue.Enqueued> all = Flux.range(0, 8)
        .flatMap(i -> queue.enqueue(run(thread, "enqueue", me, Duration.ZERO)), 8)
        .collectList().block(WAIT);
    assertEquals(1, all.stream().filter(e -> "running".equals(e.status())).count(), all.toString());
    assertEquals(7, all.stream().filter(e -> "pending".equals(e.status())).count(), all.toString());

    // FIFO: nothing is claimable while one runs; then the oldest queued one
    assertNull(queue.claim(me, thread, Instant.now()).block(WAIT));
    List<String> order = List.of(only("SELECT string_agg(run_id, ',' ORDER BY created_at, run_id) FROM"
        + " fluxgraph_runs WHERE thread_id = '" + thread + "' AND status = 'pending'").split(","));
    finishRunning(thread);
    List<String> claimed = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      PostgresRunQueue.Claimed next = queue.claim(me, null, Instant.now()).filter(c -> c.record().threadId()
          .equals(thread)).block(WAIT);
      claimed.add(next.record().runId());
      assertEquals("running", next.record().status());
      assertEquals(me, next.record().owner());
      assertNull(queue.claim(me, thread, Instant.now()).block(WAIT), "one running run per thread");
      finishRunning(thread);
    }
    assertEquals(order, claimed);
  }

  @Test
  void twoClaimersTakeEveryQueuedRunExactlyOnceAndOnlyUnderALiveLease() {
    String a = worker();
    String b = worker();
    String expired = worker();
    sql("UPDATE fluxgraph_workers SET lease_expires_at = now() - interval '1 second' WHERE worker_id = '" + expired
        + "' RETURNING worker_id");
    Set<String> queued = new HashSet<>();
    for (int i = 0; i < 20; i++) {
      String thread = "claims-" + UUID.randomUUID();
      queue.enqueue(run(thread, "enqueue", expired, Duration.ZERO)).block(WAIT); // no lease: queued, not claimed
      queued.add(only("SELECT run_id FROM fluxgraph_runs WHERE thread_id = '" + thread + "'"));
    }
    assertNull(queue.claim(expired, null, Instant.now()).block(WAIT), "a worker whose lease expired claims nothing");
    List<PostgresRunQueue.Claimed> claims = Flux.merge(claimAll(a), claimAll(b)).collectList().block(WAIT);
    Set<String> taken = new HashSet<>();
    for (PostgresRunQueue.Claimed claim : claims) {
      if (queued.contains(claim.record().runId())) {
        assertTrue(taken.add(claim.record().runId()), "claimed twice: " + claim.record().runId());
      }
    }
    assertEquals(queued, taken);
  }

  @Test
  void aDelayedRunIsClaimableOnlyOnceDue() {
    String me = worker();
    String thread = UUID.randomUUID().toString();
    assertEquals("pending", queue.enqueue(run(thread, "reject", me, Duration.ofHours(1))).block(WAIT).status(),
        "a delayed run waits in the queue even on a free thread");
    assertNull(queue.claim(me, thread, Instant.now()).block(WAIT));
    sql("UPDATE fluxgraph_runs SET available_at = now() WHERE thread_id = '" + thread + "' RETURNING run_id");
    assertEquals(thread, queue.claim(me, thread, Instant.now()).block(WAIT).record().threadId());
  }

  @Test
  void cancelEndsAQueuedRunAtOnceAndFlagsARunningOne() {
    String me = worker();
    String thread = UUID.randomUUID().toString();
    queue.enqueue(run(thread, "reject", me, Duration.ZERO)).block(WAIT);
    String running = only("SELECT run_id FROM fluxgraph_runs WHERE thread_id = '" + thread + "'");
    queue.enqueue(run(thread, "enqueue", me, Duration.ZERO)).block(WAIT);
    queue.enqueue(run(thread, "enqueue", me, Duration.ZERO)).block(WAIT);
    List<String> pending = List.of(only("SELECT string_agg(run_id, ',' ORDER BY created_at, run_id) FROM"
        + " fluxgraph_runs WHERE thread_id = '" + thread + "' AND status = 'pending'").split(","));

    PostgresRunQueue.CancelRequested interrupted = queue.requestCancel(thread, pending.get(0), "interrupt",
        Instant.now()).block(WAIT);
    assertEquals("pending", interrupted.status());
    assertEquals("interrupted", status(pending.get(0)));
    PostgresRunQueue.CancelRequested rolledBack = queue.requestCancel(thread, pending.get(1), "rollback",
        Instant.now()).block(WAIT);
    assertEquals("pending", rolledBack.status());
    assertNull(status(pending.get(1)), "a queued run rolled back saved nothing and is gone");

    PostgresRunQueue.CancelRequested flagged = queue.requestCancel(thread, running, "rollback", Instant.now())
        .block(WAIT);
    assertEquals("running", flagged.status());
    assertEquals(me, flagged.owner());
    assertEquals("running", status(running), "its owner ends it");
    assertEquals("rollback", queue.cancelAction(running).block(WAIT));
    assertEquals(List.of(Map.entry(running, "rollback")), queue.flaggedFor(me).collectList().block(WAIT));
    assertNull(queue.requestCancel(thread, pending.get(0), "interrupt", Instant.now()).block(WAIT),
        "a finished run is left alone");
  }

  /**
   * A rollback of a queued run that a claim is taking at that very moment: the claim's statement is held (after it
   * made the run running, before it commits) by another transaction's uncommitted running run of the same thread,
   * which the unique index makes it wait for; the cancel is sent then and waits for the claim's row lock; then the
   * claim commits. The cancel's statement took its snapshot before that commit, where the run is still queued: it
   * must flag the running run for its claimer rather than find nothing to cancel (the run would execute unflagged).
   */
  @Test
  void aRollbackOfAQueuedRunWhileItIsClaimedFlagsItForItsClaimer() throws Exception {
    String recorder = worker();
    String claimer = worker();
    String thread = UUID.randomUUID().toString();
    queue.enqueue(run(thread, "reject", recorder, Duration.ZERO)).block(WAIT);
    queue.enqueue(run(thread, "enqueue", recorder, Duration.ZERO)).block(WAIT);
    String queued = only("SELECT run_id FROM fluxgraph_runs WHERE thread_id = '" + thread + "' AND status = 'pending'");
    finishRunning(thread);
    try (Connection blocker = postgres.getPostgresDatabase().getConnection()) {
      blocker.setAutoCommit(false);
      try (Statement statement = blocker.createStatement()) {
        statement.executeUpdate("INSERT INTO fluxgraph_runs (run_id, thread_id, assistant_id, created_at, updated_at,"
            + " status, metadata, multitask_strategy) VALUES ('blocker-" + thread + "', '" + thread + "', 'graph',"
            + " now(), now(), 'running', '{}', 'reject')");
      }
      CompletableFuture<PostgresRunQueue.Claimed> claim = queue.claim(claimer, thread, Instant.now()).toFuture();
      awaitWaitingForALock("%FOR UPDATE OF p SKIP LOCKED%");
      CompletableFuture<PostgresRunQueue.CancelRequested> cancel = queue.requestCancel(thread, queued, "rollback",
          Instant.now()).toFuture();
      awaitWaitingForALock("%cancel_action = $3%");
      blocker.rollback(); // the claim commits, then the cancel goes on
      PostgresRunQueue.Claimed claimed = claim.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertEquals(queued, claimed.record().runId());
      assertNull(claimed.cancelAction(), "claimed before the cancel was recorded");
      PostgresRunQueue.CancelRequested requested = cancel.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertNotNull(requested, "the cancel found nothing to cancel: it was lost");
      assertEquals("running", requested.status());
      assertEquals(claimer, requested.owner());
    }
    assertEquals("running", status(queued), "its claimer erases it");
    assertEquals(List.of(Map.entry(queued, "rollback")), queue.flaggedFor(claimer).collectList().block(WAIT));
  }

  /**
   * A rollback and its run's end at the same moment: once the flag is recorded, the owner's save of the run's end is
   * refused (the run still holds its thread, for its owner to erase it); an interrupt flag does not stop the end.
   */
  @Test
  void aRunFlaggedForRollbackCannotBeEndedByItsOwnerOnlyErased() {
    String me = worker();
    PostgresRunStore store = new PostgresRunStore(saver.connectionFactory());
    String rolledBack = UUID.randomUUID().toString();
    String interrupted = UUID.randomUUID().toString();
    queue.enqueue(run(rolledBack, "reject", me, Duration.ZERO)).block(WAIT);
    queue.enqueue(run(interrupted, "reject", me, Duration.ZERO)).block(WAIT);
    String first = only("SELECT run_id FROM fluxgraph_runs WHERE thread_id = '" + rolledBack + "'");
    String second = only("SELECT run_id FROM fluxgraph_runs WHERE thread_id = '" + interrupted + "'");
    assertNotNull(queue.requestCancel(rolledBack, first, "rollback", Instant.now()).block(WAIT));
    assertNotNull(queue.requestCancel(interrupted, second, "interrupt", Instant.now()).block(WAIT));
    store.save(ended(store.get(rolledBack, first).block(WAIT))).block(WAIT);
    store.save(ended(store.get(interrupted, second).block(WAIT))).block(WAIT);
    assertEquals("running", status(first), "a rollback that came first wins over the end");
    assertEquals("success", status(second));
    assertTrue(queue.deleteOwned(first, me, 1).block(WAIT));
    assertNull(status(first));
  }

  private static RunStore.RunRecord ended(RunStore.RunRecord running) {
    return new RunStore.RunRecord(running.runId(), running.threadId(), running.assistantId(), running.createdAt(),
        Instant.now(), "success", running.metadata(), running.multitaskStrategy(), running.owner(), null,
        running.attempt());
  }

  /** Waits until a backend running a statement like {@code pattern} waits for a lock. */
  private static void awaitWaitingForALock(String pattern) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    String query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '"
        + pattern + "'";
    while (!"1".equals(only(query))) {
      assertTrue(System.nanoTime() < deadline, "no statement like " + pattern + " waits for a lock");
      Thread.sleep(5); // polls a state of the database, not a guess at timing
    }
  }

  @Test
  void aReleasedRunGoesBackToTheQueueForItsNextAttempt() {
    String me = worker();
    String other = worker();
    String thread = UUID.randomUUID().toString();
    queue.enqueue(run(thread, "reject", me, Duration.ZERO)).block(WAIT);
    String running = only("SELECT run_id FROM fluxgraph_runs WHERE thread_id = '" + thread + "'");
    assertFalse(queue.release(running, other, 1, Instant.now()).block(WAIT), "only its owner releases it");
    assertFalse(queue.release(running, me, 2, Instant.now()).block(WAIT), "only in its attempt");
    assertTrue(queue.release(running, me, 1, Instant.now()).block(WAIT));
    PostgresRunQueue.Claimed next = queue.claim(other, thread, Instant.now()).block(WAIT);
    assertEquals(running, next.record().runId());
    assertEquals(2, next.record().attempt());
    assertEquals(other, next.record().owner());
    assertTrue(queue.deleteOwned(running, other, 2).block(WAIT));
    assertNull(status(running));
  }

  @Test
  void aRunClaimedAtOnceMarksItsExistingThreadBusyInTheSameStatement() {
    String me = worker();
    String thread = UUID.randomUUID().toString();
    new PostgresThreadStore(saver.connectionFactory()).create(thread, Map.of("owner", "ann"), "raise").block(WAIT);
    assertEquals("idle", only("SELECT status FROM fluxgraph_threads WHERE thread_id = '" + thread + "'"));

    PostgresRunQueue.Enqueued first = queue.enqueue(marking(run(thread, "enqueue", me, Duration.ZERO))).block(WAIT);
    assertEquals("running", first.status());
    assertTrue(first.threadMarked());
    assertEquals("busy notes", only("SELECT status || ' ' || graph_id FROM fluxgraph_threads WHERE thread_id = '"
        + thread + "'"));
    assertEquals("{\"owner\": \"ann\", \"graph_id\": \"notes\", \"assistant_id\": \"graph\"}",
        only("SELECT metadata::text FROM fluxgraph_threads WHERE thread_id = '" + thread + "'"),
        "the graph's ids are merged into the thread's metadata");

    sql("UPDATE fluxgraph_threads SET status = 'idle' WHERE thread_id = '" + thread + "' RETURNING thread_id");
    PostgresRunQueue.Enqueued queued = queue.enqueue(marking(run(thread, "enqueue", me, Duration.ZERO))).block(WAIT);
    assertEquals("pending", queued.status());
    assertFalse(queued.threadMarked(), "a queued run marks nothing: its claimer does");
    assertEquals("idle", only("SELECT status FROM fluxgraph_threads WHERE thread_id = '" + thread + "'"));

    PostgresRunQueue.Enqueued unmarked = queue.enqueue(run(UUID.randomUUID().toString(), "enqueue", me,
        Duration.ZERO)).block(WAIT);
    assertEquals("running", unmarked.status());
    assertFalse(unmarked.threadMarked(), "without a graph the thread is left alone");
    PostgresRunQueue.Enqueued missing = queue.enqueue(marking(run(UUID.randomUUID().toString(), "enqueue", me,
        Duration.ZERO))).block(WAIT);
    assertEquals("running", missing.status());
    assertFalse(missing.threadMarked(), "a thread that does not exist is not marked (the caller answers 404)");
  }

  private static PostgresRunQueue.NewRun marking(PostgresRunQueue.NewRun run) {
    return new PostgresRunQueue.NewRun(run.runId(), run.threadId(), run.assistantId(), run.createdAt(),
        run.metadata(), run.multitaskStrategy(), run.owner(), run.request(), run.delay(), "notes", null);
  }

  private static PostgresRunQueue.NewRun madeFrom(PostgresRunQueue.NewRun run, String assistantId, Instant at) {
    return new PostgresRunQueue.NewRun(run.runId(), run.threadId(), assistantId, run.createdAt(), run.metadata(),
        run.multitaskStrategy(), run.owner(), run.request(), run.delay(), "notes", at);
  }

  @Test
  void aRunMadeFromAnAssistantVersionIsRecordedOnlyWhileThatVersionIsCurrent() {
    PostgresAssistantStore assistants = new PostgresAssistantStore(saver.connectionFactory());
    assistants.setup().block(WAIT);
    String me = worker();
    String assistantId = UUID.randomUUID().toString();
    Instant created = Instant.parse("2026-01-01T00:00:00.123456Z");
    AssistantStore.AssistantRecord first = assistants.create(new AssistantStore.AssistantRecord(assistantId, "notes",
        Map.of(), Map.of(), Map.of(), "a", null, 1, created, created), false).block(WAIT);
    String thread = UUID.randomUUID().toString();
    sql("INSERT INTO fluxgraph_threads (thread_id, created_at, updated_at, metadata, status) VALUES ('" + thread
        + "', now(), now(), '{}', 'idle') RETURNING thread_id");

    PostgresRunQueue.Enqueued current = queue.enqueue(madeFrom(run(thread, "enqueue", me, Duration.ZERO),
        assistantId, first.updatedAt())).block(WAIT);
    assertFalse(current.stale());
    assertEquals("running", current.status());
    finishRunning(thread);
    sql("UPDATE fluxgraph_threads SET status = 'idle' WHERE thread_id = '" + thread + "' RETURNING thread_id");

    sql("UPDATE fluxgraph_assistants SET updated_at = updated_at + interval '1 second', version = 2 WHERE"
        + " assistant_id = '" + assistantId + "' RETURNING assistant_id"); // as a patch does
    PostgresRunQueue.NewRun late = madeFrom(run(thread, "interrupt", me, Duration.ZERO), assistantId,
        first.updatedAt());
    PostgresRunQueue.Enqueued stale = queue.enqueue(late).block(WAIT);
    assertTrue(stale.stale(), "made from a version that is no longer the assistant's");
    assertNull(stale.status());
    assertNull(only("SELECT run_id FROM fluxgraph_runs WHERE run_id = '" + late.runId() + "'"), "nothing recorded");
    assertEquals("idle", only("SELECT status FROM fluxgraph_threads WHERE thread_id = '" + thread + "'"),
        "the thread is not marked");

    sql("DELETE FROM fluxgraph_assistants WHERE assistant_id = '" + assistantId + "' RETURNING assistant_id");
    assertTrue(queue.enqueue(madeFrom(run(thread, "enqueue", me, Duration.ZERO), assistantId, first.updatedAt()))
        .block(WAIT).stale(), "a deleted assistant");
    PostgresRunQueue.Enqueued unchecked = queue.enqueue(marking(run(thread, "enqueue", me, Duration.ZERO)))
        .block(WAIT);
    assertFalse(unchecked.stale(), "a run made from a fresh read is not checked");
    assertEquals("running", unchecked.status());
  }

  private static Flux<PostgresRunQueue.Claimed> claimAll(String worker) {
    return queue.claim(worker, null, Instant.now()).expand(claimed -> queue.claim(worker, null, Instant.now()));
  }

  private static void finishRunning(String thread) {
    sql("UPDATE fluxgraph_runs SET status = 'success' WHERE thread_id = '" + thread + "' AND status = 'running'"
        + " RETURNING run_id");
  }

  private static PostgresRunQueue.NewRun run(String thread, String strategy, String owner, Duration delay) {
    var request = JsonNodeFactory.instance.objectNode();
    request.putObject("body").put("input", 1);
    return new PostgresRunQueue.NewRun(UUID.randomUUID().toString(), thread, "graph", Instant.now(), Map.of(),
        strategy, owner, request, delay);
  }

  private static String worker() {
    String id = "w-" + UUID.randomUUID();
    workers.register(id, TTL).block(WAIT);
    return id;
  }

  private static @Nullable String status(String run) {
    return only("SELECT status FROM fluxgraph_runs WHERE run_id = '" + run + "'");
  }

  private static @Nullable String only(String query) {
    return TestSql.first(postgres, query);
  }

  private static void sql(String statement) {
    TestSql.first(postgres, statement);
  }
}
