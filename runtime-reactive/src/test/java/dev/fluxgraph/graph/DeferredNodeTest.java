package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** {@link NodeOptions#deferred()}: a node that waits until the run has nothing else to do. */
class DeferredNodeTest {

  private static final Duration VERIFY = Duration.ofSeconds(10);

  private final AtomicInteger qaRuns = new AtomicInteger();

  /** The reference's fan-out with branches of different lengths: qa collects both. */
  private StateGraph<Map<String, Object>> retrieval(boolean deferred, boolean waitingEdge) {
    StateGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("docs", Reducers.append())
        .addNode("rewrite_query", (state, context) -> Mono.just(Map.of("query", "query: " + state.get("query"))))
        .addNode("analyzer_one", (state, context) -> Mono.just(Map.of("query", "analyzed: " + state.get("query"))))
        .addNode("retriever_one", (state, context) -> Mono.just(Map.of("docs", List.of("doc1", "doc2"))))
        .addNode("retriever_two", (state, context) -> Mono.just(Map.of("docs", List.of("doc3", "doc4"))))
        .addNode("qa", (state, context) -> {
          qaRuns.incrementAndGet();
          return Mono.just(Map.of("answer", String.join(",", docs(state)) + " for " + state.get("query")));
        }, deferred ? NodeOptions.deferred() : NodeOptions.defaults())
        .addEdge(StateGraph.START, "rewrite_query")
        .addEdge("rewrite_query", "retriever_one")
        .addEdge("retriever_one", "analyzer_one")
        .addEdge("rewrite_query", "retriever_two")
        .addEdge("qa", StateGraph.END);
    if (waitingEdge) {
      graph.addEdge(List.of("retriever_one", "retriever_two"), "qa");
    } else {
      graph.addEdge("retriever_one", "qa").addEdge("retriever_two", "qa");
    }
    return graph;
  }

  @SuppressWarnings("unchecked")
  private static List<String> docs(Map<String, Object> state) {
    return (List<String>) state.get("docs");
  }

  @Test
  void aDeferredNodeRunsOnceAfterTheLongerBranchHasFinished() {
    for (boolean waitingEdge : List.of(true, false)) {
      qaRuns.set(0);
      List<StreamChunk> updates = retrieval(true, waitingEdge).compile()
          .stream(Map.of("query", "what is weather in sf"), RunConfig.none()).collectList().block(VERIFY);
      List<String> order = updates.stream().flatMap(chunk -> ((Map<?, ?>) chunk.data()).keySet().stream())
          .map(String::valueOf).toList();
      assertEquals("rewrite_query", order.get(0));
      assertEquals(Set.of("retriever_one", "retriever_two"), Set.copyOf(order.subList(1, 3)));
      assertEquals(List.of("analyzer_one", "qa"), order.subList(3, order.size()), "qa comes after analyzer_one");
      assertEquals(1, qaRuns.get());
      Map<String, Object> result = retrieval(true, waitingEdge).compile()
          .invoke(Map.of("query", "what is weather in sf"), RunConfig.none()).block(VERIFY);
      assertEquals("doc1,doc2,doc3,doc4 for analyzed: query: what is weather in sf", result.get("answer"));
    }
  }

  @Test
  void withoutDeferQaRunsBeforeTheLongerBranchHasFinished() {
    Map<String, Object> result = retrieval(false, false).compile()
        .invoke(Map.of("query", "q"), RunConfig.none()).block(VERIFY);
    assertEquals("doc1,doc2,doc3,doc4 for query: q", result.get("answer"), "qa ran in the same step as analyzer_one");
    assertEquals(1, qaRuns.get());
  }

  @Test
  void aDeferredNodeWaitsForPendingSendsAndForNodesScheduledMeanwhile() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("log", Reducers.append())
        .addNode("fan", (state, context) -> Mono.just(Map.of("log", "fan")))
        .addNode("work", (state, context) -> Mono.just(Map.of("log", "work " + state.get("n"))))
        .addNode("more", (state, context) -> Mono.just(Command.goTo(new Send("work", Map.of("n", 9)))
            .withUpdate(Map.of("log", "more"))), NodeOptions.defaults().withDestinations("work"))
        .addNode("collect", (state, context) -> {
          qaRuns.incrementAndGet();
          return Mono.just(Map.of("log", "collect"));
        }, NodeOptions.deferred())
        .addEdge(StateGraph.START, "fan")
        .addConditionalEdges("fan", state -> Flux.just(new Send("work", Map.of("n", 1)), "more", "collect"))
        .addEdge("work", "collect")
        .compile();
    // step 1: work 1 and more (collect waits); step 2: work 9 (a Send, collect still waits); step 3: collect
    assertEquals(List.of("fan", "more", "work 1", "work 9", "collect"),
        graph.invoke(Map.of(), RunConfig.none()).block(VERIFY).get("log"));
    assertEquals(1, qaRuns.get());
  }

  @Test
  void aSendToADeferredNodeRunsInTheNextSuperstepLikeAnySend() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("log", Reducers.append())
        .addNode("a", (state, context) -> Mono.just(Map.of("log", "a")))
        .addNode("b", (state, context) -> Mono.just(Map.of("log", "b")))
        .addNode("c", (state, context) -> Mono.just(Map.of("log", "c")))
        .addNode("late", (state, context) -> Mono.just(Map.of("log", "late " + state.getOrDefault("via", "edge"))),
            NodeOptions.deferred())
        .addEdge(StateGraph.START, "a")
        .addConditionalEdges("a", state -> Flux.just("b", new Send("late", Map.of("via", "send"))))
        .addEdge("b", "c")
        .addEdge("b", "late")
        .compile();
    assertEquals(List.of("a", "b", "late send", "c", "late edge"),
        graph.invoke(Map.of(), RunConfig.none()).block(VERIFY).get("log"));
  }

  @Test
  void aWaitingDeferredNodeIsCheckpointedAndRunsAfterAResume() {
    InMemorySaver saver = new InMemorySaver();
    RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("log", Reducers.append())
        .addNode("short", (state, context) -> Mono.just(Map.of("log", "short")))
        .addNode("long", (state, context) -> Mono.just(Map.of("log", "long")))
        .addNode("ask", (state, context) -> context.interrupt("go on?", String.class)
            .map(answer -> Map.of("log", "ask " + answer)))
        .addNode("end", (state, context) -> {
          qaRuns.incrementAndGet();
          return Mono.just(Map.of("log", "end"));
        }, NodeOptions.deferred())
        .addEdge(StateGraph.START, "short")
        .addEdge(StateGraph.START, "long")
        .addEdge("short", "end")
        .addEdge("long", "ask")
        .addEdge("ask", "end")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    StepVerifier.create(graph.run(Map.of(), config))
        .assertNext(output -> assertTrue(output.interrupted()))
        .verifyComplete();
    StateSnapshot paused = graph.getState(config).block(VERIFY);
    assertEquals(List.of("ask"), paused.next(), "end waits and is not listed as next");
    assertEquals(0, qaRuns.get());
    assertEquals(List.of("short", "long", "ask yes", "end"),
        graph.invoke(Command.resume("yes"), config).block(VERIFY).get("log"));
    assertEquals(1, qaRuns.get());
  }
}
