package dev.fluxgraph.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.CheckpointSaverContract;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.errors.SerializationException;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.Durability;
import dev.fluxgraph.types.RunConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** Setup, retention, PgBouncer mode, corrupt rows and killed connections. */
class PostgresOperationsIT {

  private static PostgresSaver saver;

  @BeforeAll
  static void connect() {
    saver = PostgresSaver.connect(EmbeddedPostgres.r2dbcUrl());
    saver.setup().block();
  }

  @AfterAll
  static void close() {
    saver.close();
  }

  private static long sql(String query, String... parameters) throws Exception {
    try (Connection connection = EmbeddedPostgres.get().getPostgresDatabase().getConnection();
         PreparedStatement statement = connection.prepareStatement(query)) {
      for (int i = 0; i < parameters.length; i++) {
        statement.setString(i + 1, parameters[i]);
      }
      if (!statement.execute()) {
        return statement.getUpdateCount();
      }
      try (ResultSet result = statement.getResultSet()) {
        result.next();
        return result.getLong(1);
      }
    }
  }

  private final Task<Integer, Integer> twice = Task.of("twice", Integer.class, n -> Mono.just(n * 2));

  private Entrypoint<Integer, Integer> counter(CheckpointSaver checkpointer) {
    return Entrypoint.named("counter").checkpointer(checkpointer)
        .define(Integer.class, Integer.class, (n, context) -> twice.call(n));
  }

  @Test
  void setupIsIdempotentAndSafeFromSeveralProcessesAtOnce() throws Exception {
    try (PostgresSaver a = PostgresSaver.connect(EmbeddedPostgres.r2dbcUrl());
         PostgresSaver b = PostgresSaver.connect(EmbeddedPostgres.r2dbcUrl());
         PostgresStore c = PostgresStore.connect(EmbeddedPostgres.r2dbcUrl())) {
      Flux.merge(a.setup().subscribeOn(Schedulers.parallel()), b.setup().subscribeOn(Schedulers.parallel()),
              c.setup().subscribeOn(Schedulers.parallel()), a.setup(), b.setup())
          .then().block(Duration.ofSeconds(30));
    }
    assertEquals(1, sql("SELECT count(*) FROM fluxgraph_migrations WHERE version = 1"));
    assertEquals(1, sql("SELECT count(*) FROM fluxgraph_migrations WHERE version = 101"));
  }

  @Test
  void pruneKeepsTheLatestCheckpointsAndShrinksTheTables() throws Exception {
    String thread = "prune-" + UUID.randomUUID();
    RunConfig config = RunConfig.thread(thread);
    Entrypoint<Integer, Integer> workflow = counter(saver);
    for (int i = 0; i < 50; i++) {
      workflow.invoke(i, config).block();
    }
    long checkpointsBefore = sql("SELECT count(*) FROM fluxgraph_checkpoints WHERE thread_id = ?", thread);
    long writesBefore = sql("SELECT count(*) FROM fluxgraph_writes WHERE thread_id = ?", thread);
    long bytesBefore = sql("SELECT coalesce(sum(pg_column_size(c.*)), 0) FROM fluxgraph_checkpoints c"
        + " WHERE thread_id = ?", thread);
    assertEquals(100, checkpointsBefore);
    assertEquals(50, writesBefore);

    assertEquals(96L, saver.pruneCounting(PostgresSaver.Retention.keepLatest(4).forThread(thread)).block());
    long checkpointsAfter = sql("SELECT count(*) FROM fluxgraph_checkpoints WHERE thread_id = ?", thread);
    long writesAfter = sql("SELECT count(*) FROM fluxgraph_writes WHERE thread_id = ?", thread);
    long bytesAfter = sql("SELECT coalesce(sum(pg_column_size(c.*)), 0) FROM fluxgraph_checkpoints c"
        + " WHERE thread_id = ?", thread);
    System.out.printf("prune keepLatest(4): checkpoints %d -> %d, writes %d -> %d, row bytes %d -> %d%n",
        checkpointsBefore, checkpointsAfter, writesBefore, writesAfter, bytesBefore, bytesAfter);
    assertEquals(4, checkpointsAfter);
    assertEquals(2, writesAfter);
    assertTrue(bytesAfter * 10 < bytesBefore);
    // the thread still works: previous state is intact
    assertEquals(Integer.valueOf(100), workflow.invoke(50, config).block());
    assertEquals(2, workflow.getStateHistory(config).take(2).count().block());
  }

  @Test
  void pruneByAgeNeverDeletesTheNewestCheckpoint() throws Exception {
    String thread = "age-" + UUID.randomUUID();
    counter(saver).invoke(1, RunConfig.thread(thread)).block();
    counter(saver).invoke(2, RunConfig.thread(thread)).block();
    sql("UPDATE fluxgraph_checkpoints SET created_at = now() - interval '2 days' WHERE thread_id = ?", thread);
    StepVerifier.create(saver.prune(PostgresSaver.Retention.olderThan(Duration.ofDays(1)).forThread(thread)))
        .verifyComplete();
    assertEquals(1, sql("SELECT count(*) FROM fluxgraph_checkpoints WHERE thread_id = ?", thread));
    assertEquals(Integer.valueOf(4), counter(saver).getState(RunConfig.thread(thread)).map(s -> (Integer) s.values())
        .block());
  }

  @Test
  void readsOfTheLatestAndOfCheckpointsByIdAnsweredTogetherEachGetTheirOwnRow() {
    String thread = "reads-" + UUID.randomUUID();
    for (int i = 0; i < 3; i++) {
      counter(saver).invoke(i, RunConfig.thread(thread)).block();
    }
    java.util.List<String> newestFirst = saver.list(thread, "", null, 100)
        .map(tuple -> tuple.checkpoint().id()).collectList().block();
    assertEquals(6, newestFirst.size());
    String oldest = newestFirst.get(5);
    String middle = newestFirst.get(2);
    // Subscribed together, so they queue up behind one another and go out in as few statements as possible.
    java.util.List<String> answered = Flux.mergeSequential(
            saver.get(thread, "", null), saver.get(thread, "", oldest), saver.get(thread, "", middle),
            saver.get(thread, "", oldest + "x"), saver.get("no-such-" + thread, "", null),
            saver.get("no-such-" + thread, "", oldest))
        .map(tuple -> tuple.checkpoint().id())
        .collectList().block();
    assertEquals(java.util.List.of(newestFirst.get(0), oldest, middle), answered,
        "the latest, then each checkpoint by id; unknown ids and threads are empty");
  }

  @Test
  void deleteThreadRemovesItsRows() throws Exception {
    String thread = "delete-" + UUID.randomUUID();
    counter(saver).invoke(1, RunConfig.thread(thread)).block();
    saver.deleteThread(thread).block();
    assertEquals(0, sql("SELECT count(*) FROM fluxgraph_checkpoints WHERE thread_id = ?", thread));
    assertEquals(0, sql("SELECT count(*) FROM fluxgraph_writes WHERE thread_id = ?", thread));
  }

  @Test
  void corruptRowsGiveASerializationExceptionNamingThreadAndCheckpoint() throws Exception {
    String thread = "corrupt-" + UUID.randomUUID();
    counter(saver).invoke(1, RunConfig.thread(thread)).block();
    sql("UPDATE fluxgraph_checkpoints SET channel_values = '\"not an object\"'::jsonb WHERE thread_id = ?", thread);
    StepVerifier.create(counter(saver).getState(RunConfig.thread(thread)))
        .expectErrorSatisfies(error -> {
          assertEquals(SerializationException.class, error.getClass());
          assertTrue(error.getMessage().contains(thread), error.getMessage());
          assertTrue(error.getMessage().contains("checkpoint "), error.getMessage());
        })
        .verify(Duration.ofSeconds(10));

    String other = "corrupt-value-" + UUID.randomUUID();
    counter(saver).invoke(1, RunConfig.thread(other)).block();
    sql("UPDATE fluxgraph_checkpoints SET channel_values = jsonb_set(channel_values, '{__end__}', '\"two\"')"
        + " WHERE thread_id = ?", other);
    StepVerifier.create(counter(saver).getState(RunConfig.thread(other)))
        .expectErrorSatisfies(error -> {
          assertEquals(SerializationException.class, error.getClass());
          assertTrue(error.getMessage().contains(other), error.getMessage());
        })
        .verify(Duration.ofSeconds(10));
  }

  @Test
  void aRunSurvivesItsConnectionsBeingTerminated() throws Exception {
    String thread = "chaos-" + UUID.randomUUID();
    RunConfig config = RunConfig.thread(thread);
    AtomicInteger firstRuns = new AtomicInteger();
    Sinks.One<Integer> gate = Sinks.one();
    Task<Integer, Integer> first = Task.of("first", Integer.class, (Integer n) -> {
      firstRuns.incrementAndGet();
      return Mono.just(n + 1);
    });
    Task<Integer, Integer> waiting = Task.of("waiting", Integer.class, (Integer n) -> gate.asMono().map(g -> n + g));
    Entrypoint<Integer, Integer> workflow = Entrypoint.named("chaos").checkpointer(saver)
        .durability(Durability.SYNC)
        .define(Integer.class, Integer.class, (n, context) -> first.call(n).flatMap(waiting::call));
    Mono<Integer> running = workflow.invoke(1, config).cache();
    running.subscribe(value -> { }, error -> { });
    // wait until the first task's result is committed, then kill every backend of the saver's pool
    Flux.interval(Duration.ofMillis(20)).filter(tick -> {
      try {
        return sql("SELECT count(*) FROM fluxgraph_writes WHERE thread_id = ?", thread) >= 1;
      } catch (Exception e) {
        return false;
      }
    }).next().block(Duration.ofSeconds(10));
    long killed = sql("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        + " WHERE pid <> pg_backend_pid() AND datname = 'postgres' AND backend_type = 'client backend') k");
    assertTrue(killed >= 1, "terminated " + killed + " backends");
    gate.tryEmitValue(10);
    Integer value = running.onErrorResume(error -> workflow.invoke(Command.proceed(), config))
        .block(Duration.ofSeconds(30));
    assertEquals(Integer.valueOf(12), value);
    assertEquals(1, firstRuns.get(), "the completed task was not lost");
  }

  /** The saver contract again, with named prepared statements disabled as behind PgBouncer (transaction mode). */
  @Nested
  class WithoutNamedPreparedStatements extends CheckpointSaverContract {
    private final PostgresSaver bouncerSafe = PostgresSaver.connect(EmbeddedPostgres.r2dbcUrl()
        + "?preparedStatementCacheQueries=0");

    @Override
    protected CheckpointSaver saver() {
      return bouncerSafe;
    }

    @org.junit.jupiter.api.AfterEach
    void closeIt() {
      bouncerSafe.close();
    }
  }

}
