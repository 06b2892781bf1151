package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.GraphRecursionException;
import dev.fluxgraph.errors.InvalidUpdateException;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The superstep loop: edges, fan-out/fan-in, reducers, routing, checkpoints per step, streaming. */
class StateGraphTest {

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());

  record Counter(Integer value, List<String> log) {
  }

  @Test
  void aLinearGraphRunsItsNodesInOrderAndReturnsTheState() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Map.of("x", (Integer) state.get("x") + 1)))
        .addNode("b", (state, context) -> Mono.just(Map.of("x", (Integer) state.get("x") * 10)))
        .addEdge(StateGraph.START, "a")
        .addEdge("a", "b")
        .addEdge("b", StateGraph.END)
        .compile();
    assertEquals(Map.of("x", 20), graph.invoke(Map.of("x", 1), RunConfig.none()).block());
  }

  @Test
  void recordStateWithAnAppendReducer() {
    CompiledGraph<Counter> graph = StateGraph.of(Counter.class)
        .reducer("log", Reducers.append())
        .addNode("inc", (state, context) -> Mono.just(Map.of("value", state.value() + 1, "log", "inc")))
        .addNode("dbl", (state, context) -> Mono.just(new Counter(state.value() * 2, List.of("dbl"))))
        .addEdge(StateGraph.START, "inc")
        .addEdge("inc", "dbl")
        .compile();
    assertEquals(new Counter(8, List.of("start", "inc", "dbl")),
        graph.invoke(new Counter(3, List.of("start")), RunConfig.none()).block());
  }

  @Test
  void fanOutRunsNodesConcurrentlyAndFanInWaitsForAll() {
    AtomicInteger running = new AtomicInteger();
    AtomicInteger maxRunning = new AtomicInteger();
    NodeFunction<Map<String, Object>> slow = (state, context) -> Mono.defer(() -> {
      maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
      return Mono.delay(Duration.ofMillis(50)).then(Mono.fromCallable(() -> {
        running.decrementAndGet();
        return Map.<String, Object>of("items", List.of("x"));
      }));
    });
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("items", Reducers.append())
        .addNode("split", (state, context) -> Mono.just(Map.of("items", "split")))
        .addNode("left", slow)
        .addNode("right", slow)
        .addNode("join", (state, context) -> Mono.just(Map.of("count", ((List<?>) state.get("items")).size())))
        .addEdge(StateGraph.START, "split")
        .addEdge("split", "left")
        .addEdge("split", "right")
        .addEdge(List.of("left", "right"), "join")
        .compile();
    Map<String, Object> result = graph.invoke(Map.of(), RunConfig.none()).block();
    assertEquals(3, result.get("count"));
    assertEquals(2, maxRunning.get());
  }

  @Test
  void fanInWaitsForSourcesFinishingInDifferentSupersteps() {
    AtomicInteger joined = new AtomicInteger();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("path", Reducers.append())
        .addNode("a", (state, context) -> Mono.just(Map.of("path", "a")))
        .addNode("b1", (state, context) -> Mono.just(Map.of("path", "b1")))
        .addNode("b2", (state, context) -> Mono.just(Map.of("path", "b2")))
        .addNode("join", (state, context) -> {
          joined.incrementAndGet();
          return Mono.just(Map.of("path", "join"));
        })
        .addEdge(StateGraph.START, "a")
        .addEdge(StateGraph.START, "b1")
        .addEdge("b1", "b2")
        .addEdge(List.of("a", "b2"), "join")
        .compile();
    assertEquals(List.of("a", "b1", "b2", "join"), graph.invoke(Map.of(), RunConfig.none()).block().get("path"));
    assertEquals(1, joined.get());
  }

  @Test
  void conditionalEdgesAndCommandGoToRoute() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("check", (state, context) -> Mono.just(Map.of("checked", true)))
        .addNode("even", (state, context) -> Mono.just(Command.goTo("done").withUpdate(Map.of("kind", "even"))))
        .addNode("odd", (state, context) -> Mono.just(Map.of("kind", "odd")))
        .addNode("done", (state, context) -> Mono.just(Map.of("finished", true)))
        .addEdge(StateGraph.START, "check")
        .addConditionalEdges("check", state -> Mono.just((Integer) state.get("n") % 2 == 0 ? "even" : "odd"))
        .addEdge("odd", StateGraph.END)
        .compile();
    assertEquals(Map.of("n", 4, "checked", true, "kind", "even", "finished", true),
        graph.invoke(Map.of("n", 4), RunConfig.none()).block());
    assertEquals(Map.of("n", 3, "checked", true, "kind", "odd"), graph.invoke(Map.of("n", 3), RunConfig.none()).block());
  }

  @Test
  void twoNodesWritingAKeyWithoutAReducerInOneStepIsAnError() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Map.of("x", 1)))
        .addNode("b", (state, context) -> Mono.just(Map.of("x", 2)))
        .addEdge(StateGraph.START, "a")
        .addEdge(StateGraph.START, "b")
        .compile();
    InvalidUpdateException error = assertThrows(InvalidUpdateException.class,
        () -> graph.invoke(Map.of(), RunConfig.none()).block());
    assertTrue(error.getMessage().contains("'a' and 'b' both wrote 'x'"), error.getMessage());
  }

  @Test
  void aLoopStopsAtTheRecursionLimit() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("spin", (state, context) -> Mono.just(Map.of("n", (Integer) state.get("n") + 1)))
        .addEdge(StateGraph.START, "spin")
        .addEdge("spin", "spin")
        .compile(CompileOptions.defaults().withRecursionLimit(5));
    GraphRecursionException error = assertThrows(GraphRecursionException.class,
        () -> graph.invoke(Map.of("n", 0), RunConfig.none()).block());
    assertTrue(error.getMessage().contains("withRecursionLimit"), error.getMessage());
    assertEquals(5, error.limit());
  }

  @Test
  void everySuperstepEndsInACheckpointWithItsNextNodes() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Map.of("x", 1)))
        .addNode("b", (state, context) -> Mono.just(Map.of("y", 2)))
        .addEdge(StateGraph.START, "a")
        .addEdge("a", "b")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    graph.invoke(Map.of("x", 0), config).block();
    List<StateSnapshot> history = graph.getStateHistory(config).collectList().block();
    assertEquals(4, history.size());
    assertEquals(List.of(List.of(), List.of("b"), List.of("a"), List.of("__start__")),
        history.stream().map(StateSnapshot::next).toList());
    assertEquals(List.of(2, 1, 0, -1), history.stream().map(s -> s.metadata().get("step")).toList());
    assertEquals(List.of("loop", "loop", "loop", "input"), history.stream().map(s -> s.metadata().get("source")).toList());
    assertEquals(Map.of("x", 1, "y", 2), history.get(0).values());
    assertEquals(Map.of("x", 0), history.get(2).values());
    StateSnapshot latest = graph.getState(config).block();
    assertTrue(latest.next().isEmpty());
  }

  @Test
  void streamsUpdatesPerNodeAndValuesPerStep() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Map.of("x", 1)))
        .addNode("b", (state, context) -> {
          context.writer().emit("hello from b");
          return Mono.just(Map.of("y", 2));
        })
        .addEdge(StateGraph.START, "a")
        .addEdge("a", "b")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    List<StreamChunk> chunks = graph.stream(Map.of("x", 0), config, StreamMode.UPDATES, StreamMode.VALUES,
        StreamMode.CUSTOM).collectList().block();
    assertEquals(List.of(
        new StreamChunk(StreamMode.VALUES, List.of(), Map.of("x", 0)),
        new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("a", Map.of("x", 1))),
        new StreamChunk(StreamMode.VALUES, List.of(), Map.of("x", 1)),
        new StreamChunk(StreamMode.CUSTOM, List.of(), "hello from b"),
        new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("b", Map.of("y", 2))),
        new StreamChunk(StreamMode.VALUES, List.of(), Map.of("x", 1, "y", 2))), chunks);
  }

  @Test
  void anInterruptInANodePausesAndResumeContinuesIt() {
    AtomicInteger firstRuns = new AtomicInteger();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("first", (state, context) -> {
          firstRuns.incrementAndGet();
          return Mono.just(Map.of("a", "done"));
        })
        .addNode("ask", (state, context) -> context.interrupt("name?", String.class)
            .map(name -> Map.of("name", name)))
        .addNode("greet", (state, context) -> Mono.just(Map.of("greeting", "hi " + state.get("name"))))
        .addEdge(StateGraph.START, "first")
        .addEdge("first", "ask")
        .addEdge("ask", "greet")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    GraphOutput<Map<String, Object>> paused = graph.run(Map.of(), config).block();
    assertTrue(paused.interrupted());
    assertEquals("name?", paused.interrupts().get(0).value());
    StateSnapshot state = graph.getState(config).block();
    assertEquals(List.of("ask"), state.next());
    assertEquals(1, state.interrupts().size());
    assertEquals(1, state.tasks().size());
    assertEquals("ask", state.tasks().get(0).name());
    assertEquals(state.interrupts(), state.tasks().get(0).interrupts());
    assertEquals(Map.of("a", "done", "name", "Ada", "greeting", "hi Ada"),
        graph.invoke(Command.resume("Ada"), config).block());
    assertEquals(1, firstRuns.get());
    assertTrue(graph.getState(config).block().next().isEmpty());
  }

  @Test
  void breakpointsStopBeforeAndAfterNodesAndProceedContinues() {
    AtomicInteger bRuns = new AtomicInteger();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Map.of("a", 1)))
        .addNode("b", (state, context) -> {
          bRuns.incrementAndGet();
          return Mono.just(Map.of("b", 2));
        })
        .addNode("c", (state, context) -> Mono.just(Map.of("c", 3)))
        .addEdge(StateGraph.START, "a")
        .addEdge("a", "b")
        .addEdge("b", "c")
        .compile(CompileOptions.defaults().withCheckpointer(saver).withInterruptBefore("b").withInterruptAfter("b"));
    GraphOutput<Map<String, Object>> first = graph.run(Map.of(), config).block();
    assertFalse(first.interrupted());
    assertEquals(Map.of("a", 1), first.value());
    assertEquals(List.of("b"), graph.getState(config).block().next());
    assertEquals(0, bRuns.get());
    GraphOutput<Map<String, Object>> second = graph.run(Command.proceed(), config).block();
    assertEquals(Map.of("a", 1, "b", 2), second.value());
    assertEquals(List.of("c"), graph.getState(config).block().next());
    assertEquals(Map.of("a", 1, "b", 2, "c", 3), graph.invoke(Command.proceed(), config).block());
    assertEquals(1, bRuns.get());
  }

  @Test
  void updateStateAsANodeSetsTheNextNodes() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Map.of("a", 1)))
        .addNode("b", (state, context) -> Mono.just(Map.of("b", state.get("edited"))))
        .addEdge(StateGraph.START, "a")
        .addEdge("a", "b")
        .compile(CompileOptions.defaults().withCheckpointer(saver).withInterruptBefore("b"));
    graph.run(Map.of(), config).block();
    RunConfig updated = graph.updateState(config, Map.of("edited", "yes"), "a").block();
    StateSnapshot snapshot = graph.getState(config).block();
    assertEquals(updated.checkpointId(), snapshot.config().checkpointId());
    assertEquals("update", snapshot.metadata().get("source"));
    assertEquals(List.of("b"), snapshot.next());
    assertEquals(Map.of("a", 1, "edited", "yes", "b", "yes"), graph.invoke(Command.proceed(), config).block());
  }

  @Test
  void timeTravelReplaysFromAnOlderCheckpointAndRunsItsNodesAgain() {
    AtomicInteger bRuns = new AtomicInteger();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Map.of("a", 1)))
        .addNode("b", (state, context) -> Mono.just(Map.of("b", bRuns.incrementAndGet())))
        .addEdge(StateGraph.START, "a")
        .addEdge("a", "b")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    graph.invoke(Map.of(), config).block();
    StateSnapshot beforeB = graph.getStateHistory(config)
        .filter(snapshot -> snapshot.next().equals(List.of("b"))).blockFirst();
    Map<String, Object> replayed = graph.invoke(Command.proceed(), beforeB.config()).block();
    assertEquals(Map.of("a", 1, "b", 2), replayed);
    assertEquals(2, bRuns.get());
    assertEquals(Map.of("a", 1, "b", 2), graph.getState(config).block().values());
  }

  record Essay(String topic, List<String> notes) {
  }

  @Test
  void theReadmeExampleFansOutPausesInReviewAndResumesWithoutRerunningFinishedNodes() {
    AtomicInteger research = new AtomicInteger();
    CompiledGraph<Essay> graph = StateGraph.of(Essay.class)
        .reducer("notes", Reducers.append())
        .addNode("research", (state, context) -> {
          research.incrementAndGet();
          return Mono.just(Map.of("notes", "facts about " + state.topic()));
        })
        .addNode("outline", (state, context) -> Mono.just(Map.of("notes", "outline")))
        .addNode("review", (state, context) -> context.interrupt("ok?", Boolean.class)
            .map(ok -> ok ? Command.goTo("write") : Command.goTo("research")),
            NodeOptions.defaults().withDestinations("write", "research"))
        .addNode("write", (state, context) -> Mono.just(Map.of("notes", "essay")))
        .addEdge(StateGraph.START, "research")
        .addEdge(StateGraph.START, "outline")
        .addEdge(List.of("research", "outline"), "review")
        .addEdge("write", StateGraph.END)
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    assertTrue(graph.run(new Essay("bees", List.of()), config).block().interrupted());
    assertEquals(List.of("review"), graph.getState(config).block().next());
    assertEquals(new Essay("bees", List.of("facts about bees", "outline", "essay")),
        graph.invoke(Command.resume(true), config).block());
    assertEquals(1, research.get());
  }

  @Test
  void retryDelaysRunOnTheCompileOptionsScheduler() {
    reactor.test.scheduler.VirtualTimeScheduler time = reactor.test.scheduler.VirtualTimeScheduler.create();
    AtomicInteger attempts = new AtomicInteger();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("flaky", (state, context) -> attempts.incrementAndGet() < 3
                ? Mono.error(new java.io.IOException("reset")) : Mono.just(Map.of("ok", true)),
            NodeOptions.defaults().withRetry(dev.fluxgraph.types.RetryPolicy.defaults().withJitter(false)))
        .setEntryPoint("flaky")
        .compile(CompileOptions.defaults().withScheduler(time));
    reactor.test.StepVerifier.create(graph.invoke(Map.of(), RunConfig.none()))
        .then(() -> time.advanceTimeBy(Duration.ofMillis(499)))
        .then(() -> assertEquals(1, attempts.get()))
        .then(() -> time.advanceTimeBy(Duration.ofMillis(1)))
        .then(() -> assertEquals(2, attempts.get()))
        .then(() -> time.advanceTimeBy(Duration.ofSeconds(1)))
        .expectNext(Map.of("ok", true))
        .verifyComplete();
  }

  @Test
  void aCommandWithUpdateAndGoToSteersAPausedOrFinishedThread() {
    AtomicInteger bRuns = new AtomicInteger();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("log", Reducers.append())
        .addNode("a", (state, context) -> Mono.just(Map.of("log", "a")))
        .addNode("ask", (state, context) -> context.interrupt("color?", String.class)
            .map(color -> Map.of("color", color, "log", "ask")))
        .addNode("b", (state, context) -> {
          bRuns.incrementAndGet();
          return Mono.just(Map.of("log", "b:" + state.get("note")));
        })
        .addEdge(StateGraph.START, "a")
        .addEdge("a", "ask")
        .addEdge("ask", "b")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    assertTrue(graph.run(Map.of(), config).block().interrupted());
    // resume the interrupt and update the state in one command: ask answers, b sees the note
    assertEquals(Map.of("log", List.of("a", "ask", "b:hi"), "color", "red", "note", "hi"),
        graph.invoke(Command.resume("red").withUpdate(Map.of("note", "hi")), config).block());
    // a finished thread: go to b again with another note; only b (and what follows it) runs
    assertEquals(Map.of("log", List.of("a", "ask", "b:hi", "again", "b:there"), "color", "red", "note", "there"),
        graph.invoke(Command.goTo("b").withUpdate(Map.of("note", "there", "log", "again")), config).block());
    assertEquals(2, bRuns.get());
    assertEquals("input", graph.getStateHistory(config).skip(1).blockFirst().metadata().get("source"));
  }

  @Test
  void aGraphWithoutCheckpointerHasNoState() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Map.of("a", 1)))
        .setEntryPoint("a")
        .compile();
    assertThrows(IllegalStateException.class, () -> graph.getState(config).block());
    assertNull(Flux.<Object>empty().blockFirst());
  }
}
