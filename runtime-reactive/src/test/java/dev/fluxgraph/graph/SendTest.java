package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.InvalidCommandException;
import dev.fluxgraph.errors.SerializationException;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.TaskState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/** {@link Send}: map-reduce tasks from conditional edges and {@code Command.goTo(Send...)}. */
class SendTest {

  private static final Duration VERIFY = Duration.ofSeconds(10);

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());

  /** The reference's map-reduce example: subjects fan out to one joke task each, the jokes are reduced. */
  record Jokes(List<String> subjects, String subject, List<String> jokes, String best) {
  }

  private final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();

  private int ran(String subject) {
    return runs.getOrDefault(subject, new AtomicInteger()).get();
  }

  /** Subjects -> one Send per subject (earlier subjects finish later) -> best. {@code ask}: that one interrupts. */
  private CompiledGraph<Jokes> jokes(String ask, CompileOptions options) {
    return StateGraph.of(Jokes.class)
        .reducer("jokes", Reducers.append())
        .addNode("topics", (state, context) -> Mono.just(Map.of("subjects", List.of("cats", "dogs", "owls"))))
        .addNode("joke", (state, context) -> {
          runs.computeIfAbsent(state.subject(), key -> new AtomicInteger()).incrementAndGet();
          assertNull(state.subjects(), "a Send task reads its arg, not the state");
          Mono<String> punchline = state.subject().equals(ask)
              ? context.interrupt("punchline for " + state.subject() + "?", String.class)
              : Mono.just("a joke about " + state.subject());
          long delay = 30L - 10L * List.of("cats", "dogs", "owls").indexOf(state.subject());
          return punchline.delayElement(Duration.ofMillis(delay)).map(joke -> Map.of("jokes", List.of(joke)));
        })
        .addNode("best", (state, context) -> Mono.just(Map.of("best", state.jokes().get(0))))
        .addEdge(StateGraph.START, "topics")
        .addConditionalEdges("topics", state -> Flux.fromIterable(state.subjects())
            .map(subject -> new Send("joke", Map.of("subject", subject))))
        .addEdge("joke", "best")
        .compile(options);
  }

  @Test
  void eachSendRunsItsNodeWithItsArgAndTheResultsReduceInSendOrderNotCompletionOrder() {
    Jokes result = jokes("none", CompileOptions.defaults()).invoke(new Jokes(null, null, List.of(), null),
        RunConfig.none()).block(VERIFY);
    assertEquals(List.of("a joke about cats", "a joke about dogs", "a joke about owls"), result.jokes());
    assertEquals("a joke about cats", result.best(), "best ran once, after every Send");
    assertEquals(1, ran("cats"));
    assertEquals(1, ran("owls"));
  }

  @Test
  void sendTasksStreamTheirUpdatesAndTheirArgAsTaskInput() {
    List<StreamChunk> chunks = jokes("none", CompileOptions.defaults())
        .stream(new Jokes(null, null, List.of(), null), RunConfig.none(), StreamMode.UPDATES, StreamMode.TASKS)
        .collectList().block(VERIFY);
    List<Object> inputs = new ArrayList<>();
    List<Object> updates = new ArrayList<>();
    for (StreamChunk chunk : chunks) {
      Map<?, ?> data = (Map<?, ?>) chunk.data();
      if (chunk.mode() == StreamMode.TASKS && "joke".equals(data.get("name")) && data.containsKey("input")) {
        inputs.add(((Jokes) data.get("input")).subject());
      }
      if (chunk.mode() == StreamMode.UPDATES && data.containsKey("joke")) {
        updates.add(data.get("joke"));
      }
    }
    assertEquals(List.of("cats", "dogs", "owls"), inputs);
    assertEquals(3, updates.size());
    assertTrue(updates.contains(Map.of("jokes", List.of("a joke about owls"))));
  }

  @Test
  void sendsRunConcurrently() {
    int branches = 3;
    AtomicInteger started = new AtomicInteger();
    Sinks.Empty<Void> allStarted = Sinks.empty();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("done", Reducers.append())
        .addNode("fan", (state, context) -> Mono.just(Map.of()))
        .addNode("work", (state, context) -> {
          if (started.incrementAndGet() == branches) {
            allStarted.tryEmitEmpty();
          }
          // each branch waits for all of them to have started: only concurrent tasks get past this
          return allStarted.asMono().then(Mono.just(Map.of("done", state.get("n"))));
        })
        .addEdge(StateGraph.START, "fan")
        .addConditionalEdges("fan", state -> Flux.range(0, branches).map(n -> new Send("work", Map.of("n", n))))
        .compile();
    StepVerifier.create(graph.invoke(Map.of(), RunConfig.none()))
        .expectNext(Map.of("done", List.of(0, 1, 2)))
        .verifyComplete();
  }

  @Test
  void aRouterMayMixNodeNamesSendsAndCollectionsOfThem() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("log", Reducers.append())
        .addNode("fan", (state, context) -> Mono.just(Map.of()))
        .addNode("plain", (state, context) -> Mono.just(Map.of("log", "plain")))
        .addNode("item", (state, context) -> Mono.just(Map.of("log", "item " + state.get("i"))))
        .addEdge(StateGraph.START, "fan")
        .addConditionalEdges("fan", state -> Flux.just(List.of(new Send("item", Map.of("i", 1)), "plain"),
            new Send("item", Map.of("i", 2)), StateGraph.END))
        .compile();
    // the nodes edges scheduled apply first, then the Sends in the order emitted
    assertEquals(List.of("plain", "item 1", "item 2"), graph.invoke(Map.of(), RunConfig.none()).block(VERIFY)
        .get("log"));
  }

  @Test
  void aSendCanStartTheGraphAndCanGoToTheSameNodeAsAnEdge() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("log", Reducers.append())
        .addNode("a", (state, context) -> Mono.just(Map.of("log", "a:" + state.getOrDefault("tag", "edge"))))
        .addNode("b", (state, context) -> Mono.just(Map.of("log", "b")))
        .addConditionalEdges(StateGraph.START, state -> Flux.just("a", new Send("a", Map.of("tag", "send"))))
        .addEdge("a", "b")
        .compile();
    // b runs once after both tasks of a
    assertEquals(List.of("a:edge", "a:send", "b"), graph.invoke(Map.of(), RunConfig.none()).block(VERIFY)
        .get("log"));
  }

  @Test
  void aNodeReturnsCommandGoToSends() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("squares", Reducers.append())
        .addNode("split", (state, context) -> Mono.just(Command.goTo(new Send("square", Map.of("n", 2)),
            new Send("square", Map.of("n", 3))).withUpdate(Map.of("split", true))),
            NodeOptions.defaults().withDestinations("square"))
        .addNode("square", (state, context) -> {
          int n = (Integer) state.get("n");
          return Mono.just(Map.of("squares", n * n));
        })
        .addEdge(StateGraph.START, "split")
        .compile();
    assertEquals(Map.of("split", true, "squares", List.of(4, 9)),
        graph.invoke(Map.of(), RunConfig.none()).block(VERIFY));
  }

  @Test
  void anInterruptInOneSendBranchListsPendingSendTasksAndResumeRunsOnlyThatBranch() {
    CompiledGraph<Jokes> graph = jokes("dogs", CompileOptions.defaults().withCheckpointer(saver));
    List<String> startedIds = new ArrayList<>();
    StepVerifier.create(graph.stream(new Jokes(null, null, List.of(), null), config, StreamMode.TASKS)
            .filter(chunk -> ((Map<?, ?>) chunk.data()).containsKey("input")
                && "joke".equals(((Map<?, ?>) chunk.data()).get("name")))
            .map(chunk -> (String) ((Map<?, ?>) chunk.data()).get("id")))
        .recordWith(() -> startedIds)
        .thenConsumeWhile(id -> true)
        .verifyComplete();

    StateSnapshot state = graph.getState(config).block(VERIFY);
    assertEquals("punchline for dogs?", state.interrupts().get(0).value());
    assertEquals(List.of("joke", "joke", "joke"), state.next());
    List<TaskState> tasks = state.tasks();
    assertEquals(3, tasks.size());
    for (int i = 0; i < 3; i++) {
      assertEquals(List.of(TaskState.PUSH, i), tasks.get(i).path());
      assertEquals("joke", tasks.get(i).name());
    }
    // the same ids as the tasks that ran, in Send order
    assertEquals(tasks.stream().map(TaskState::id).sorted().toList(), startedIds.stream().sorted().toList());
    assertEquals(3, tasks.stream().map(TaskState::id).distinct().count());
    assertEquals(Map.of("jokes", List.of("a joke about cats")), tasks.get(0).result(), "finished: its update");
    assertNull(tasks.get(1).result());
    assertEquals(1, tasks.get(1).interrupts().size(), "the interrupt belongs to the dogs branch");
    assertTrue(tasks.get(0).interrupts().isEmpty());
    assertEquals(Map.of("jokes", List.of("a joke about owls")), tasks.get(2).result());

    Jokes done = graph.invoke(Command.resume("why did the dog sit in the shade? not to be a hot dog"), config)
        .block(VERIFY);
    assertEquals(List.of("a joke about cats", "why did the dog sit in the shade? not to be a hot dog",
        "a joke about owls"), done.jokes());
    assertEquals(1, ran("cats"), "finished branches are not run again");
    assertEquals(1, ran("owls"));
    assertEquals(2, ran("dogs"));
    assertTrue(graph.getState(config).block(VERIFY).next().isEmpty());
  }

  @Test
  void sendTaskIdsDependOnTheRunStepAndIndexOnly() {
    CompiledGraph<Jokes> graph = jokes("cats", CompileOptions.defaults().withCheckpointer(saver));
    graph.run(new Jokes(null, null, List.of(), null), config).block(VERIFY);
    List<String> first = graph.getState(config).block(VERIFY).tasks().stream().map(TaskState::id).toList();
    // a failed-over continuation (proceed) of the same pending superstep sees the same tasks
    graph.run(Command.proceed(), config).block(VERIFY);
    List<String> again = graph.getState(config).block(VERIFY).tasks().stream().map(TaskState::id).toList();
    assertEquals(first, again);
    assertEquals(2, ran("cats"));
    assertEquals(1, ran("dogs"));
    // another run on another thread: other ids
    RunConfig other = RunConfig.thread(UUID.randomUUID().toString());
    graph.run(new Jokes(null, null, List.of(), null), other).block(VERIFY);
    assertNotEquals(first, graph.getState(other).block(VERIFY).tasks().stream().map(TaskState::id).toList());
  }

  @Test
  void commandGoToSendsAsRunInputRunsThemNext() {
    CompiledGraph<Jokes> graph = jokes("none", CompileOptions.defaults().withCheckpointer(saver));
    graph.invoke(new Jokes(null, null, List.of(), null), config).block(VERIFY);
    Jokes more = graph.invoke(Command.goTo(new Send("joke", Map.of("subject", "bees"))), config).block(VERIFY);
    assertEquals(List.of("a joke about cats", "a joke about dogs", "a joke about owls", "a joke about bees"),
        more.jokes());
    assertEquals(1, ran("bees"));
    StepVerifier.create(graph.invoke(Command.goTo(new Send("nope", Map.of())), config))
        .expectErrorSatisfies(error -> {
          assertTrue(error instanceof InvalidCommandException, error.toString());
          assertTrue(error.getMessage().contains("'nope'"), error.getMessage());
        })
        .verify(VERIFY);
  }

  @Test
  void breakpointsBeforeASendNodeStopBeforeItsTasks() {
    CompiledGraph<Jokes> graph = jokes("none", CompileOptions.defaults().withCheckpointer(saver)
        .withInterruptBefore("joke"));
    Jokes stopped = graph.invoke(new Jokes(null, null, List.of(), null), config).block(VERIFY);
    assertEquals(List.of("cats", "dogs", "owls"), stopped.subjects());
    assertEquals(List.of("joke", "joke", "joke"), graph.getState(config).block(VERIFY).next());
    assertEquals(0, ran("cats"));
    assertEquals(3, graph.invoke(Command.proceed(), config).block(VERIFY).jokes().size());
  }

  @Test
  void aNestedGraphsPendingSendsShowInItsStateAndResumeIntoTheInterruptedOne() {
    CompiledGraph<Jokes> inner = jokes("owls", CompileOptions.defaults().withName("inner"));
    CompiledGraph<Jokes> outer = StateGraph.of(Jokes.class)
        .addNode("sub", inner)
        .addEdge(StateGraph.START, "sub")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    assertTrue(outer.run(new Jokes(null, null, List.of(), null), config).block(VERIFY).interrupted());
    StateSnapshot state = outer.getState(config, true).block(VERIFY);
    assertEquals(List.of("sub"), state.next());
    StateSnapshot nested = state.tasks().get(0).state();
    assertEquals(List.of("joke", "joke", "joke"), nested.next());
    assertEquals(List.of(List.of(TaskState.PUSH, 0), List.of(TaskState.PUSH, 1), List.of(TaskState.PUSH, 2)),
        nested.tasks().stream().map(TaskState::path).toList());
    assertEquals(1, nested.tasks().get(2).interrupts().size());
    assertEquals(List.of("a joke about cats", "a joke about dogs", "a hoot"),
        outer.invoke(Command.resume("a hoot"), config).block(VERIFY).jokes());
    assertEquals(1, ran("cats"));
    assertEquals(2, ran("owls"));
  }

  @Test
  void checkpointEventsListPendingSendsAndUpdateStateAsARoutingNodeSchedulesThem() {
    CompiledGraph<Jokes> graph = jokes("none", CompileOptions.defaults().withCheckpointer(saver));
    List<Map<?, ?>> checkpoints = graph.stream(new Jokes(null, null, List.of(), null), config,
            StreamMode.CHECKPOINTS)
        .<Map<?, ?>>map(chunk -> (Map<?, ?>) chunk.data()).collectList().block(VERIFY);
    Map<?, ?> afterTopics = checkpoints.get(2); // input, after the input, after topics
    assertEquals(List.of("joke", "joke", "joke"), afterTopics.get("next"));
    assertEquals(3, ((List<?>) afterTopics.get("tasks")).stream().map(task -> ((Map<?, ?>) task).get("id")).distinct()
        .count());
    assertEquals(List.of("best"), checkpoints.get(3).get("next"), "after the Sends: best, once");

    graph.updateState(config, Map.of("subjects", List.of("ants", "bees")), "topics").block(VERIFY);
    StateSnapshot edited = graph.getState(config).block(VERIFY);
    assertEquals(List.of("joke", "joke"), edited.next());
    assertEquals(List.of(List.of(TaskState.PUSH, 0), List.of(TaskState.PUSH, 1)),
        edited.tasks().stream().map(TaskState::path).toList());
    assertEquals(List.of("a joke about cats", "a joke about dogs", "a joke about owls", "a joke about ants",
        "a joke about bees"), graph.invoke(Command.proceed(), config).block(VERIFY).jokes());
  }

  @Test
  void badSendsFailTheRunNamingTheProblem() {
    assertFails(StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Map.of()))
        .addConditionalEdges(StateGraph.START, state -> Mono.just(new Send("ghost", Map.of())))
        .compile(), Map.of(), IllegalArgumentException.class, "Send to 'ghost'", "not a node");
    assertFails(StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Map.of()))
        .addConditionalEdges(StateGraph.START, state -> Mono.just(42))
        .compile(), Map.of(), IllegalArgumentException.class, "java.lang.Integer", "node names, Sends");
    assertFails(StateGraph.of(Jokes.class)
        .addNode("a", (state, context) -> Mono.just(Map.of()))
        .addConditionalEdges(StateGraph.START, state -> Mono.just(new Send("a", "not an object")))
        .compile(), new Jokes(null, null, null, null), RuntimeException.class, "Send to node 'a'", "Jokes");
    assertFails(StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Map.of()))
        .addConditionalEdges(StateGraph.START, state -> Mono.just(new Send("a", new Object())))
        .compile(), Map.of(), SerializationException.class, "Send to 'a'");
    assertThrows(NullPointerException.class, () -> new Send("a", null));
    assertThrows(IllegalArgumentException.class, () -> new Send(" ", Map.of()));
    assertThrows(IllegalArgumentException.class, () -> Command.goTo(new Send[0]));
  }

  private static <S> void assertFails(CompiledGraph<S> graph, S input, Class<? extends Throwable> type,
                                      String... parts) {
    StepVerifier.create(graph.invoke(input, RunConfig.none()))
        .expectErrorSatisfies(error -> {
          assertTrue(type.isInstance(error), error.toString());
          for (String part : parts) {
            assertTrue(error.getMessage().contains(part), error.getMessage() + " should contain " + part);
          }
        })
        .verify(VERIFY);
  }
}
