package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.InvalidUpdateException;
import dev.fluxgraph.messages.AiMessage;
import dev.fluxgraph.messages.HumanMessage;
import dev.fluxgraph.messages.Message;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.StreamOptions;
import dev.fluxgraph.types.TaskState;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * updateState of a graph nested as a subgraph node while the thread's run is stopped in it (the reference's "human in
 * the loop - modification"): shown at once under its namespace, replayed when the run continues, and refused with a
 * clear error where it cannot be honoured.
 */
class NestedUpdateStateTest {

  private static final Duration VERIFY = Duration.ofSeconds(5);

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
  private final AtomicInteger modelCalls = new AtomicInteger();

  /** The reference's weather graph: a router over a subgraph that pauses before its weather node. */
  private CompiledGraph<Map<String, Object>> weather() {
    CompiledGraph<Map<String, Object>> inner = StateGraph.ofMap(List.of("messages", "city"))
        .reducer("messages", Reducers.messages(), List.of())
        .addNode("model_node", (state, context) -> {
          modelCalls.incrementAndGet();
          return Mono.just(Map.of("city", "San Francisco"));
        })
        .addNode("weather_node", (state, context) -> Mono.just(Map.of("messages",
            List.of(AiMessage.of("It's sunny in " + state.get("city") + "!")))))
        .addEdge(StateGraph.START, "model_node").addEdge("model_node", "weather_node")
        .addEdge("weather_node", StateGraph.END)
        .compile(CompileOptions.defaults().withName("weather_graph").withInterruptBefore("weather_node"));
    return StateGraph.ofMap(List.of("messages", "route"))
        .reducer("messages", Reducers.messages(), List.of())
        .addNode("router_node", (state, context) -> Mono.just(Map.of("route", "weather")))
        .addNode("weather_graph", inner)
        .addEdge(StateGraph.START, "router_node")
        .addEdge("router_node", "weather_graph")
        .addEdge("weather_graph", StateGraph.END)
        .compile(CompileOptions.defaults().withName("weather").withCheckpointer(saver));
  }

  private static Map<String, Object> input() {
    return Map.of("messages", List.of(HumanMessage.of("SF").withId("initial-message")));
  }

  /** The nested graph's config, from the paused run's only task. */
  private RunConfig pausedSubgraph(CompiledGraph<Map<String, Object>> graph) {
    StateSnapshot state = graph.getState(config).block(VERIFY);
    assertEquals(List.of("weather_graph"), state.next());
    assertEquals(1, state.tasks().size(), state.tasks().toString());
    TaskState task = state.tasks().get(0);
    assertTrue(task.checkpoint() != null && task.checkpoint().checkpointNamespace().startsWith("weather_graph:"),
        task.toString());
    return task.checkpoint();
  }

  private static Object lastContent(Object messages) {
    List<?> list = (List<?>) messages;
    Object last = list.get(list.size() - 1);
    return last instanceof Message message ? message.content() : ((Map<?, ?>) last).get("content");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object value) {
    return (Map<String, Object>) value;
  }

  @Test
  void aPauseAtANestedBreakpointEndsWithAnInterruptWithoutInterruptsInValuesWhileRunReturnsTheState() {
    CompiledGraph<Map<String, Object>> graph = weather();
    List<StreamChunk> chunks = graph.stream(input(), config, StreamMode.VALUES, StreamMode.UPDATES)
        .collectList().block(VERIFY);
    StreamChunk last = chunks.get(chunks.size() - 1);
    assertEquals(StreamMode.VALUES, last.mode(), chunks.toString());
    assertEquals(Map.of("__interrupt__", List.of()), last.data());
    assertEquals(Map.of("__interrupt__", List.of()), chunks.get(chunks.size() - 2).data());
    assertEquals(StreamMode.UPDATES, chunks.get(chunks.size() - 2).mode());
    // run() still returns the state so far, not the pause chunk
    CompiledGraph<Map<String, Object>> again = weather();
    RunConfig other = RunConfig.thread(UUID.randomUUID().toString());
    GraphOutput<Map<String, Object>> output = again.run(input(), other).block(VERIFY);
    assertEquals("weather", output.value().get("route"), output.toString());
    assertTrue(output.interrupts().isEmpty());
  }

  @Test
  void anUpdateOfThePausedSubgraphShowsAtOnceAndTheContinuationGoesOnFromIt() {
    CompiledGraph<Map<String, Object>> graph = weather();
    graph.run(input(), config).block(VERIFY);
    StateSnapshot before = graph.getState(config).block(VERIFY);
    RunConfig nested = pausedSubgraph(graph);

    RunConfig updated = graph.updateState(nested, Map.of("city", "LA")).block(VERIFY);
    assertEquals(nested.checkpointNamespace(), updated.checkpointNamespace());
    StateSnapshot inner = graph.getState(nested).block(VERIFY);
    assertEquals("LA", map(inner.values()).get("city"));
    assertEquals(List.of("weather_node"), inner.next());
    assertEquals(List.of("weather_node"), inner.tasks().stream().map(TaskState::name).toList());
    assertEquals("update", inner.metadata().get("source"));
    // the thread's own checkpoints do not change: the update is part of the pending run
    StateSnapshot root = graph.getState(config).block(VERIFY);
    assertEquals(before.config(), root.config());
    assertEquals(List.of("weather_graph"), root.next());
    assertEquals("LA", map(graph.getState(config, true).block(VERIFY).tasks().get(0).state().values()).get("city"));

    Map<String, Object> done = graph.invoke(Command.proceed(), config).block(VERIFY);
    assertEquals("It's sunny in LA!", lastContent(done.get("messages")));
    assertEquals(2, ((List<?>) done.get("messages")).size());
    assertEquals(1, modelCalls.get(), "the nested graph replays its finished node");

    List<StateSnapshot> history = graph.getStateHistory(config).collectList().block(VERIFY);
    assertEquals(4, history.size());
    assertEquals(List.of(), history.get(0).next());
    assertEquals(List.of("__start__"), history.get(3).next());
    List<StateSnapshot> innerHistory = graph.getStateHistory(nested.withCheckpointId(null)).collectList()
        .block(VERIFY);
    assertEquals(List.of(List.of(), List.of("weather_node"), List.of("weather_node"), List.of("model_node"),
        List.of("__start__")), innerHistory.stream().map(StateSnapshot::next).toList());
    assertEquals("It's sunny in LA!", lastContent(map(innerHistory.get(0).values()).get("messages")));
    assertEquals(List.of("loop", "update", "loop", "loop", "input"),
        innerHistory.stream().map(s -> s.metadata().get("source")).toList());
  }

  @Test
  void updatesStackAndAStreamedContinuationShowsTheUpdatedStateOnceThenTheRest() {
    CompiledGraph<Map<String, Object>> graph = weather();
    graph.run(input(), config).block(VERIFY);
    RunConfig nested = pausedSubgraph(graph);
    graph.updateState(nested, Map.of("city", "LA")).block(VERIFY);
    graph.updateState(nested, Map.of("city", "NY")).block(VERIFY);
    assertEquals("NY", map(graph.getState(nested).block(VERIFY).values()).get("city"));

    List<StreamChunk> chunks = graph.stream(Command.proceed(), config,
            StreamOptions.of(StreamMode.VALUES).withSubgraphs(true))
        .collectList().block(VERIFY);
    List<Object> nestedCities = chunks.stream().filter(chunk -> !chunk.namespace().isEmpty())
        .map(chunk -> map(chunk.data()).get("city")).toList();
    assertEquals(List.of("NY", "NY"), nestedCities, "the state it continues from, then the state after weather_node");
    assertEquals("It's sunny in NY!", lastContent(map(chunks.get(chunks.size() - 1).data()).get("messages")));
    assertEquals(6, graph.getStateHistory(nested.withCheckpointId(null)).count().block(VERIFY));
  }

  @Test
  void anUpdateAsTheNodeItStoppedBeforeSkipsThatNodeAndALaterBreakpointStillPauses() {
    List<String> ran = new java.util.concurrent.CopyOnWriteArrayList<>();
    StateGraph<Map<String, Object>> steps = StateGraph.ofMap(List.of("seen"))
        .reducer("seen", Reducers.append(), List.of());
    for (String node : List.of("a", "b", "c", "d")) {
      steps.addNode(node, (state, context) -> {
        ran.add(node);
        return Mono.just(Map.of("seen", List.of(node)));
      });
    }
    CompiledGraph<Map<String, Object>> inner = steps.addEdge(StateGraph.START, "a").addEdge("a", "b")
        .addEdge("b", "c").addEdge("c", "d").addEdge("d", StateGraph.END)
        .compile(CompileOptions.defaults().withName("steps").withInterruptBefore("b", "d"));
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap(List.of("seen"))
        .reducer("seen", Reducers.append(), List.of())
        .addNode("inner", inner)
        .addEdge(StateGraph.START, "inner").addEdge("inner", StateGraph.END)
        .compile(CompileOptions.defaults().withName("outer").withCheckpointer(saver));
    graph.run(Map.of(), config).block(VERIFY);
    RunConfig nested = graph.getState(config).block(VERIFY).tasks().get(0).checkpoint();
    assertEquals(List.of("b"), graph.getState(nested).block(VERIFY).next());

    graph.updateState(nested, Map.of("seen", List.of("b by hand")), "b").block(VERIFY);
    assertEquals(List.of("c"), graph.getState(nested).block(VERIFY).next());
    graph.run(Command.proceed(), config).block(VERIFY);
    assertEquals(List.of("a", "c"), ran, "b is skipped, c runs, and the run pauses again before d");
    StateSnapshot beforeD = graph.getState(nested).block(VERIFY);
    assertEquals(List.of("d"), beforeD.next());
    assertEquals(List.of("a", "b by hand", "c"), map(beforeD.values()).get("seen"));

    Map<String, Object> done = graph.invoke(Command.proceed(), config).block(VERIFY);
    assertEquals(List.of("a", "b by hand", "c", "d"), done.get("seen"));
    assertEquals(List.of("a", "c", "d"), ran);
  }

  @Test
  void whatCannotBeHonouredIsRefusedWithTheReason() {
    CompiledGraph<Map<String, Object>> graph = weather();
    refused(graph.updateState(config.withCheckpointNamespace("weather_graph:x"), Map.of("city", "LA")),
        "no checkpoint");
    graph.run(input(), config).block(VERIFY);
    RunConfig nested = pausedSubgraph(graph);
    refused(graph.updateState(config.withCheckpointNamespace("weather_graph:nope"), Map.of("city", "LA")),
        "no nested graph ran under that namespace");
    String first = graph.getStateHistory(config).collectList().block(VERIFY).get(2).config().checkpointId()
        .orElseThrow();
    refused(graph.updateState(nested.withCheckpointId(first), Map.of("city", "LA")), "not the thread's latest");
    refused(graph.updateState(nested, Map.of("city", "LA"), "nowhere"), "not a node of graph 'weather_graph'");
    refused(graph.updateState(nested, Map.of("weather", "rain")), "weather");
    assertEquals("San Francisco", map(graph.getState(nested).block(VERIFY).values()).get("city"),
        "a refused update records nothing");

    graph.invoke(Command.proceed(), config).block(VERIFY);
    refused(graph.updateState(nested, Map.of("city", "LA")), "no run is pending");
  }

  private static void refused(Mono<?> update, String reason) {
    StepVerifier.create(update)
        .expectErrorSatisfies(error -> {
          assertTrue(error instanceof InvalidUpdateException || error instanceof IllegalArgumentException,
              error.toString());
          assertTrue(error.getMessage().contains(reason), error.getMessage());
        })
        .verify(VERIFY);
  }
}
