package dev.fluxgraph.internal.server.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.internal.server.storage.PostgresEventStore.StoredEvent;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.postgres.Schema;
import dev.fluxgraph.server.TestSql;
import io.r2dbc.pool.ConnectionPool;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * A run's events against a real PostgreSQL, checked through plain SQL: concurrent appends of many runs all stored
 * and committed in order per run, retries ignored, reads paged, a follower from another process that neither loses
 * nor repeats an event whether notifications arrive or not, and the retention sweep.
 */
class PostgresEventStoreIT {

  /** The stored events, one row each (each round's row expanded), with their round's thread and commit time. */
  private static final String EVENTS = "(SELECT e.run_id, e.thread_id, e.seq + u.i - 1 AS seq, u.name, u.data,"
      + " e.created_at FROM fluxgraph_run_events e, unnest(e.names, e.data) WITH ORDINALITY AS u (name, data, i)) ev";
  private static final Duration WAIT = Duration.ofSeconds(30);
  /** A poll that never fires within a test: only the wakeups drive the follower. */
  private static final Duration NEVER = Duration.ofHours(1);

  private static EmbeddedPostgres postgres;
  private static PostgresSaver saver;
  private static PostgresRunStore runs;
  private static PostgresEventStore events;

  @BeforeAll
  static void database() throws IOException {
    postgres = EmbeddedPostgres.builder().start();
    saver = PostgresSaver.connect("r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/postgres");
    runs = new PostgresRunStore(saver.connectionFactory());
    events = new PostgresEventStore(saver.connectionFactory());
    runs.setup().then(events.setup()).then(events.setup()).block(WAIT);
  }

  @AfterAll
  static void stop() throws IOException {
    saver.close();
    postgres.close();
  }

  @Test
  void concurrentAppendsOfManyRunsAreAllStoredAndCommittedInOrderPerRun() {
    int runCount = 16;
    int perRun = 1000; // 16,000 rows queued at once: more than 65,535 bind parameters in one statement
    List<String> ids = Flux.range(0, runCount).map(i -> UUID.randomUUID().toString()).collectList().block(WAIT);
    String thread = UUID.randomUUID().toString();
    CompletableFuture<Void> appended;
    try (Connection lock = postgres.getPostgresDatabase().getConnection(); Statement statement = lock.createStatement()) {
      // the first insert waits for the lock, so that all the others queue up behind it, deterministically
      lock.setAutoCommit(false);
      statement.execute("LOCK TABLE fluxgraph_run_events IN EXCLUSIVE MODE");
      appended = Flux.fromIterable(ids)
          .flatMap(run -> Flux.range(0, perRun).flatMap(seq -> events.append(run, thread, event(seq)), perRun),
              runCount)
          .then().toFuture();
      lock.commit();
    } catch (SQLException e) {
      throw new AssertionError(e);
    }
    Mono.fromFuture(appended).block(WAIT);

    String in = "('" + String.join("', '", ids) + "')";
    assertEquals(String.valueOf(runCount * perRun),
        sql("SELECT count(*) FROM " + EVENTS + " WHERE run_id IN " + in));
    assertEquals(String.valueOf(runCount), sql("SELECT count(*) FROM (SELECT run_id FROM " + EVENTS + " WHERE"
        + " run_id IN " + in + " GROUP BY run_id HAVING min(seq) = 0 AND max(seq) = " + (perRun - 1)
        + " AND count(*) = " + perRun + ") complete"));
    // created_at is the inserting transaction's start: a later seq of a run never went out in an earlier statement
    assertEquals("0", sql("SELECT count(*) FROM (SELECT created_at < lag(created_at) OVER (PARTITION BY run_id"
        + " ORDER BY seq) AS back FROM " + EVENTS + " WHERE run_id IN " + in + ") rows WHERE back"));
    long statements = Long.parseLong(sql("SELECT count(DISTINCT created_at) FROM " + EVENTS
        + " WHERE run_id IN " + in));
    // one insert for the first, then batches of 4,000 queued appends, each split into statements of 1,000 rows
    assertTrue(statements <= 20, "group-committed, not one insert each: " + statements);
    assertEquals("values", sql("SELECT name FROM " + EVENTS + " WHERE run_id = '" + ids.get(3)
        + "' AND seq = 7"));
    assertEquals("{\"n\":7}", sql("SELECT data FROM " + EVENTS + " WHERE run_id = '" + ids.get(3)
        + "' AND seq = 7"));
    assertEquals(thread, sql("SELECT DISTINCT thread_id FROM " + EVENTS + " WHERE run_id = '" + ids.get(3)
        + "'"));
    StepVerifier.create(events.after(ids.get(5), -1).map(StoredEvent::seq).collectList())
        .expectNext(LongStream.range(0, perRun).boxed().toList())
        .verifyComplete();
  }

  @Test
  void anEventAlreadyStoredIsIgnored() {
    String run = UUID.randomUUID().toString();
    String thread = UUID.randomUUID().toString();
    events.append(run, thread, new StoredEvent(0, "metadata", "{\"run_id\":1}")).block(WAIT);
    events.append(run, thread, new StoredEvent(0, "values", "{\"retry\":true}")).block(WAIT);
    // the same seq twice in one statement
    Mono.when(events.append(run, thread, new StoredEvent(1, "values", "{\"a\":1}")),
        events.append(run, thread, new StoredEvent(1, "values", "{\"a\":2}"))).block(WAIT);

    assertEquals("2", sql("SELECT count(*) FROM " + EVENTS + " WHERE run_id = '" + run + "'"));
    assertEquals("{\"run_id\":1}", sql("SELECT data FROM " + EVENTS + " WHERE run_id = '" + run
        + "' AND seq = 0"));
    assertEquals("1", sql("SELECT count(*) FROM " + EVENTS + " WHERE run_id = '" + run + "' AND seq = 1"));
    StepVerifier.create(events.lastSeq(run)).expectNext(1L).verifyComplete();
  }

  @Test
  void afterReadsInOrderAcrossPages() {
    PostgresEventStore paged = new PostgresEventStore(saver.connectionFactory(), 3);
    String run = UUID.randomUUID().toString();
    String exact = UUID.randomUUID().toString();
    insert(run, 0, 10);
    insert(exact, 0, 9); // three full pages, then an empty one
    insert(UUID.randomUUID().toString(), 0, 4); // another run's events are not read

    StepVerifier.create(paged.after(run, -1)).expectNextSequence(events(0, 10)).verifyComplete();
    StepVerifier.create(paged.after(run, 4)).expectNextSequence(events(5, 10)).verifyComplete();
    StepVerifier.create(paged.after(run, 9)).verifyComplete();
    StepVerifier.create(paged.after(exact, -1)).expectNextSequence(events(0, 9)).verifyComplete();
    StepVerifier.create(paged.after("no-such-run", -1)).verifyComplete();
    Flux<StoredEvent> cold = paged.after(exact, 2);
    StepVerifier.create(cold.count()).expectNext(6L).verifyComplete();
    StepVerifier.create(cold.count()).expectNext(6L).verifyComplete();

    String large = UUID.randomUUID().toString();
    insert(large, 0, 1234);
    StepVerifier.create(events.after(large, 99).map(StoredEvent::seq).collectList())
        .expectNext(LongStream.range(100, 1234).boxed().toList())
        .verifyComplete();
  }

  @Test
  void lastSeqIsTheHighestStoredOrMinusOne() {
    String run = UUID.randomUUID().toString();
    StepVerifier.create(events.lastSeq(run)).expectNext(-1L).verifyComplete();
    insert(run, 0, 3);
    StepVerifier.create(events.lastSeq(run)).expectNext(2L).verifyComplete();
  }

  @Test
  void aRoundIsStoredAsOneRowAndReadFromAnyOfItsEvents() {
    String run = UUID.randomUUID().toString();
    String thread = UUID.randomUUID().toString();
    events.append(run, thread, events(0, 5)).block(WAIT);
    assertEquals("0 4 5", sql("SELECT seq || ' ' || last_seq || ' ' || cardinality(names) FROM fluxgraph_run_events"
        + " WHERE run_id = '" + run + "'"), "one row");
    events.append(run, thread, events(5, 5 + 2 * PostgresEventStore.ROW_EVENTS + 10)).block(WAIT);
    assertEquals("0-4,5-260,261-516,517-526", sql("SELECT string_agg(seq || '-' || last_seq, ',' ORDER BY seq)"
        + " FROM fluxgraph_run_events WHERE run_id = '" + run + "'"), "a long round is consecutive rows");
    // seqs with a gap (a round given up on before): a row on each side of it
    events.append(run, thread, List.of(event(600), event(601), event(603))).block(WAIT);
    assertEquals("600-601,603-603", sql("SELECT string_agg(seq || '-' || last_seq, ',' ORDER BY seq)"
        + " FROM fluxgraph_run_events WHERE run_id = '" + run + "' AND seq >= 600"));

    PostgresEventStore paged = new PostgresEventStore(saver.connectionFactory(), 2);
    StepVerifier.create(paged.after(run, 2)).as("from inside a round, across pages of rounds")
        .expectNextSequence(events(3, 527)).expectNext(event(600), event(601), event(603)).verifyComplete();
    StepVerifier.create(paged.after(run, 600)).expectNext(event(601), event(603)).verifyComplete();
    StepVerifier.create(events.lastSeq(run)).expectNext(603L).verifyComplete();
    StepVerifier.create(events.follow(run, 520, Flux.never(), () -> Mono.just(true), NEVER))
        .expectNextSequence(events(521, 527)).expectNext(event(600), event(601), event(603))
        .verifyComplete();

    String other = UUID.randomUUID().toString();
    insertRound(other, 0, 4);
    insertRound(other, 6, 8); // 4 and 5 are missing
    StepVerifier.create(events.follow(other, 1, Flux.never(), () -> Mono.just(false), NEVER))
        .as("a gap between rounds is held back at")
        .expectNextSequence(events(2, 4))
        .expectNoEvent(Duration.ofMillis(300))
        .thenCancel()
        .verify(WAIT);
    assertEquals("a round's events must be in ascending seq order: 1 after 2", assertThrows(
        IllegalArgumentException.class, () -> events.append(run, thread, List.of(event(2), event(1)))).getMessage());
  }

  @Test
  void theEventsOfAnEarlierVersionAreReadAsRoundsOfOneEvent() {
    TestSql.execute(postgres, "CREATE DATABASE events_205");
    try (PostgresSaver earlier = PostgresSaver.connect("r2dbc:postgresql://postgres@localhost:" + postgres.getPort()
        + "/events_205")) {
      Schema.migrate(earlier.connectionFactory(), PostgresEventStore.MIGRATIONS.subList(0, 2)).block(WAIT);
      TestSql.first(postgres, "events_205", "INSERT INTO fluxgraph_run_events (run_id, thread_id, seq, name, data)"
          + " SELECT 'r', 't', s, 'values', '{\"n\":' || s || '}' FROM generate_series(0, 4) s RETURNING 1");
      PostgresEventStore store = new PostgresEventStore(earlier.connectionFactory());
      store.setup().block(WAIT);
      assertEquals("5", TestSql.first(postgres, "events_205", "SELECT count(*) FROM fluxgraph_run_events"
          + " WHERE last_seq = seq AND thread_id = 't'"));
      StepVerifier.create(store.after("r", 1)).expectNextSequence(events(2, 5)).verifyComplete();
      store.append("r", "t", events(5, 8)).block(WAIT);
      StepVerifier.create(store.after("r", -1)).expectNextSequence(events(0, 8)).verifyComplete();
      store.deleteThread("t").block(WAIT);
      StepVerifier.create(store.lastSeq("r")).expectNext(-1L).verifyComplete();
    }
  }

  @Test
  void followEmitsWhatIsThereThenWhatEachWakeupFindsAndEndsWithNothingLost() {
    String run = UUID.randomUUID().toString();
    String thread = UUID.randomUUID().toString();
    insert(run, 0, 3);
    Sinks.Many<Object> wakeups = Sinks.many().multicast().directBestEffort();
    AtomicBoolean ended = new AtomicBoolean();
    AtomicInteger endChecks = new AtomicInteger();

    StepVerifier.create(events.follow(run, -1, wakeups.asFlux(), () -> Mono.fromCallable(() -> {
          endChecks.incrementAndGet();
          return ended.get();
        }), NEVER))
        .expectNextSequence(events(0, 3))
        .then(() -> {
          append(run, thread, 3, 5);
          wakeups.tryEmitNext("wake");
        })
        .expectNextSequence(events(3, 5))
        .then(() -> {
          append(run, thread, 5, 6);
          wakeups.tryEmitNext("wake");
        })
        .expectNext(event(5))
        .then(() -> {
          // committed after the last wakeup, then the end: the end's read finds them
          append(run, thread, 6, 8);
          ended.set(true);
          wakeups.tryEmitNext("wake");
        })
        .expectNextSequence(events(6, 8))
        .expectComplete()
        .verify(WAIT);
    assertTrue(endChecks.get() >= 3, "checked after every read: " + endChecks.get());
    assertEquals(0, wakeups.currentSubscriberCount(), "the wakeups are released at the end");
  }

  @Test
  void eventsCommittedBetweenTheLastReadAndTheEndAreEmitted() {
    String run = UUID.randomUUID().toString();
    String thread = UUID.randomUUID().toString();
    insert(run, 0, 2);
    // the run's last events are committed just before it is reported ended, after the follower's read
    StepVerifier.create(events.follow(run, 0, Flux.never(), () -> events.append(run, thread, event(2))
            .then(events.append(run, thread, event(3))).thenReturn(true), NEVER))
        .expectNextSequence(events(1, 4))
        .expectComplete()
        .verify(WAIT);
  }

  @Test
  void followOfAnEndedRunReadsOnceAndCompletes() {
    String run = UUID.randomUUID().toString();
    insert(run, 0, 5);
    StepVerifier.create(events.follow(run, 1, Flux.never(), () -> Mono.just(true), NEVER))
        .expectNextSequence(events(2, 5))
        .expectComplete()
        .verify(WAIT);
    StepVerifier.create(events.follow(run, 4, Flux.never(), Mono::empty, NEVER))
        .expectSubscription()
        .as("an empty ended counts as not ended")
        .expectNoEvent(Duration.ofMillis(300))
        .thenCancel()
        .verify(WAIT);
  }

  @Test
  void followWithLostWakeupsPollsUntilTheEnd() {
    String run = UUID.randomUUID().toString();
    String thread = UUID.randomUUID().toString();
    AtomicBoolean ended = new AtomicBoolean();
    StepVerifier.create(events.follow(run, -1, Flux.never(), () -> Mono.fromCallable(ended::get),
            Duration.ofMillis(50)))
        .then(() -> append(run, thread, 0, 3))
        .expectNextSequence(events(0, 3))
        .then(() -> {
          append(run, thread, 3, 4);
          ended.set(true);
        })
        .expectNext(event(3))
        .expectComplete()
        .verify(WAIT);
  }

  @Test
  void wakeupsDuringAReadCoalesceAndEachEventIsEmittedOnce() {
    String run = UUID.randomUUID().toString();
    String thread = UUID.randomUUID().toString();
    Sinks.Many<Object> wakeups = Sinks.many().multicast().directBestEffort();
    AtomicBoolean ended = new AtomicBoolean();
    Flux.range(0, 300)
        .concatMap(seq -> events.append(run, thread, event(seq)).doOnSuccess(done -> {
          wakeups.tryEmitNext(seq);
          wakeups.tryEmitNext(seq);
        }))
        .then(Mono.fromRunnable(() -> {
          ended.set(true);
          wakeups.tryEmitNext("end");
        }))
        .delaySubscription(Duration.ofMillis(100))
        .subscribe();
    StepVerifier.create(events.follow(run, -1, wakeups.asFlux(), () -> Mono.fromCallable(ended::get), NEVER))
        .expectNextSequence(events(0, 300))
        .expectComplete()
        .verify(WAIT);
  }

  @Test
  void followHoldsAtAGapUntilItIsFilledOrSettled() {
    String run = UUID.randomUUID().toString();
    insert(run, 0, 2);
    insert(run, 3, 4); // 2 is missing: its insert is, say, being retried
    Sinks.Many<Object> wakeups = Sinks.many().multicast().directBestEffort();
    AtomicBoolean ended = new AtomicBoolean();
    StepVerifier.create(events.follow(run, -1, wakeups.asFlux(), () -> Mono.fromCallable(ended::get), NEVER))
        .expectNextSequence(events(0, 2))
        .then(() -> {
          insert(run, 2, 3);
          wakeups.tryEmitNext("wake");
        })
        .expectNextSequence(events(2, 4))
        .then(() -> {
          insert(run, 5, 6); // 4 is missing, and the end's read emits what is there
          ended.set(true);
          wakeups.tryEmitNext("wake");
        })
        .expectNext(event(5))
        .expectComplete()
        .verify(WAIT);

    String lost = UUID.randomUUID().toString();
    insert(lost, 0, 1);
    sql("INSERT INTO fluxgraph_run_events (run_id, thread_id, seq, last_seq, names, data, created_at) VALUES ('"
        + lost + "', 't', 2, 2, ARRAY['values'], ARRAY['{\"n\":2}'], now() - interval '1 minute') RETURNING seq");
    insert(lost, 3, 4);
    StepVerifier.create(events.follow(lost, -1, Flux.never(), () -> Mono.just(false), NEVER))
        .as("a gap older than the grace was lost: skipped")
        .expectNext(event(0), event(2), event(3))
        .thenCancel()
        .verify(WAIT);
  }

  @Test
  void cancellingReleasesTheConnectionsAndTheWakeups() {
    String run = UUID.randomUUID().toString();
    insert(run, 0, 1500);
    Sinks.Many<Object> wakeups = Sinks.many().multicast().directBestEffort();
    AtomicInteger endChecks = new AtomicInteger();
    StepVerifier.create(events.follow(run, -1, wakeups.asFlux(), () -> Mono.fromCallable(() -> {
      endChecks.incrementAndGet();
      return false;
    }), Duration.ofMillis(20)), 10)
        .expectNextCount(10)
        .thenCancel()
        .verify(WAIT);
    assertEquals(0, wakeups.currentSubscriberCount());
    awaitNoConnectionAcquired();
    int checks = endChecks.get();
    StepVerifier.create(Mono.delay(Duration.ofMillis(200))).expectNextCount(1).verifyComplete();
    assertEquals(checks, endChecks.get(), "no poll after the cancel");

    StepVerifier.create(events.after(run, -1), 5)
        .expectNextCount(5)
        .thenCancel()
        .verify(WAIT);
    awaitNoConnectionAcquired();
  }

  @Test
  void deleteExpiredKeepsLiveAndRecentlyEndedRuns() {
    Instant now = Instant.now();
    Instant old = now.minus(Duration.ofHours(2));
    String thread = UUID.randomUUID().toString();
    String live = run(thread, old, "running");
    String pending = run(thread, old, "pending");
    String recent = run(thread, now, "success");
    String expired = run(thread, old, "error");
    String orphan = UUID.randomUUID().toString(); // its row was deleted
    String unsaved = UUID.randomUUID().toString(); // its row is not saved yet
    String longUnsaved = UUID.randomUUID().toString(); // the same, its first events old already
    for (String id : new String[] {live, pending, recent, expired, orphan, unsaved, longUnsaved}) {
      insert(id, 0, 3);
    }
    sql("UPDATE fluxgraph_run_events SET created_at = now() - interval '2 hours' WHERE run_id IN ('" + expired
        + "', '" + orphan + "', '" + live + "') OR run_id = '" + longUnsaved + "' AND seq < 2 RETURNING 1");
    long before = count("1 = 1");

    long deleted = events.deleteExpired(Duration.ofHours(1)).block(WAIT);

    assertEquals(before - count("1 = 1"), deleted, "emits how many rows went");
    assertTrue(deleted >= 6, "" + deleted);
    assertEquals(0, count("run_id IN ('" + expired + "', '" + orphan + "')"));
    for (String kept : new String[] {live, pending, recent, unsaved, longUnsaved}) {
      assertEquals(3, count("run_id = '" + kept + "'"), kept);
    }
    assertEquals(0L, events.deleteExpired(Duration.ofHours(1)).block(WAIT));
    assertThrows(IllegalArgumentException.class, () -> events.deleteExpired(Duration.ofSeconds(-1)));
  }

  @Test
  void deleteThreadAndDeleteRun() {
    String thread = UUID.randomUUID().toString();
    String other = UUID.randomUUID().toString();
    String first = UUID.randomUUID().toString();
    String second = UUID.randomUUID().toString();
    String elsewhere = UUID.randomUUID().toString();
    append(first, thread, 0, 3);
    append(second, thread, 0, 3);
    append(elsewhere, other, 0, 3);

    events.deleteRun(first).block(WAIT);
    assertEquals(0, count("run_id = '" + first + "'"));
    assertEquals(3, count("run_id = '" + second + "'"));
    events.deleteThread(thread).block(WAIT);
    assertEquals(0, count("thread_id = '" + thread + "'"));
    assertEquals(3, count("thread_id = '" + other + "'"));
    events.deleteThread(thread).block(WAIT); // nothing left: no error
  }

  @Test
  void badInputIsRefusedNamingTheProblem() {
    assertEquals("seq must not be negative, was -1",
        assertThrows(IllegalArgumentException.class, () -> new StoredEvent(-1, "values", "{}")).getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new StoredEvent(0, "values", "{\"a\":\"\0\"}"))
        .getMessage().startsWith("data must not contain a NUL character"));
    assertEquals("runId must not be null",
        assertThrows(NullPointerException.class, () -> events.append(null, "t", event(0))).getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> events.after("r", -2)).getMessage()
        .startsWith("afterSeq must be -1"));
    assertEquals("poll must be positive, was PT0S", assertThrows(IllegalArgumentException.class,
        () -> events.follow("r", -1, Flux.never(), () -> Mono.just(true), Duration.ZERO)).getMessage());
  }

  private static StoredEvent event(long seq) {
    return new StoredEvent(seq, "values", "{\"n\":" + seq + "}");
  }

  /** The events [from, to). */
  private static List<StoredEvent> events(long from, long to) {
    return LongStream.range(from, to).mapToObj(PostgresEventStoreIT::event).toList();
  }

  /** Through the store, one at a time. */
  private static void append(String run, String thread, long from, long to) {
    Flux.fromIterable(events(from, to)).concatMap(event -> events.append(run, thread, event)).then().block(WAIT);
  }

  /** Through plain SQL, as another process would have written them: a round per event. */
  private static void insert(String run, long from, long to) {
    sql("INSERT INTO fluxgraph_run_events (run_id, thread_id, seq, last_seq, names, data) SELECT '" + run + "', 't',"
        + " s, s, ARRAY['values'], ARRAY['{\"n\":' || s || '}'] FROM generate_series(" + from + ", " + (to - 1)
        + ") s RETURNING 1");
  }

  /** The same, the events [from, to) as one round. */
  private static void insertRound(String run, long from, long to) {
    sql("INSERT INTO fluxgraph_run_events (run_id, thread_id, seq, last_seq, names, data) SELECT '" + run + "', 't', "
        + from + ", " + (to - 1) + ", array_agg('values'::text ORDER BY s), array_agg('{\"n\":' || s || '}' ORDER BY s)"
        + " FROM generate_series(" + from + ", " + (to - 1) + ") s RETURNING 1");
  }

  private static String run(String thread, Instant updated, String status) {
    String id = UUID.randomUUID().toString();
    runs.insert(new RunStore.RunRecord(id, thread, "graph", updated, updated, status, Map.of(), "reject", null))
        .block(WAIT);
    assertEquals(status, sql("SELECT status FROM fluxgraph_runs WHERE run_id = '" + id + "'"));
    return id;
  }

  private static long count(String where) {
    return Long.parseLong(sql("SELECT count(*) FROM " + EVENTS + " WHERE " + where));
  }

  private static void awaitNoConnectionAcquired() {
    ConnectionPool pool = (ConnectionPool) saver.connectionFactory();
    Flux.interval(Duration.ofMillis(10))
        .filter(tick -> pool.getMetrics().orElseThrow().acquiredSize() == 0)
        .next()
        .block(WAIT);
  }

  private static @Nullable String sql(String query) {
    return TestSql.first(postgres, query);
  }

}
