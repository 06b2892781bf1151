package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.StreamOptions;
import dev.fluxgraph.types.TypeRef;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** Graphs inside entrypoints and tasks, entrypoints and graphs as nodes, tasks inside nodes. */
class GraphCompositionTest {

  private static final TypeRef<Map<String, Object>> MAP = new TypeRef<>() { };

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());

  record Foo(int foo) {
  }

  @Test
  void anEntrypointCallsACompiledGraph() {
    // the reference's "calling a StateGraph" example: workflow.invoke(5) -> {bar: 10}
    CompiledGraph<Foo> graph = StateGraph.of(Foo.class)
        .addNode("double", (state, context) -> Mono.just(Map.of("foo", state.foo() * 2)))
        .setEntryPoint("double")
        .compile();
    Entrypoint<Integer, Map<String, Object>> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .define(TypeRef.of(Integer.class), MAP, (x, context) -> graph.invoke(new Foo(x))
            .map(result -> Map.of("bar", result.foo())));
    assertEquals(Map.of("bar", 10), workflow.invoke(5, config).block());
  }

  @Test
  void aGraphNestedInAnEntrypointPausesItAndResumesIntoTheGraph() {
    AtomicInteger prepared = new AtomicInteger();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("prepare", (state, context) -> {
          prepared.incrementAndGet();
          return Mono.just(Map.of("draft", "v1"));
        })
        .addNode("review", (state, context) -> context.interrupt("approve " + state.get("draft") + "?", Boolean.class)
            .map(ok -> Map.of("approved", ok)))
        .addEdge(StateGraph.START, "prepare")
        .addEdge("prepare", "review")
        .compile(CompileOptions.defaults().withName("inner"));
    Entrypoint<String, Map<String, Object>> outer = Entrypoint.named("outer").checkpointer(saver)
        .define(TypeRef.of(String.class), MAP, (topic, context) -> graph.invoke(Map.of("topic", topic)));
    GraphOutput<Map<String, Object>> paused = outer.run("cats", config).block();
    assertEquals("approve v1?", paused.interrupts().get(0).value());
    assertEquals(Map.of("topic", "cats", "draft", "v1", "approved", true),
        outer.invoke(Command.resume(true), config).block());
    assertEquals(1, prepared.get());
  }

  @Test
  void aTaskCalledFromANodeIsCheckpointedInsideTheNode() {
    AtomicInteger calls = new AtomicInteger();
    Task<Integer, Integer> square = Task.of("square", Integer.class, (Integer n) -> {
      calls.incrementAndGet();
      return Mono.just(n * n);
    });
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("compute", (state, context) -> square.call((Integer) state.get("n"))
            .flatMap(squared -> context.interrupt("keep " + squared + "?", Boolean.class)
                .map(keep -> Map.of("result", keep ? squared : 0))))
        .setEntryPoint("compute")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    List<StreamChunk> chunks = graph.stream(Map.of("n", 7), config, StreamMode.UPDATES).collectList().block();
    assertEquals(List.of(Map.of("square", 49), Map.of("__interrupt__", chunks.get(1).data() instanceof Map<?, ?> m
        ? m.get("__interrupt__") : null)), chunks.stream().map(StreamChunk::data).toList());
    assertEquals(Map.of("n", 7, "result", 49), graph.invoke(Command.resume(true), config).block());
    assertEquals(1, calls.get());
  }

  @Test
  void anEntrypointAsANodeGetsTheStateAndItsResultIsTheUpdate() {
    Entrypoint<Map<String, Object>, Map<String, Object>> summarize = Entrypoint.named("summarize")
        .define(MAP, MAP, (state, context) -> Mono.just(Map.of("summary", "about " + state.get("topic"))));
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("summarize", summarize)
        .setEntryPoint("summarize")
        .compile();
    assertEquals(Map.of("topic", "bees", "summary", "about bees"),
        graph.invoke(Map.of("topic", "bees"), RunConfig.none()).block());
  }

  @Test
  void aSubgraphAsANodeSharesKeysStreamsUnderItsNamespaceAndResumesIntoIt() {
    AtomicInteger stepOne = new AtomicInteger();
    CompiledGraph<Map<String, Object>> child = StateGraph.ofMap()
        .addNode("one", (state, context) -> {
          stepOne.incrementAndGet();
          return Mono.just(Map.of("trace", state.get("trace") + ">one"));
        })
        .addNode("ask", (state, context) -> context.interrupt("go on?", String.class)
            .map(answer -> Map.of("trace", state.get("trace") + ">" + answer)))
        .addEdge(StateGraph.START, "one")
        .addEdge("one", "ask")
        .compile(CompileOptions.defaults().withName("child"));
    CompiledGraph<Map<String, Object>> parent = StateGraph.ofMap()
        .addNode("before", (state, context) -> Mono.just(Map.of("trace", "before")))
        .addNode("sub", child)
        .addNode("after", (state, context) -> Mono.just(Map.of("trace", state.get("trace") + ">after")))
        .addEdge(StateGraph.START, "before")
        .addEdge("before", "sub")
        .addEdge("sub", "after")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    List<StreamChunk> first = parent.stream(Map.of(), config,
        StreamOptions.of(StreamMode.UPDATES).withSubgraphs(true)).collectList().block();
    StreamChunk nested = first.stream().filter(chunk -> !chunk.namespace().isEmpty()).findFirst().orElseThrow();
    assertEquals(Map.of("one", Map.of("trace", "before>one")), nested.data());
    assertTrue(nested.namespace().get(0).startsWith("sub:"), nested.namespace().toString());
    assertEquals(List.of("sub"), parent.getState(config).block().next());
    List<StreamChunk> resumed = parent.stream(Command.resume("yes"), config, StreamMode.UPDATES).collectList().block();
    assertEquals(List.of(Map.of("sub", Map.of("trace", "before>one>yes")), Map.of("after", Map.of("trace",
        "before>one>yes>after"))), resumed.stream().map(StreamChunk::data).toList());
    assertEquals(1, stepOne.get());
  }

  @Test
  void aCompiledGraphServesAsAnEntrypoint() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Map.of("x", 1)))
        .setEntryPoint("a")
        .compile(CompileOptions.defaults().withCheckpointer(saver).withName("served"));
    Entrypoint<Map<String, Object>, Map<String, Object>> entrypoint = graph.asEntrypoint();
    assertEquals("served", entrypoint.name());
    assertEquals(Map.of("x", 1), entrypoint.invoke(Map.of(), config).block());
    entrypoint.updateState(config, Map.of("x", 5), "a").block();
    assertEquals(Map.of("x", 5), entrypoint.getState(config).block().values());
  }
}
