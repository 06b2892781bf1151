package dev.fluxgraph.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Final;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.Durability;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.Interrupt;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.TaskState;
import dev.fluxgraph.types.TypeRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The runtime end to end on PostgreSQL: each workflow is paused or failed with one saver, which is then closed,
 * and continued with a new saver on a new pool, as after a process restart. Data is checked over JDBC too.
 */
class PostgresRuntimeIT {

  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());

  @BeforeAll
  static void setup() {
    try (PostgresSaver saver = PostgresSaver.connect(EmbeddedPostgres.r2dbcUrl())) {
      saver.setup().block();
    }
  }

  /** Runs {@code action} with a fresh saver (its own pool), closing it afterwards. */
  private static <T> T withSaver(Function<CheckpointSaver, T> action) {
    try (PostgresSaver saver = PostgresSaver.connect(EmbeddedPostgres.r2dbcUrl())) {
      return action.apply(saver);
    }
  }

  private long sqlCount(String sql, String threadId) throws Exception {
    try (Connection connection = EmbeddedPostgres.get().getPostgresDatabase().getConnection();
         PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setString(1, threadId);
      try (ResultSet result = statement.executeQuery()) {
        result.next();
        return result.getLong(1);
      }
    }
  }

  @Test
  void humanInTheLoopAcrossARestart() throws Exception {
    AtomicInteger step1Runs = new AtomicInteger();
    Task<String, String> step1 = Task.of("step_1", String.class, (String q) -> {
      step1Runs.incrementAndGet();
      return Mono.just(q + " bar");
    });
    Task<String, String> feedback = Task.of("human_feedback", String.class,
        (String q, TaskContext context) -> context.interrupt("Please provide feedback: " + q, String.class)
            .map(answer -> q + " " + answer));
    Task<String, String> step3 = Task.of("step_3", String.class, q -> Mono.just(q + " qux"));
    Function<CheckpointSaver, Entrypoint<String, String>> graph = saver -> Entrypoint.named("graph")
        .checkpointer(saver)
        .define(String.class, String.class, (q, context) -> step1.call(q).flatMap(feedback::call).flatMap(step3::call));

    GraphOutput<String> paused = withSaver(saver -> graph.apply(saver).run("foo", config).block());
    assertEquals("Please provide feedback: foo bar", paused.interrupts().get(0).value());
    assertEquals(2, sqlCount("SELECT count(*) FROM fluxgraph_writes WHERE thread_id = ?", config.threadId().get()),
        "the step_1 result and the interrupt are saved");

    StateSnapshot state = withSaver(saver -> graph.apply(saver).getState(config).block());
    assertEquals(List.of("graph"), state.next());
    assertEquals(paused.interrupts(), state.interrupts().stream()
        .map(i -> new Interrupt(i.id(), i.value())).toList());
    // the pending work is the entrypoint, carrying the interrupt; the finished step_1 is not listed
    assertEquals(List.of("graph"), state.tasks().stream().map(TaskState::name).toList());
    assertEquals(state.interrupts(), state.tasks().get(0).interrupts());
    assertEquals(null, state.tasks().get(0).result());

    List<Object> resumed = withSaver(saver -> graph.apply(saver).stream(Command.resume("baz"), config)
        .map(StreamChunk::data).collectList().block());
    assertEquals(List.of(Map.of("human_feedback", "foo bar baz"), Map.of("step_3", "foo bar baz qux"),
        Map.of("graph", "foo bar baz qux")), resumed);
    assertEquals(1, step1Runs.get());
    assertEquals(2, sqlCount("SELECT count(*) FROM fluxgraph_checkpoints WHERE thread_id = ?",
        config.threadId().get()), "the input checkpoint and, once completed, the loop checkpoint");
  }

  @Test
  void resumeAfterAnErrorDoesNotRerunTheSlowTask() {
    AtomicInteger attempts = new AtomicInteger();
    AtomicInteger slowRuns = new AtomicInteger();
    Task<Object, String> slow = Task.of("slow_task", String.class, ignored -> {
      slowRuns.incrementAndGet();
      return Mono.just("Ran slow task.");
    });
    Task<Object, String> getInfo = Task.of("get_info", String.class, ignored -> attempts.incrementAndGet() < 2
        ? Mono.error(new IllegalArgumentException("Failure")) : Mono.just("OK"));
    Function<CheckpointSaver, Entrypoint<String, String>> main = saver -> Entrypoint.named("main")
        .checkpointer(saver).durability(Durability.SYNC)
        .define(String.class, String.class, (s, context) -> slow.call().flatMap(r -> getInfo.call().thenReturn(r)));
    withSaver(saver -> StepVerifier.create(main.apply(saver).invoke("x", config)).expectErrorMessage("Failure")
        .verify(Duration.ofSeconds(10)));
    StateSnapshot failed = withSaver(saver -> main.apply(saver).getState(config).block());
    assertEquals(List.of("main"), failed.tasks().stream().map(TaskState::name).toList());
    assertEquals("Failure", failed.tasks().get(0).error());
    assertTrue(failed.tasks().get(0).interrupts().isEmpty());
    withSaver(saver -> StepVerifier.create(main.apply(saver).invoke(Command.proceed(), config))
        .expectNext("Ran slow task.").expectComplete().verify(Duration.ofSeconds(10)));
    assertEquals(1, slowRuns.get());
  }

  @Test
  void finalAndPreviousAndHistoryAndTimeTravel() {
    Function<CheckpointSaver, Entrypoint<Integer, Integer>> accumulate = saver -> Entrypoint.named("accumulate")
        .checkpointer(saver)
        .defineFinal(Integer.class, Integer.class, Integer.class, (n, context) -> {
          int previous = context.previous().orElse(0);
          return Mono.just(Final.of(previous, previous + n));
        });
    assertEquals(Integer.valueOf(0), PostgresRuntimeIT.<Integer>withSaver(saver -> accumulate.apply(saver).invoke(1, config).block()));
    assertEquals(Integer.valueOf(1), PostgresRuntimeIT.<Integer>withSaver(saver -> accumulate.apply(saver).invoke(2, config).block()));
    assertEquals(Integer.valueOf(3), PostgresRuntimeIT.<Integer>withSaver(saver -> accumulate.apply(saver).invoke(3, config).block()));
    List<StateSnapshot> history = withSaver(saver -> accumulate.apply(saver).getStateHistory(config)
        .collectList().block());
    assertEquals(List.of("loop", "input", "loop", "input", "loop", "input"),
        history.stream().map(s -> s.metadata().get("source")).toList());
    assertEquals(List.of(4, 3, 2, 1, 0, -1), history.stream().map(s -> s.metadata().get("step")).toList());
    RunConfig afterFirst = history.get(4).config();
    assertEquals(Integer.valueOf(1), PostgresRuntimeIT.<Integer>withSaver(saver -> accumulate.apply(saver).invoke(10, afterFirst).block()));
    assertEquals(Integer.valueOf(11), PostgresRuntimeIT.<Integer>withSaver(saver -> accumulate.apply(saver).invoke(0, config).block()));
  }

  @Test
  void parallelTasksAndNestedEntrypoints() {
    AtomicInteger childRuns = new AtomicInteger();
    Task<Integer, Integer> addOne = Task.of("add_one", Integer.class, n -> Mono.just(n + 1));
    Entrypoint<Map<String, Integer>, Integer> multiply = Entrypoint.named("multiply")
        .define(new TypeRef<Map<String, Integer>>() { }, TypeRef.of(Integer.class), (in, context) -> {
          childRuns.incrementAndGet();
          return Mono.just(in.get("a") * in.get("b"));
        });
    Function<CheckpointSaver, Entrypoint<List<Integer>, Integer>> main = saver -> Entrypoint.named("main")
        .checkpointer(saver)
        .define(new TypeRef<List<Integer>>() { }, TypeRef.of(Integer.class), (numbers, context) ->
            Flux.fromIterable(numbers).flatMapSequential(addOne::call).collectList()
                .flatMap(plus -> multiply.invoke(Map.of("a", plus.get(0), "b", plus.get(1))))
                .flatMap(product -> context.interrupt("ok?", Boolean.class).map(ok -> ok ? product : -1)));
    GraphOutput<Integer> paused = withSaver(saver -> main.apply(saver).run(List.of(5, 6), config).block());
    assertTrue(paused.interrupted());
    StateSnapshot state = withSaver(saver -> main.apply(saver).getState(config, true).block());
    assertEquals(List.of("main"), state.tasks().stream().map(TaskState::name).toList());
    assertEquals(paused.interrupts().get(0).id(), state.tasks().get(0).interrupts().get(0).id());
    assertEquals(null, state.tasks().get(0).state(), "the nested entrypoint finished: it is not pending");
    assertEquals(Integer.valueOf(42), PostgresRuntimeIT.<Integer>withSaver(saver -> main.apply(saver).invoke(Command.resume(true), config).block()));
    assertEquals(1, childRuns.get());
  }

  @Test
  void manyConcurrentRunsAllLand() throws Exception {
    Task<Integer, Integer> twice = Task.of("twice", Integer.class, n -> Mono.just(n * 2));
    String prefix = UUID.randomUUID().toString();
    List<Integer> results = withSaver(saver -> {
      Entrypoint<Integer, Integer> workflow = Entrypoint.named("w").checkpointer(saver)
          .define(Integer.class, Integer.class, (n, context) -> twice.call(n).flatMap(twice::call));
      return Flux.range(0, 200)
          .flatMap(i -> workflow.invoke(i, RunConfig.thread(prefix + "-" + i)), 64)
          .collectList().block(Duration.ofSeconds(60));
    });
    assertEquals(200, results.size());
    try (Connection connection = EmbeddedPostgres.get().getPostgresDatabase().getConnection();
         PreparedStatement statement = connection.prepareStatement(
             "SELECT count(*) FROM fluxgraph_writes WHERE thread_id LIKE ?")) {
      statement.setString(1, prefix + "-%");
      try (ResultSet result = statement.executeQuery()) {
        result.next();
        assertEquals(400, result.getLong(1));
      }
    }
  }
}
