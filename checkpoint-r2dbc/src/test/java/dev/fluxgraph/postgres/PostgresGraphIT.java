package dev.fluxgraph.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.CompiledGraph;
import dev.fluxgraph.graph.Reducers;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.Durability;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.TypeRef;
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

/**
 * The Graph API on PostgreSQL: each graph is paused with one saver, which is then closed, and continued with a new
 * saver on a new pool, as after a process restart.
 */
class PostgresGraphIT {

  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());

  @BeforeAll
  static void setup() {
    try (PostgresSaver saver = PostgresSaver.connect(EmbeddedPostgres.r2dbcUrl())) {
      saver.setup().block();
    }
  }

  private static <T> T withSaver(Function<CheckpointSaver, T> action) {
    try (PostgresSaver saver = PostgresSaver.connect(EmbeddedPostgres.r2dbcUrl())) {
      return action.apply(saver);
    }
  }

  @ParameterizedTest
  @EnumSource(Durability.class)
  void fanOutInterruptAndResumeAcrossARestart(Durability durability) {
    AtomicInteger researched = new AtomicInteger();
    Function<CheckpointSaver, CompiledGraph<Map<String, Object>>> graph = saver -> StateGraph.ofMap()
        .reducer("notes", Reducers.append())
        .addNode("research", (state, context) -> {
          researched.incrementAndGet();
          return Mono.just(Map.of("notes", "facts"));
        })
        .addNode("outline", (state, context) -> Mono.just(Map.of("notes", "outline")))
        .addNode("review", (state, context) -> context.interrupt("ok?", String.class)
            .map(answer -> Map.of("verdict", answer)))
        .addEdge(StateGraph.START, "research")
        .addEdge(StateGraph.START, "outline")
        .addEdge(List.of("research", "outline"), "review")
        .compile(CompileOptions.defaults().withCheckpointer(saver).withDurability(durability));
    GraphOutput<Map<String, Object>> paused = withSaver(saver -> graph.apply(saver).run(Map.of(), config).block());
    assertTrue(paused.interrupted());
    StateSnapshot state = withSaver(saver -> graph.apply(saver).getState(config).block());
    assertEquals(List.of("review"), state.next());
    assertEquals(List.of("facts", "outline"), ((Map<?, ?>) state.values()).get("notes"));
    Map<String, Object> done = withSaver(saver -> graph.apply(saver).invoke(Command.resume("yes"), config).block());
    assertEquals(Map.of("notes", List.of("facts", "outline"), "verdict", "yes"), done);
    assertEquals(1, researched.get());
    List<StateSnapshot> history = withSaver(saver -> graph.apply(saver).getStateHistory(config).collectList().block());
    assertEquals(List.of(List.of(), List.of("review"), List.of("research", "outline"), List.of("__start__")),
        history.stream().map(StateSnapshot::next).toList());
  }

  @Test
  void breakpointUpdateStateAndTimeTravelAcrossRestarts() {
    AtomicInteger published = new AtomicInteger();
    Function<CheckpointSaver, CompiledGraph<Map<String, Object>>> graph = saver -> StateGraph.ofMap()
        .addNode("draft", (state, context) -> Mono.just(Map.of("text", "draft")))
        .addNode("publish", (state, context) -> Mono.just(Map.of("published", state.get("text") + "#"
            + published.incrementAndGet())))
        .addEdge(StateGraph.START, "draft")
        .addEdge("draft", "publish")
        .compile(CompileOptions.defaults().withCheckpointer(saver).withInterruptBefore("publish"));
    assertEquals(Map.of("text", "draft"), withSaver(saver -> graph.apply(saver).invoke(Map.of(), config).block()));
    withSaver(saver -> graph.apply(saver).updateState(config, Map.of("text", "edited"), "draft").block());
    assertEquals(Map.of("text", "edited", "published", "edited#1"),
        withSaver(saver -> graph.apply(saver).invoke(Command.proceed(), config).block()));
    StateSnapshot beforePublish = withSaver(saver -> graph.apply(saver).getStateHistory(config)
        .filter(snapshot -> "update".equals(snapshot.metadata().get("source"))).blockFirst());
    assertEquals(Map.of("text", "edited", "published", "edited#2"),
        withSaver(saver -> graph.apply(saver).invoke(Command.proceed(), beforePublish.config()).block()));
    assertEquals("fork", withSaver(saver -> graph.apply(saver).getStateHistory(config).skip(1).blockFirst())
        .metadata().get("source"));
  }

  @Test
  void aGraphNestedInAnEntrypointResumesAcrossARestart() {
    AtomicInteger prepared = new AtomicInteger();
    CompiledGraph<Map<String, Object>> inner = StateGraph.ofMap()
        .addNode("prepare", (state, context) -> {
          prepared.incrementAndGet();
          return Mono.just(Map.of("draft", "v1"));
        })
        .addNode("approve", (state, context) -> context.interrupt("approve?", Boolean.class)
            .map(ok -> Map.of("approved", ok)))
        .addEdge(StateGraph.START, "prepare")
        .addEdge("prepare", "approve")
        .compile(CompileOptions.defaults().withName("inner"));
    TypeRef<Map<String, Object>> map = new TypeRef<>() { };
    Function<CheckpointSaver, Entrypoint<String, Map<String, Object>>> outer = saver -> Entrypoint.named("outer")
        .checkpointer(saver).define(TypeRef.of(String.class), map, (topic, context) -> inner.invoke(Map.of("topic", topic)));
    assertTrue(withSaver(saver -> outer.apply(saver).run("cats", config).block()).interrupted());
    assertEquals(Map.of("topic", "cats", "draft", "v1", "approved", true),
        withSaver(saver -> outer.apply(saver).invoke(Command.resume(true), config).block()));
    assertEquals(1, prepared.get());
  }
}
