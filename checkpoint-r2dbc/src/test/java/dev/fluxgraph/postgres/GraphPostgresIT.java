package dev.fluxgraph.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.CompiledGraph;
import dev.fluxgraph.graph.Reducers;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.Durability;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.Interrupt;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.TaskState;
import dev.fluxgraph.types.TypeRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The Graph API's core scenarios on {@link PostgresSaver} over a real (embedded) PostgreSQL. Every step that
 * pauses, fails or stops is followed by a step on a NEW saver with its own pool, as after a process restart, so
 * nothing can come from memory; row counts are checked over plain JDBC as a second channel.
 */
class GraphPostgresIT {

  private static final Duration VERIFY = Duration.ofSeconds(30);

  private final RunConfig config = RunConfig.thread("graph-it-" + UUID.randomUUID());

  @BeforeAll
  static void setup() {
    EmbeddedPostgres.setUpSaver();
  }

  private long sql(String query) throws Exception {
    try (Connection connection = EmbeddedPostgres.get().getPostgresDatabase().getConnection();
         PreparedStatement statement = connection.prepareStatement(query)) {
      statement.setString(1, config.threadId().orElseThrow());
      try (ResultSet result = statement.executeQuery()) {
        result.next();
        return result.getLong(1);
      }
    }
  }

  private long checkpointRows() throws Exception {
    return sql("SELECT count(*) FROM fluxgraph_checkpoints WHERE thread_id = ?");
  }

  @Test
  void aLinearGraphLeavesOneCheckpointPerSuperstep() throws Exception {
    Function<CheckpointSaver, CompiledGraph<Map<String, Object>>> graph = saver -> StateGraph.ofMap()
        .reducer("log", Reducers.append())
        .addNode("a", (state, context) -> Mono.just(Map.of("log", "a")))
        .addNode("b", (state, context) -> Mono.just(Map.of("log", "b")))
        .addNode("c", (state, context) -> Mono.just(Map.of("log", "c", "done", true)))
        .setEntryPoint("a")
        .addEdge("a", "b")
        .addEdge("b", "c")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    assertEquals(Map.of("log", List.of("in", "a", "b", "c"), "done", true),
        EmbeddedPostgres.withSaver(saver -> graph.apply(saver).invoke(Map.of("log", "in"), config).block(VERIFY)));
    List<StateSnapshot> history = EmbeddedPostgres.withSaver(saver -> graph.apply(saver).getStateHistory(config).collectList()
        .block(VERIFY));
    assertEquals(List.of(List.of(), List.of("c"), List.of("b"), List.of("a"), List.of("__start__")),
        history.stream().map(StateSnapshot::next).toList());
    assertEquals(List.of(3, 2, 1, 0, -1), history.stream().map(s -> s.metadata().get("step")).toList());
    assertEquals(List.of("loop", "loop", "loop", "loop", "input"),
        history.stream().map(s -> s.metadata().get("source")).toList());
    assertEquals(Map.of("log", List.of("in", "a")), history.get(2).values());
    for (int i = 0; i < history.size() - 1; i++) {
      assertEquals(history.get(i + 1).config().checkpointId(), history.get(i).parentConfig().checkpointId());
    }
    assertEquals(5, checkpointRows());
    // the latest state, read through yet another saver
    assertEquals(history.get(0).values(), EmbeddedPostgres.withSaver(saver -> graph.apply(saver).getState(config).block(VERIFY))
        .values());
    // a second run on the thread continues from the saved state
    assertEquals(Map.of("log", List.of("in", "a", "b", "c", "again", "a", "b", "c"), "done", true),
        EmbeddedPostgres.withSaver(saver -> graph.apply(saver).invoke(Map.of("log", "again"), config).block(VERIFY)));
    assertEquals(10, checkpointRows());
  }

  @ParameterizedTest
  @EnumSource(Durability.class)
  void anInterruptIsResumedByANewSaverWithoutRerunningFinishedNodes(Durability durability) throws Exception {
    AtomicInteger fetched = new AtomicInteger();
    AtomicInteger asked = new AtomicInteger();
    Function<CheckpointSaver, CompiledGraph<Map<String, Object>>> graph = saver -> StateGraph.ofMap()
        .addNode("fetch", (state, context) -> Mono.fromCallable(() -> Map.of("data", "row#" + fetched
            .incrementAndGet())))
        .addNode("approve", (state, context) -> {
          asked.incrementAndGet();
          return context.interrupt(Map.of("approve", state.get("data")), Boolean.class)
              .map(ok -> Map.of("approved", ok));
        })
        .addNode("publish", (state, context) -> Mono.just(Map.of("published", state.get("approved"))))
        .setEntryPoint("fetch")
        .addEdge("fetch", "approve")
        .addEdge("approve", "publish")
        .compile(CompileOptions.defaults().withCheckpointer(saver).withDurability(durability));
    GraphOutput<Map<String, Object>> paused = EmbeddedPostgres.withSaver(saver -> graph.apply(saver).run(Map.of(), config)
        .block(VERIFY));
    assertTrue(paused.interrupted());
    assertEquals(Map.of("approve", "row#1"), paused.interrupts().get(0).value());
    assertTrue(sql("SELECT count(*) FROM fluxgraph_writes WHERE thread_id = ?") >= 2,
        "the fetch result and the interrupt are saved before the run reports the pause");

    StateSnapshot state = EmbeddedPostgres.withSaver(saver -> graph.apply(saver).getState(config).block(VERIFY));
    assertEquals(List.of("approve"), state.next());
    assertEquals(Map.of("data", "row#1"), state.values());
    assertEquals(paused.interrupts().stream().map(Interrupt::id).toList(),
        state.interrupts().stream().map(Interrupt::id).toList());

    List<Object> resumed = EmbeddedPostgres.withSaver(saver -> graph.apply(saver).stream(Command.resume(true), config,
        StreamMode.UPDATES).map(StreamChunk::data).collectList().block(VERIFY));
    assertEquals(List.of(Map.of("approve", Map.of("approved", true)), Map.of("publish", Map.of("published", true))),
        resumed);
    assertEquals(1, fetched.get());
    assertEquals(2, asked.get());
    StateSnapshot done = EmbeddedPostgres.withSaver(saver -> graph.apply(saver).getState(config).block(VERIFY));
    assertTrue(done.next().isEmpty());
    assertTrue(done.interrupts().isEmpty());
    assertEquals(Map.of("data", "row#1", "approved", true, "published", true), done.values());
  }

  @Test
  void parallelInterruptsAreAnsweredByIdAfterARestart() {
    Function<CheckpointSaver, CompiledGraph<Map<String, Object>>> graph = saver -> StateGraph.ofMap()
        .addNode("legal", (state, context) -> context.interrupt("legal ok?", String.class)
            .map(v -> Map.of("legal", v)))
        .addNode("finance", (state, context) -> context.interrupt("finance ok?", String.class)
            .map(v -> Map.of("finance", v)))
        .addEdge(StateGraph.START, "legal")
        .addEdge(StateGraph.START, "finance")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    GraphOutput<Map<String, Object>> paused = EmbeddedPostgres.withSaver(saver -> graph.apply(saver).run(Map.of(), config)
        .block(VERIFY));
    assertEquals(2, paused.interrupts().size());
    Map<String, Object> answers = new LinkedHashMap<>();
    paused.interrupts().forEach(i -> answers.put(i.id(), "legal ok?".equals(i.value()) ? "L" : "F"));
    assertEquals(Map.of("legal", "L", "finance", "F"),
        EmbeddedPostgres.withSaver(saver -> graph.apply(saver).invoke(Command.resumeById(answers), config).block(VERIFY)));
  }

  @Test
  void breakpointUpdateStateAndProceedAcrossRestarts() throws Exception {
    AtomicInteger sent = new AtomicInteger();
    Function<CheckpointSaver, CompiledGraph<Map<String, Object>>> graph = saver -> StateGraph.ofMap()
        .addNode("draft", (state, context) -> Mono.just(Map.of("text", "draft of " + state.get("topic"))))
        .addNode("send", (state, context) -> Mono.fromCallable(() -> Map.of("sent", state.get("text") + " #"
            + sent.incrementAndGet())))
        .setEntryPoint("draft")
        .addEdge("draft", "send")
        .compile(CompileOptions.defaults().withCheckpointer(saver).withInterruptBefore("send"));
    GraphOutput<Map<String, Object>> stopped = EmbeddedPostgres.withSaver(saver -> graph.apply(saver).run(Map.of("topic", "bees"),
        config).block(VERIFY));
    assertFalse(stopped.interrupted());
    assertEquals(Map.of("topic", "bees", "text", "draft of bees"), stopped.value());
    assertEquals(List.of("send"), EmbeddedPostgres.withSaver(saver -> graph.apply(saver).getState(config).block(VERIFY)).next());
    assertEquals(0, sent.get());

    RunConfig edited = EmbeddedPostgres.withSaver(saver -> graph.apply(saver).updateState(config, Map.of("text", "better draft"),
        "draft").block(VERIFY));
    StateSnapshot afterEdit = EmbeddedPostgres.withSaver(saver -> graph.apply(saver).getState(config).block(VERIFY));
    assertEquals(edited.checkpointId(), afterEdit.config().checkpointId());
    assertEquals("update", afterEdit.metadata().get("source"));
    assertEquals(List.of("send"), afterEdit.next());
    assertEquals(1, sql("SELECT count(*) FROM fluxgraph_checkpoints WHERE thread_id = ? "
        + "AND metadata->>'source' = 'update'"));

    assertEquals(Map.of("topic", "bees", "text", "better draft", "sent", "better draft #1"),
        EmbeddedPostgres.withSaver(saver -> graph.apply(saver).invoke(Command.proceed(), config).block(VERIFY)));
    assertEquals(1, sent.get());
    assertTrue(EmbeddedPostgres.withSaver(saver -> graph.apply(saver).getState(config).block(VERIFY)).next().isEmpty());
  }

  @Test
  void timeTravelForksFromAnOlderCheckpointAndKeepsTheOldBranch() throws Exception {
    AtomicInteger rolled = new AtomicInteger();
    Function<CheckpointSaver, CompiledGraph<Map<String, Object>>> graph = saver -> StateGraph.ofMap()
        .addNode("setup", (state, context) -> Mono.just(Map.of("ready", true)))
        .addNode("roll", (state, context) -> Mono.fromCallable(() -> Map.of("roll", rolled.incrementAndGet())))
        .setEntryPoint("setup")
        .addEdge("setup", "roll")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    assertEquals(Map.of("ready", true, "roll", 1),
        EmbeddedPostgres.withSaver(saver -> graph.apply(saver).invoke(Map.of(), config).block(VERIFY)));
    StateSnapshot beforeRoll = EmbeddedPostgres.withSaver(saver -> graph.apply(saver).getStateHistory(config)
        .filter(snapshot -> snapshot.next().equals(List.of("roll"))).blockFirst(VERIFY));
    long before = checkpointRows();

    assertEquals(Map.of("ready", true, "roll", 2),
        EmbeddedPostgres.withSaver(saver -> graph.apply(saver).invoke(Command.proceed(), beforeRoll.config()).block(VERIFY)));
    assertEquals(2, rolled.get());
    List<StateSnapshot> history = EmbeddedPostgres.withSaver(saver -> graph.apply(saver).getStateHistory(config).collectList()
        .block(VERIFY));
    assertEquals("fork", history.get(1).metadata().get("source"));
    assertEquals(beforeRoll.config().checkpointId(), history.get(1).parentConfig().checkpointId());
    assertEquals(Map.of("ready", true, "roll", 2), history.get(0).values());
    assertEquals(before + 2, checkpointRows(), "a fork checkpoint and the checkpoint after roll");
    // the old branch is intact and readable by id
    assertTrue(history.stream().anyMatch(s -> Map.of("ready", true, "roll", 1).equals(s.values())));
    assertEquals(Map.of("ready", true), EmbeddedPostgres.withSaver(saver -> graph.apply(saver).getState(beforeRoll.config())
        .block(VERIFY)).values());
  }

  @Test
  void parallelNodesFanInAndAFailedBranchProceedsAfterARestart() {
    AtomicInteger left = new AtomicInteger();
    AtomicInteger right = new AtomicInteger();
    AtomicInteger joined = new AtomicInteger();
    Function<CheckpointSaver, CompiledGraph<Map<String, Object>>> graph = saver -> StateGraph.ofMap()
        .reducer("parts", Reducers.append())
        .addNode("left", (state, context) -> Mono.fromCallable(() -> Map.of("parts", "left#" + left
            .incrementAndGet())))
        .addNode("right1", (state, context) -> Mono.just(Map.of("parts", "right1")))
        .addNode("right2", (state, context) -> Mono.defer(() -> right.incrementAndGet() == 1
            ? Mono.error(new IllegalStateException("right2 crashed"))
            : Mono.just(Map.of("parts", "right2"))))
        .addNode("join", (state, context) -> Mono.fromCallable(() -> {
          joined.incrementAndGet();
          return Map.of("count", ((List<?>) state.get("parts")).size());
        }))
        .addEdge(StateGraph.START, "left")
        .addEdge(StateGraph.START, "right1")
        .addEdge("right1", "right2")
        .addEdge(List.of("left", "right2"), "join")
        .compile(CompileOptions.defaults().withCheckpointer(saver).withDurability(Durability.SYNC));
    EmbeddedPostgres.withSaver(saver -> StepVerifier.create(graph.apply(saver).invoke(Map.of(), config))
        .expectErrorMessage("right2 crashed").verify(VERIFY));
    StateSnapshot failed = EmbeddedPostgres.withSaver(saver -> graph.apply(saver).getState(config).block(VERIFY));
    assertEquals(List.of("right2"), failed.next());
    assertEquals(List.of("left#1", "right1"), ((Map<?, ?>) failed.values()).get("parts"));

    assertEquals(Map.of("parts", List.of("left#1", "right1", "right2"), "count", 3),
        EmbeddedPostgres.withSaver(saver -> graph.apply(saver).invoke(Command.proceed(), config).block(VERIFY)));
    assertEquals(1, left.get());
    assertEquals(2, right.get());
    assertEquals(1, joined.get());
  }

  @Test
  void aGraphNestedInAnEntrypointResumesAfterAnInterruptAcrossARestart() throws Exception {
    AtomicInteger researched = new AtomicInteger();
    AtomicInteger summarized = new AtomicInteger();
    CompiledGraph<Map<String, Object>> inner = StateGraph.ofMap()
        .reducer("notes", Reducers.append())
        .addNode("research", (state, context) -> Mono.fromCallable(() -> Map.of("notes", "facts about "
            + state.get("topic") + " #" + researched.incrementAndGet())))
        .addNode("outline", (state, context) -> Mono.just(Map.of("notes", "outline")))
        .addNode("review", (state, context) -> context.interrupt(Map.of("notes", state.get("notes")), String.class)
            .map(verdict -> Map.of("verdict", verdict)))
        .addEdge(StateGraph.START, "research")
        .addEdge(StateGraph.START, "outline")
        .addEdge(List.of("research", "outline"), "review")
        .compile(CompileOptions.defaults().withName("writer"));
    Task<Map<String, Object>, String> summarize = Task.of("summarize", String.class,
        (Map<String, Object> state) -> Mono.fromCallable(() -> {
          summarized.incrementAndGet();
          return state.get("verdict") + ": " + state.get("notes");
        }));
    Function<CheckpointSaver, Entrypoint<String, String>> outer = saver -> Entrypoint.named("desk")
        .checkpointer(saver)
        .define(TypeRef.of(String.class), TypeRef.of(String.class),
            (topic, context) -> inner.invoke(Map.of("topic", topic)).flatMap(summarize::call));
    GraphOutput<String> paused = EmbeddedPostgres.withSaver(saver -> outer.apply(saver).run("owls", config).block(VERIFY));
    assertTrue(paused.interrupted());
    assertEquals(Map.of("notes", List.of("facts about owls #1", "outline")), paused.interrupts().get(0).value());
    assertEquals(List.of("desk"), EmbeddedPostgres.withSaver(saver -> outer.apply(saver).getState(config).block(VERIFY)).next());
    // the paused nested graph's own state, read back by a new saver
    StateSnapshot state = EmbeddedPostgres.withSaver(saver -> outer.apply(saver).getState(config, true).block(VERIFY));
    TaskState desk = state.tasks().get(0);
    assertEquals("desk", desk.name());
    assertEquals(paused.interrupts(), desk.interrupts().stream().map(i -> new Interrupt(i.id(), i.value())).toList());
    StateSnapshot writer = desk.state();
    assertEquals(List.of("review"), writer.next());
    assertEquals(Map.of("topic", "owls", "notes", List.of("facts about owls #1", "outline")), writer.values());
    assertEquals(desk.interrupts(), writer.tasks().get(0).interrupts());
    assertTrue(writer.config().checkpointNamespace().startsWith("writer:"), writer.config().toString());
    assertEquals(writer.values(), EmbeddedPostgres.withSaver(saver -> outer.apply(saver).getState(writer.config()).block(VERIFY))
        .values());

    assertEquals("approved: [facts about owls #1, outline]",
        EmbeddedPostgres.withSaver(saver -> outer.apply(saver).invoke(Command.resume("approved"), config).block(VERIFY)));
    assertEquals(1, researched.get());
    assertEquals(1, summarized.get());
    // the finished run replays its value; nothing runs again
    assertEquals("approved: [facts about owls #1, outline]",
        EmbeddedPostgres.withSaver(saver -> outer.apply(saver).invoke(Command.proceed(), config).block(VERIFY)));
    assertEquals(1, summarized.get());
    assertTrue(EmbeddedPostgres.withSaver(saver -> outer.apply(saver).getState(config, true).block(VERIFY)).tasks().isEmpty());
    // the nested graph's state is part of the thread: deleting the thread deletes it
    EmbeddedPostgres.withSaver(saver -> saver.deleteThread(config.threadId().orElseThrow()).block(VERIFY));
    assertEquals(0, sql("SELECT count(*) FROM fluxgraph_writes WHERE thread_id = ?"));
    assertEquals(0, checkpointRows());
  }
}
