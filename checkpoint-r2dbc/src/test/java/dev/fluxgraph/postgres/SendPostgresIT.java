package dev.fluxgraph.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.CompiledGraph;
import dev.fluxgraph.graph.NodeOptions;
import dev.fluxgraph.graph.Reducers;
import dev.fluxgraph.graph.Send;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.TaskState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Sends and deferred nodes on {@link PostgresSaver}: every step after a pause runs on a NEW saver with its own pool
 * (as after a restart), and what is saved is read back over plain JDBC.
 */
class SendPostgresIT {

  private static final Duration VERIFY = Duration.ofSeconds(30);

  private final RunConfig config = RunConfig.thread("send-it-" + UUID.randomUUID());
  private final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();

  @BeforeAll
  static void setup() {
    EmbeddedPostgres.setUpSaver();
  }

  /** A text value of the thread's latest checkpoint, read with plain SQL. */
  private String latest(String expression) throws Exception {
    try (Connection connection = EmbeddedPostgres.get().getPostgresDatabase().getConnection();
         PreparedStatement statement = connection.prepareStatement("SELECT " + expression
             + " FROM fluxgraph_checkpoints WHERE thread_id = ? ORDER BY checkpoint_id DESC LIMIT 1")) {
      statement.setString(1, config.threadId().orElseThrow());
      try (ResultSet result = statement.executeQuery()) {
        assertTrue(result.next(), "the thread has a checkpoint");
        return result.getString(1);
      }
    }
  }

  private int ran(String item) {
    return runs.getOrDefault(item, new AtomicInteger()).get();
  }

  private CompiledGraph<Map<String, Object>> mapReduce(CheckpointSaver saver) {
    return StateGraph.ofMap()
        .reducer("results", Reducers.append())
        .addNode("split", (state, context) -> Mono.just(Map.of("items", List.of("a", "b", "c"))))
        .addNode("work", (state, context) -> {
          String item = (String) state.get("item");
          runs.computeIfAbsent(item, key -> new AtomicInteger()).incrementAndGet();
          Mono<String> done = item.equals("b") ? context.interrupt("approve " + item + "?", String.class)
              : Mono.just(item.toUpperCase());
          return done.map(result -> Map.of("results", List.of(result)));
        })
        .addEdge(StateGraph.START, "split")
        .addConditionalEdges("split", state -> Flux.fromIterable((List<?>) state.get("items"))
            .map(item -> new Send("work", Map.of("item", item))))
        .compile(CompileOptions.defaults().withCheckpointer(saver));
  }

  @Test
  void aResumeAfterAnInterruptInOneSendBranchRunsOnlyThatBranchOnANewSaver() throws Exception {
    GraphOutput<Map<String, Object>> paused = EmbeddedPostgres.withSaver(saver -> mapReduce(saver).run(Map.of(), config)
        .block(VERIFY));
    assertTrue(paused.interrupted());
    assertEquals("3", latest("jsonb_array_length(channel_values -> '__sends__')"));
    assertEquals("{\"item\": \"b\"}", latest("channel_values -> '__sends__' -> 1 ->> 'arg'"));

    StateSnapshot state = EmbeddedPostgres.withSaver(saver -> mapReduce(saver).getState(config).block(VERIFY));
    assertEquals(List.of("work", "work", "work"), state.next());
    assertEquals(List.of(List.of(TaskState.PUSH, 0), List.of(TaskState.PUSH, 1), List.of(TaskState.PUSH, 2)),
        state.tasks().stream().map(TaskState::path).toList());
    assertEquals(Map.of("results", List.of("A")), state.tasks().get(0).result());
    assertNull(state.tasks().get(1).result());
    assertEquals("approve b?", state.tasks().get(1).interrupts().get(0).value());

    Map<String, Object> done = EmbeddedPostgres.withSaver(saver -> mapReduce(saver).invoke(Command.resume("B!"), config)
        .block(VERIFY));
    assertEquals(List.of("A", "B!", "C"), done.get("results"));
    assertEquals(1, ran("a"));
    assertEquals(2, ran("b"));
    assertEquals(1, ran("c"));
    assertNull(latest("channel_values -> '__sends__'"), "the last checkpoint has no pending Sends");
  }

  @Test
  void aWaitingDeferredNodeSurvivesARestart() throws Exception {
    AtomicInteger ended = new AtomicInteger();
    Function<CheckpointSaver, CompiledGraph<Map<String, Object>>> graph = saver -> StateGraph.ofMap()
        .reducer("log", Reducers.append())
        .addNode("short", (state, context) -> Mono.just(Map.of("log", "short")))
        .addNode("long", (state, context) -> Mono.just(Map.of("log", "long")))
        .addNode("ask", (state, context) -> context.interrupt("go on?", String.class)
            .map(answer -> Map.of("log", "ask " + answer)))
        .addNode("end", (state, context) -> {
          ended.incrementAndGet();
          return Mono.just(Map.of("log", "end"));
        }, NodeOptions.deferred())
        .addEdge(StateGraph.START, "short")
        .addEdge(StateGraph.START, "long")
        .addEdge("short", "end")
        .addEdge("long", "ask")
        .addEdge("ask", "end")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    assertTrue(EmbeddedPostgres.withSaver(saver -> graph.apply(saver).run(Map.of(), config).block(VERIFY)).interrupted());
    assertEquals("[\"end\"]", latest("channel_values ->> '__deferred__'"));
    assertEquals(List.of("ask"), EmbeddedPostgres.withSaver(saver -> graph.apply(saver).getState(config).block(VERIFY)).next());
    assertEquals(List.of("short", "long", "ask yes", "end"),
        EmbeddedPostgres.withSaver(saver -> graph.apply(saver).invoke(Command.resume("yes"), config).block(VERIFY)).get("log"));
    assertEquals(1, ended.get());
  }
}
