package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.cache.InMemoryCache;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.GraphInterruptedException;
import dev.fluxgraph.errors.NodeTimeoutException;
import dev.fluxgraph.store.InMemoryStore;
import dev.fluxgraph.testing.TestClock;
import dev.fluxgraph.types.CachePolicy;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.Durability;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.Interrupt;
import dev.fluxgraph.types.RetryPolicy;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.TaskState;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * Issue items 1, 2 and 5 on the in-memory saver: per-node retry, timeout and cache; the store; the message reducer;
 * parallel interrupts; failures inside a superstep; durability modes; the shape of every stream mode; runs that
 * follow each other on a thread; cancellation and demand.
 */
class GraphBehaviourTest {

  private static final Duration VERIFY = Duration.ofSeconds(10);

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());

  /** Virtual "now" in ms, as seen by code running under {@code withVirtualTime}. */
  private static long now() {
    return Schedulers.parallel().now(TimeUnit.MILLISECONDS);
  }

  private static List<Long> relative(List<Long> times) {
    return times.stream().map(time -> time - times.get(0)).toList();
  }

  private static Map<?, ?> data(StreamChunk chunk) {
    return assertInstanceOf(Map.class, chunk.data(), () -> "data of " + chunk);
  }

  private static List<StreamChunk> only(List<StreamChunk> chunks, StreamMode mode) {
    return chunks.stream().filter(chunk -> chunk.mode() == mode).toList();
  }

  // ------------------------------------------------------------------------------------------ retry and timeout

  @Nested
  class RetryAndTimeout {

    @Test
    void aNodeFailingTwiceThenSucceedingRunsThreeTimesWithBackoffInVirtualTime() {
      List<Long> attempts = new CopyOnWriteArrayList<>();
      StepVerifier.withVirtualTime(() -> StateGraph.ofMap()
              .addNode("flaky", (state, context) -> Mono.defer(() -> {
                attempts.add(now());
                return attempts.size() < 3 ? Mono.error(new IOException("reset #" + attempts.size()))
                    : Mono.just(Map.of("ok", attempts.size()));
              }), NodeOptions.defaults().withRetry(RetryPolicy.defaults().withJitter(false)))
              .setEntryPoint("flaky")
              .compile()
              .invoke(Map.of(), RunConfig.none()))
          .expectSubscription()
          .thenAwait(Duration.ofMillis(499))
          .then(() -> assertEquals(1, attempts.size()))
          .thenAwait(Duration.ofMillis(1))
          .then(() -> assertEquals(2, attempts.size()))
          .thenAwait(Duration.ofMillis(999))
          .then(() -> assertEquals(2, attempts.size()))
          .thenAwait(Duration.ofMillis(1))
          .expectNext(Map.of("ok", 3))
          .expectComplete()
          .verify(VERIFY);
      assertEquals(List.of(0L, 500L, 1500L), relative(attempts));
    }

    @Test
    void retriesStopAtMaxAttemptsAndTheLastErrorFailsTheRun() {
      AtomicInteger attempts = new AtomicInteger();
      StepVerifier.withVirtualTime(() -> StateGraph.ofMap()
              .addNode("down", (state, context) -> Mono.error(new IOException("down #" + attempts.incrementAndGet())),
                  NodeOptions.defaults().withRetry(RetryPolicy.defaults().withJitter(false).withMaxAttempts(2)))
              .setEntryPoint("down")
              .compile()
              .invoke(Map.of(), RunConfig.none()))
          .expectSubscription()
          .thenAwait(Duration.ofSeconds(10))
          .expectErrorSatisfies(error -> {
            assertInstanceOf(IOException.class, error);
            assertEquals("down #2", error.getMessage());
          })
          .verify(VERIFY);
      assertEquals(2, attempts.get());
    }

    @Test
    void programmingErrorsAreNotRetriedByTheDefaultPredicate() {
      AtomicInteger attempts = new AtomicInteger();
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("buggy", (state, context) -> Mono.fromCallable(() -> {
            attempts.incrementAndGet();
            throw new IllegalArgumentException("bug");
          }), NodeOptions.defaults().withRetry(RetryPolicy.defaults().withInitialInterval(Duration.ofMillis(1))))
          .setEntryPoint("buggy")
          .compile();
      StepVerifier.create(graph.invoke(Map.of(), RunConfig.none()))
          .expectErrorMessage("bug")
          .verify(VERIFY);
      assertEquals(1, attempts.get());
    }

    @Test
    void retryIsPerNodeOthersAreNotRetried() {
      AtomicInteger plain = new AtomicInteger();
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("retried", (state, context) -> Mono.just(Map.of("r", 1)),
              NodeOptions.defaults().withRetry(RetryPolicy.defaults().withInitialInterval(Duration.ofMillis(1))))
          .addNode("plain", (state, context) -> Mono.defer(() -> {
            plain.incrementAndGet();
            return Mono.error(new IOException("no retry for me"));
          }))
          .setEntryPoint("retried")
          .addEdge("retried", "plain")
          .compile();
      StepVerifier.create(graph.invoke(Map.of(), RunConfig.none()))
          .expectErrorMessage("no retry for me")
          .verify(VERIFY);
      assertEquals(1, plain.get());
    }

    @Test
    void aNodeTimesOutPerAttemptWithANodeTimeoutExceptionNamingIt() {
      StepVerifier.withVirtualTime(() -> StateGraph.ofMap()
              .addNode("stuck", (state, context) -> Mono.never(),
                  NodeOptions.defaults().withTimeout(Duration.ofSeconds(2)))
              .setEntryPoint("stuck")
              .compile()
              .invoke(Map.of(), RunConfig.none()))
          .expectSubscription()
          .expectNoEvent(Duration.ofMillis(1999))
          .thenAwait(Duration.ofMillis(1))
          .expectErrorSatisfies(error -> {
            NodeTimeoutException timeout = assertInstanceOf(NodeTimeoutException.class, error);
            assertEquals("stuck", timeout.node());
            assertEquals(Duration.ofSeconds(2), timeout.timeout());
            assertTrue(error.getMessage().contains("stuck"), error.getMessage());
          })
          .verify(VERIFY);
    }

    @Test
    void aTimedOutAttemptIsRetriedAndTheNextAttemptMaySucceed() {
      List<Long> attempts = new CopyOnWriteArrayList<>();
      StepVerifier.withVirtualTime(() -> StateGraph.ofMap()
              .addNode("slowThenFast", (state, context) -> Mono.defer(() -> {
                    attempts.add(now());
                    return attempts.size() == 1 ? Mono.never() : Mono.just(Map.of("attempt", attempts.size()));
                  }),
                  NodeOptions.defaults().withTimeout(Duration.ofSeconds(1))
                      .withRetry(RetryPolicy.defaults().withJitter(false).withInitialInterval(Duration.ofMillis(100))))
              .setEntryPoint("slowThenFast")
              .compile()
              .invoke(Map.of(), RunConfig.none()))
          .expectSubscription()
          .thenAwait(Duration.ofMillis(1100))
          .expectNext(Map.of("attempt", 2))
          .expectComplete()
          .verify(VERIFY);
      assertEquals(List.of(0L, 1100L), relative(attempts));
    }

    @Test
    void aFastNodeIsNotAffectedByItsTimeout() {
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("quick", (state, context) -> Mono.just(Map.of("q", 1)),
              NodeOptions.defaults().withTimeout(Duration.ofSeconds(5)))
          .setEntryPoint("quick")
          .compile();
      assertEquals(Map.of("q", 1), graph.invoke(Map.of(), RunConfig.none()).block(VERIFY));
    }
  }

  // ------------------------------------------------------------------------------------------ cache

  @Nested
  class Cache {

    private final AtomicInteger runs = new AtomicInteger();

    private CompiledGraph<Map<String, Object>> cached(CachePolicy policy, InMemoryCache cache, boolean persistent) {
      CompileOptions options = CompileOptions.defaults().withCache(cache);
      return StateGraph.ofMap()
          .addNode("square", (state, context) -> Mono.fromCallable(() -> {
            runs.incrementAndGet();
            int x = (Integer) state.get("x");
            return Map.of("y", x * x);
          }), NodeOptions.defaults().withCachePolicy(policy))
          .setEntryPoint("square")
          .compile(persistent ? options.withCheckpointer(saver) : options);
    }

    @Test
    void aSecondRunWithTheSameStateHitsTheCacheAndTheUpdateSaysSo() {
      CompiledGraph<Map<String, Object>> graph = cached(CachePolicy.forever(), new InMemoryCache(), false);
      List<Object> first = graph.stream(Map.of("x", 3), RunConfig.none()).map(StreamChunk::data).collectList()
          .block(VERIFY);
      assertEquals(List.of(Map.of("square", Map.of("y", 9))), first);
      List<Object> second = graph.stream(Map.of("x", 3), RunConfig.none()).map(StreamChunk::data).collectList()
          .block(VERIFY);
      assertEquals(List.of(Map.of("square", Map.of("y", 9), "__metadata__", Map.of("cached", true))), second);
      assertEquals(1, runs.get());
      assertEquals(Map.of("x", 3, "y", 9), graph.invoke(Map.of("x", 3), RunConfig.none()).block(VERIFY));
      assertEquals(1, runs.get());
    }

    @Test
    void aDifferentStateIsAMiss() {
      CompiledGraph<Map<String, Object>> graph = cached(CachePolicy.forever(), new InMemoryCache(), false);
      graph.invoke(Map.of("x", 3), RunConfig.none()).block(VERIFY);
      assertEquals(Map.of("x", 4, "y", 16), graph.invoke(Map.of("x", 4), RunConfig.none()).block(VERIFY));
      assertEquals(2, runs.get());
    }

    @Test
    void theCacheIsSharedAcrossThreads() {
      CompiledGraph<Map<String, Object>> graph = cached(CachePolicy.forever(), new InMemoryCache(), true);
      graph.invoke(Map.of("x", 5), RunConfig.thread("one-" + UUID.randomUUID())).block(VERIFY);
      RunConfig other = RunConfig.thread("two-" + UUID.randomUUID());
      assertEquals(Map.of("x", 5, "y", 25), graph.invoke(Map.of("x", 5), other).block(VERIFY));
      assertEquals(1, runs.get());
      assertEquals(Map.of("x", 5, "y", 25), graph.getState(other).block(VERIFY).values());
    }

    @Test
    void theKeyFunctionSeesTheStateAndDecidesWhatCounts() {
      CachePolicy byX = CachePolicy.forever().withKeyFunction(state -> String.valueOf(((Map<?, ?>) state).get("x")));
      CompiledGraph<Map<String, Object>> graph = cached(byX, new InMemoryCache(), false);
      graph.invoke(Map.of("x", 2, "noise", "a"), RunConfig.none()).block(VERIFY);
      assertEquals(Map.of("x", 2, "noise", "b", "y", 4),
          graph.invoke(Map.of("x", 2, "noise", "b"), RunConfig.none()).block(VERIFY));
      assertEquals(1, runs.get());
    }

    @Test
    void anEntryExpiresAfterItsTtl() {
      TestClock clock = new TestClock();
      CompiledGraph<Map<String, Object>> graph = cached(CachePolicy.ttl(Duration.ofMinutes(1)), new InMemoryCache(clock),
          false);
      graph.invoke(Map.of("x", 3), RunConfig.none()).block(VERIFY);
      clock.advance(Duration.ofSeconds(30));
      graph.invoke(Map.of("x", 3), RunConfig.none()).block(VERIFY);
      assertEquals(1, runs.get());
      clock.advance(Duration.ofSeconds(31));
      graph.invoke(Map.of("x", 3), RunConfig.none()).block(VERIFY);
      assertEquals(2, runs.get());
    }

    @Test
    void nodesWithoutACachePolicyAlwaysRun() {
      AtomicInteger plain = new AtomicInteger();
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("plain", (state, context) -> Mono.fromCallable(() -> Map.of("n", plain.incrementAndGet())))
          .setEntryPoint("plain")
          .compile(CompileOptions.defaults().withCache(new InMemoryCache()));
      graph.invoke(Map.of(), RunConfig.none()).block(VERIFY);
      graph.invoke(Map.of(), RunConfig.none()).block(VERIFY);
      assertEquals(2, plain.get());
    }
  }

  // ------------------------------------------------------------------------------------------ store

  @Test
  void nodesReadAndWriteTheStoreAndSeeTheRunConfig() {
    InMemoryStore store = new InMemoryStore();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("remember", (state, context) -> context.store()
            .put(List.of("users", context.config().threadId().orElseThrow()), "profile",
                Map.of("name", state.get("name")))
            .thenReturn(Map.of("saved", true)))
        .addNode("recall", (state, context) -> context.store()
            .get(List.of("users", context.config().threadId().orElseThrow()), "profile")
            .map(item -> Map.of("recalled", item.value().get("name"))))
        .setEntryPoint("remember")
        .addEdge("remember", "recall")
        .compile(CompileOptions.defaults().withStore(store).withCheckpointer(saver));
    assertEquals(Map.of("name", "Ada", "saved", true, "recalled", "Ada"),
        graph.invoke(Map.of("name", "Ada"), config).block(VERIFY));
    // a second channel: the store itself
    assertEquals("Ada", store.get(List.of("users", config.threadId().orElseThrow()), "profile")
        .block(VERIFY).value().get("name"));
  }

  @Test
  void aNodeUsingTheStoreWithoutOneFailsClearly() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("needsStore", (state, context) -> context.store().get(List.of("x"), "y").thenReturn(Map.of()))
        .setEntryPoint("needsStore")
        .compile();
    StepVerifier.create(graph.invoke(Map.of(), RunConfig.none()))
        .expectError(IllegalStateException.class)
        .verify(VERIFY);
  }

  // ------------------------------------------------------------------------------------------ reducers

  @Nested
  class MessageReducer {

    private final java.util.function.BinaryOperator<Object> messages = Reducers.messages();

    @Test
    void appendsNewMessagesInOrder() {
      Object result = messages.apply(List.of(Map.of("id", "1", "content", "a")),
          List.of(Map.of("id", "2", "content", "b"), Map.of("id", "3", "content", "c")));
      assertEquals(List.of("1", "2", "3"), ((List<?>) result).stream().map(m -> ((Map<?, ?>) m).get("id")).toList());
    }

    @Test
    void aSingleMessageIsAppendedLikeAListOfOne() {
      Object result = messages.apply(null, Map.of("id", "1", "content", "a"));
      assertEquals(List.of(Map.of("id", "1", "content", "a")), result);
    }

    @Test
    void aMessageWithAKnownIdReplacesItInPlace() {
      Object result = messages.apply(
          List.of(Map.of("id", "1", "content", "a"), Map.of("id", "2", "content", "b")),
          Map.of("id", "1", "content", "a (edited)"));
      assertEquals(List.of(Map.of("id", "1", "content", "a (edited)"), Map.of("id", "2", "content", "b")), result);
    }

    @Test
    void messagesWithoutIdsGetFreshDistinctIds() {
      List<?> result = (List<?>) messages.apply(List.of(), List.of(Map.of("content", "x"), Map.of("content", "y")));
      Set<Object> ids = result.stream().map(m -> ((Map<?, ?>) m).get("id")).collect(Collectors.toSet());
      assertEquals(2, ids.size());
      ids.forEach(id -> assertTrue(id instanceof String s && !s.isBlank(), String.valueOf(id)));
      assertEquals("x", ((Map<?, ?>) result.get(0)).get("content"));
    }

    @Test
    void aRemoveMessageDeletesByIdAndAnUnknownIdIsAnError() {
      Object result = messages.apply(
          List.of(Map.of("id", "1", "content", "a"), Map.of("id", "2", "content", "b")),
          Map.of("id", "1", "type", "remove"));
      assertEquals(List.of(Map.of("id", "2", "content", "b")), result);
      IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
          () -> messages.apply(List.of(), Map.of("id", "9", "type", "remove")));
      assertTrue(error.getMessage().contains("'9'"), error.getMessage());
    }

    @Test
    void aNonMessageIsRejectedNamingIt() {
      IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
          () -> messages.apply(List.of(), 42));
      assertTrue(error.getMessage().contains("42"), error.getMessage());
    }

    @Test
    void inAGraphTheReducerAppliesToInputNodeUpdatesAndUpdateState() {
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .reducer("messages", Reducers.messages())
          .addNode("bot", (state, context) -> Mono.just(Map.of("messages", List.of(
              Map.of("id", "u1", "role", "user", "content", "hi (edited by bot)"),
              Map.of("role", "ai", "content", "hello")))))
          .addNode("cleanup", (state, context) -> Mono.just(Map.of("messages",
              Map.of("id", "sys", "type", "remove"))))
          .setEntryPoint("bot")
          .addEdge("bot", "cleanup")
          .compile(CompileOptions.defaults().withCheckpointer(saver));
      Map<String, Object> input = Map.of("messages", List.of(Map.of("id", "sys", "role", "system", "content", "rules"),
          Map.of("id", "u1", "role", "user", "content", "hi")));
      List<?> result = (List<?>) graph.invoke(input, config).block(VERIFY).get("messages");
      assertEquals(List.of("hi (edited by bot)", "hello"),
          result.stream().map(m -> ((Map<?, ?>) m).get("content")).toList());
      String assigned = (String) ((Map<?, ?>) result.get(1)).get("id");
      assertNotNull(assigned);
      // the id assigned once is stable: it is in the checkpointed state, and replacing by it works
      graph.updateState(config, Map.of("messages", Map.of("id", assigned, "role", "ai", "content", "hello!")), null)
          .block(VERIFY);
      List<?> updated = (List<?>) ((Map<?, ?>) graph.getState(config).block(VERIFY).values()).get("messages");
      assertEquals(List.of("hi (edited by bot)", "hello!"),
          updated.stream().map(m -> ((Map<?, ?>) m).get("content")).toList());
    }
    @Test
    void aRouterSeesTheSameAssignedMessageIdsAsTheSavedState() {
      List<Object> seenByRouter = new CopyOnWriteArrayList<>();
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .reducer("messages", Reducers.messages())
          .addNode("say", (state, context) -> Mono.just(Map.of("messages", Map.of("content", "hi"))))
          .addNode("next", (state, context) -> Mono.empty())
          .setEntryPoint("say")
          .addConditionalEdges("say", state -> {
            seenByRouter.add(((Map<?, ?>) ((List<?>) state.get("messages")).get(0)).get("id"));
            return Mono.just("next");
          })
          .compile();
      Map<String, Object> result = graph.invoke(Map.of(), RunConfig.none()).block(VERIFY);
      assertEquals(seenByRouter, List.of(((Map<?, ?>) ((List<?>) result.get("messages")).get(0)).get("id")));
    }

    @Test
    void theAppendReducerAddsListsElementWiseAndValuesAsOne() {
      java.util.function.BinaryOperator<Object> append = Reducers.append();
      assertEquals(List.of(1, 2, 3), append.apply(List.of(1), List.of(2, 3)));
      assertEquals(List.of(1, "x"), append.apply(List.of(1), "x"));
      assertEquals(List.of("x"), append.apply(null, "x"));
    }
  }

  @Test
  void updatesOfOneSuperstepAreAppliedInNodeOrderNotCompletionOrder() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("log", Reducers.append())
        .addNode("slow", (state, context) -> Mono.delay(Duration.ofMillis(80)).thenReturn(Map.of("log", "slow")))
        .addNode("fast", (state, context) -> Mono.just(Map.of("log", "fast")))
        .addEdge(StateGraph.START, "slow")
        .addEdge(StateGraph.START, "fast")
        .compile();
    assertEquals(List.of("slow", "fast"), graph.invoke(Map.of(), RunConfig.none()).block(VERIFY).get("log"));
  }

  @Test
  void nodesOfOneSuperstepSeeTheStateAsItWasWhenTheSuperstepBegan() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("left", (state, context) -> Mono.delay(Duration.ofMillis(50))
            .thenReturn(Map.of("leftSaw", String.valueOf(state.get("right")))))
        .addNode("right", (state, context) -> Mono.just(Map.of("right", "written", "rightSaw",
            String.valueOf(state.get("leftSaw")))))
        .addEdge(StateGraph.START, "left")
        .addEdge(StateGraph.START, "right")
        .compile();
    Map<String, Object> result = graph.invoke(Map.of(), RunConfig.none()).block(VERIFY);
    assertEquals("null", result.get("leftSaw"));
    assertEquals("null", result.get("rightSaw"));
  }

  @Test
  void aCommandWithGoToAndUpdateAppliesTheUpdateAndAddsTheTargetToTheEdges() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("path", Reducers.append())
        .addNode("router", (state, context) -> Mono.just(Command.update(Map.of("path", "router")).withGoTo("extra")),
            NodeOptions.defaults().withDestinations("extra"))
        .addNode("normal", (state, context) -> Mono.just(Map.of("path", "normal")))
        .addNode("extra", (state, context) -> Mono.just(Map.of("path", "extra")))
        .setEntryPoint("router")
        .addEdge("router", "normal")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    assertEquals(List.of("router", "normal", "extra"), graph.invoke(Map.of(), config).block(VERIFY).get("path"));
    // both ran in the same superstep, after router
    List<StateSnapshot> history = graph.getStateHistory(config).collectList().block(VERIFY);
    assertTrue(history.stream().anyMatch(snapshot -> snapshot.next().equals(List.of("normal", "extra"))),
        () -> history.stream().map(StateSnapshot::next).toList().toString());
  }

  // ------------------------------------------------------------------------------------------ interrupts

  @Nested
  class ParallelInterrupts {

    private final AtomicInteger leftAnswered = new AtomicInteger();
    private final AtomicInteger rightAnswered = new AtomicInteger();
    private final AtomicInteger afterRuns = new AtomicInteger();

    private CompiledGraph<Map<String, Object>> graph() {
      return StateGraph.ofMap()
          .addNode("left", (state, context) -> context.interrupt("left?", String.class)
              .map(answer -> {
                leftAnswered.incrementAndGet();
                return Map.of("l", answer);
              }))
          .addNode("right", (state, context) -> context.interrupt(Map.of("question", "right?"), String.class)
              .map(answer -> {
                rightAnswered.incrementAndGet();
                return Map.of("r", answer);
              }))
          .addNode("after", (state, context) -> {
            afterRuns.incrementAndGet();
            return Mono.just(Map.of("done", state.get("l") + "+" + state.get("r")));
          })
          .addEdge(StateGraph.START, "left")
          .addEdge(StateGraph.START, "right")
          .addEdge(List.of("left", "right"), "after")
          .compile(CompileOptions.defaults().withCheckpointer(saver));
    }

    @Test
    void bothInterruptsAreReportedWithDistinctIdsAndAnsweredTogetherById() {
      CompiledGraph<Map<String, Object>> graph = graph();
      GraphOutput<Map<String, Object>> paused = graph.run(Map.of(), config).block(VERIFY);
      assertTrue(paused.interrupted());
      assertEquals(2, paused.interrupts().size());
      assertEquals(2, paused.interrupts().stream().map(Interrupt::id).distinct().count());
      StateSnapshot state = graph.getState(config).block(VERIFY);
      assertEquals(List.of("left", "right"), state.next());
      assertEquals(Set.copyOf(paused.interrupts()), Set.copyOf(state.interrupts()));
      Map<String, Object> answers = new LinkedHashMap<>();
      for (Interrupt interrupt : paused.interrupts()) {
        answers.put(interrupt.id(), "left?".equals(interrupt.value()) ? "L" : "R");
      }
      assertEquals(Map.of("l", "L", "r", "R", "done", "L+R"),
          graph.invoke(Command.resumeById(answers), config).block(VERIFY));
      assertEquals(1, afterRuns.get());
    }

    @Test
    void answeringOneLeavesTheOtherPendingAndItsAnswerIsKept() {
      CompiledGraph<Map<String, Object>> graph = graph();
      GraphOutput<Map<String, Object>> paused = graph.run(Map.of(), config).block(VERIFY);
      Interrupt left = paused.interrupts().stream().filter(i -> "left?".equals(i.value())).findFirst().orElseThrow();
      Interrupt right = paused.interrupts().stream().filter(i -> !"left?".equals(i.value())).findFirst()
          .orElseThrow();
      assertEquals(Map.of("question", "right?"), right.value());
      GraphOutput<Map<String, Object>> stillPaused = graph.run(Command.resumeById(Map.of(left.id(), "L")), config)
          .block(VERIFY);
      assertEquals(List.of(right), stillPaused.interrupts());
      assertEquals(List.of(right.id()), graph.getState(config).block(VERIFY).interrupts().stream()
          .map(Interrupt::id).toList());
      assertEquals(0, afterRuns.get());
      // only one interrupt is pending now, so a plain resume is unambiguous
      assertEquals(Map.of("l", "L", "r", "R", "done", "L+R"), graph.invoke(Command.resume("R"), config).block(VERIFY));
      assertEquals(1, leftAnswered.get(), "left finished once: its result is replayed, not recomputed");
      assertEquals(1, rightAnswered.get());
    }

    @Test
    void invokeErrorsWithTheInterruptsWhileStreamCompletesWithThem() {
      CompiledGraph<Map<String, Object>> graph = graph();
      GraphInterruptedException error = assertThrows(GraphInterruptedException.class,
          () -> graph.invoke(Map.of(), config).block(VERIFY));
      assertEquals(2, error.interrupts().size());
      RunConfig other = RunConfig.thread(UUID.randomUUID().toString());
      List<StreamChunk> chunks = graph.stream(Map.of(), other, StreamMode.UPDATES).collectList().block(VERIFY);
      StreamChunk last = chunks.get(chunks.size() - 1);
      assertEquals(Set.of("__interrupt__"), data(last).keySet());
      assertEquals(2, ((List<?>) data(last).get("__interrupt__")).size());
    }
  }

  @Test
  void twoInterruptsInOneNodeAreAnsweredOneAfterTheOther() {
    AtomicInteger bodyRuns = new AtomicInteger();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("form", (state, context) -> {
          bodyRuns.incrementAndGet();
          return context.interrupt("name?", String.class)
              .flatMap(name -> context.interrupt("age?", Integer.class)
                  .map(age -> Map.<String, Object>of("name", name, "age", age)));
        })
        .setEntryPoint("form")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    assertEquals("name?", graph.run(Map.of(), config).block(VERIFY).interrupts().get(0).value());
    assertEquals("age?", graph.run(Command.resume("Ada"), config).block(VERIFY).interrupts().get(0).value());
    assertEquals(Map.of("name", "Ada", "age", 36), graph.invoke(Command.resume(36), config).block(VERIFY));
    assertEquals(3, bodyRuns.get(), "the node re-runs from the top on each resume");
  }

  // ------------------------------------------------------------------------------------------ failures

  @Nested
  class FailedNode {

    private final AtomicInteger steadyRuns = new AtomicInteger();
    private final AtomicInteger shakyRuns = new AtomicInteger();
    private final AtomicInteger nextRuns = new AtomicInteger();

    private CompiledGraph<Map<String, Object>> graph() {
      return StateGraph.ofMap()
          .addNode("steady", (state, context) -> Mono.fromCallable(() -> Map.of("s", steadyRuns.incrementAndGet())))
          .addNode("shaky", (state, context) -> Mono.defer(() -> shakyRuns.incrementAndGet() == 1
              ? Mono.delay(Duration.ofMillis(50)).then(Mono.error(new IllegalStateException("shaky broke")))
              : Mono.just(Map.of("k", shakyRuns.get()))))
          .addNode("next", (state, context) -> Mono.fromCallable(() -> Map.of("n", nextRuns.incrementAndGet())))
          .addEdge(StateGraph.START, "steady")
          .addEdge(StateGraph.START, "shaky")
          .addEdge(List.of("steady", "shaky"), "next")
          .compile(CompileOptions.defaults().withCheckpointer(saver));
    }

    @Test
    void theFailureIsReportedAndTheFinishedSiblingsResultIsKept() {
      CompiledGraph<Map<String, Object>> graph = graph();
      StepVerifier.create(graph.invoke(Map.of(), config)).expectErrorMessage("shaky broke").verify(VERIFY);
      StateSnapshot state = graph.getState(config).block(VERIFY);
      assertEquals(List.of("steady", "shaky"), state.next());
      Map<String, TaskState> tasks = state.tasks().stream()
          .collect(Collectors.toMap(TaskState::name, task -> task));
      assertNull(tasks.get("steady").error());
      assertNotNull(tasks.get("steady").result());
      assertTrue(tasks.get("shaky").error().contains("shaky broke"), tasks.get("shaky").error());
      assertNull(tasks.get("shaky").result());
    }

    @Test
    void proceedRerunsOnlyTheFailedNodeAndContinues() {
      CompiledGraph<Map<String, Object>> graph = graph();
      StepVerifier.create(graph.invoke(Map.of(), config)).expectError(IllegalStateException.class).verify(VERIFY);
      assertEquals(Map.of("s", 1, "k", 2, "n", 1), graph.invoke(Command.proceed(), config).block(VERIFY));
      assertEquals(1, steadyRuns.get());
      assertEquals(2, shakyRuns.get());
      assertEquals(1, nextRuns.get());
      assertTrue(graph.getState(config).block(VERIFY).next().isEmpty());
    }

    @Test
    void proceedOnACompletedThreadReturnsTheStateWithoutRunningAnything() {
      CompiledGraph<Map<String, Object>> graph = graph();
      graph.invoke(Map.of(), config).onErrorResume(e -> Mono.empty()).block(VERIFY);
      Map<String, Object> done = graph.invoke(Command.proceed(), config).block(VERIFY);
      int checkpoints = graph.getStateHistory(config).collectList().block(VERIFY).size();
      assertEquals(done, graph.invoke(Command.proceed(), config).block(VERIFY));
      assertEquals(checkpoints, graph.getStateHistory(config).collectList().block(VERIFY).size());
      assertEquals(2, shakyRuns.get());
    }
  }
  @Test
  void aSnapshotTaskResultIsTheNodesUpdate() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Map.of("x", 1)))
        .addNode("b", (state, context) -> context.interrupt("b?", String.class).map(answer -> Map.of("y", answer)))
        .setEntryPoint("a")
        .addEdge("a", "b")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    graph.run(Map.of(), config).block(VERIFY);
    graph.invoke(Command.resume("ok"), config).block(VERIFY);
    StateSnapshot beforeA = graph.getStateHistory(config).filter(s -> s.next().equals(List.of("a"))).blockFirst(VERIFY);
    assertEquals(Map.of("x", 1), beforeA.tasks().get(0).result());
  }

  // ------------------------------------------------------------------------------------------ durability

  /** The history of a thread as the parts that must not depend on durability. */
  private static List<List<Object>> shape(List<StateSnapshot> history) {
    return history.stream().map(snapshot -> List.<Object>of(snapshot.metadata().get("source"),
        snapshot.metadata().get("step"), snapshot.next(), String.valueOf(snapshot.values()),
        snapshot.interrupts().stream().map(Interrupt::value).toList())).toList();
  }

  private static CompiledGraph<Map<String, Object>> durableGraph(InMemorySaver saver, Durability durability) {
    return StateGraph.ofMap()
        .reducer("log", Reducers.append())
        .addNode("a", (state, context) -> Mono.just(Map.of("log", "a")))
        .addNode("b1", (state, context) -> Mono.just(Map.of("log", "b1")))
        .addNode("b2", (state, context) -> Mono.delay(Duration.ofMillis(10)).thenReturn(Map.of("log", "b2")))
        .addNode("ask", (state, context) -> context.interrupt("ok?", String.class).map(v -> Map.of("log", v)))
        .setEntryPoint("a")
        .addEdge("a", "b1")
        .addEdge("a", "b2")
        .addEdge(List.of("b1", "b2"), "ask")
        .compile(CompileOptions.defaults().withCheckpointer(saver).withDurability(durability));
  }

  @ParameterizedTest
  @EnumSource(Durability.class)
  void everyDurabilityModeCompletesThePausedRun(Durability durability) {
    CompiledGraph<Map<String, Object>> graph = durableGraph(saver, durability);
    assertTrue(graph.run(Map.of("log", List.of("in")), config).block(VERIFY).interrupted());
    assertEquals(List.of("ask"), graph.getState(config).block(VERIFY).next());
    assertEquals(Map.of("log", List.of("in", "a", "b1", "b2", "yes")),
        graph.invoke(Command.resume("yes"), config).block(VERIFY));
  }

  @Test
  void syncAsyncAndExitLeaveTheSameHistory() {
    Map<Durability, List<List<Object>>> histories = new EnumMap<>(Durability.class);
    for (Durability durability : Durability.values()) {
      InMemorySaver own = new InMemorySaver();
      CompiledGraph<Map<String, Object>> graph = durableGraph(own, durability);
      RunConfig thread = RunConfig.thread("durability-" + durability);
      graph.run(Map.of("log", List.of("in")), thread).block(VERIFY);
      List<List<Object>> paused = shape(graph.getStateHistory(thread).collectList().block(VERIFY));
      graph.invoke(Command.resume("yes"), thread).block(VERIFY);
      List<List<Object>> done = shape(graph.getStateHistory(thread).collectList().block(VERIFY));
      histories.put(durability, List.of(List.of(paused), List.of(done)));
    }
    assertEquals(histories.get(Durability.SYNC), histories.get(Durability.ASYNC));
    assertEquals(histories.get(Durability.SYNC), histories.get(Durability.EXIT));
  }

  @ParameterizedTest
  @EnumSource(Durability.class)
  void aFailedRunCanProceedInEveryDurabilityMode(Durability durability) {
    AtomicInteger firstRuns = new AtomicInteger();
    AtomicInteger flakyRuns = new AtomicInteger();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("first", (state, context) -> Mono.fromCallable(() -> Map.of("f", firstRuns.incrementAndGet())))
        .addNode("flaky", (state, context) -> Mono.defer(() -> flakyRuns.incrementAndGet() == 1
            ? Mono.error(new IllegalStateException("once")) : Mono.just(Map.of("ok", true))))
        .setEntryPoint("first")
        .addEdge("first", "flaky")
        .compile(CompileOptions.defaults().withCheckpointer(saver).withDurability(durability));
    StepVerifier.create(graph.invoke(Map.of(), config)).expectErrorMessage("once").verify(VERIFY);
    assertEquals(List.of("flaky"), graph.getState(config).block(VERIFY).next());
    assertEquals(Map.of("f", 1, "ok", true), graph.invoke(Command.proceed(), config).block(VERIFY));
    assertEquals(1, firstRuns.get());
  }

  // ------------------------------------------------------------------------------------------ stream shapes

  @Nested
  class StreamShapes {

    private CompiledGraph<Map<String, Object>> graph() {
      return StateGraph.ofMap()
          .addNode("a", (state, context) -> {
            context.messages().emit(Map.of("content", "tok"));
            return Mono.just(Map.of("x", 1));
          })
          .addNode("b", (state, context) -> Mono.just(Map.of("y", 2)))
          .setEntryPoint("a")
          .addEdge("a", "b")
          .compile(CompileOptions.defaults().withCheckpointer(saver).withName("shapes"));
    }

    @Test
    void checkpointsCarryExactlyTheirKeysTheirNextNodesValuesAndParents() {
      List<StreamChunk> chunks = graph().stream(Map.of("x", 0), config, StreamMode.CHECKPOINTS).collectList()
          .block(VERIFY);
      assertEquals(4, chunks.size(), chunks::toString);
      chunks.forEach(chunk -> assertEquals(Set.of("config", "parent_config", "values", "metadata", "next", "tasks"),
          data(chunk).keySet()));
      assertEquals(List.of(List.of("__start__"), List.of("a"), List.of("b"), List.of()),
          chunks.stream().map(chunk -> data(chunk).get("next")).toList());
      assertEquals(List.of(-1, 0, 1, 2),
          chunks.stream().map(chunk -> ((Map<?, ?>) data(chunk).get("metadata")).get("step")).toList());
      assertNull(data(chunks.get(0)).get("parent_config"));
      for (int i = 1; i < chunks.size(); i++) {
        assertEquals(data(chunks.get(i - 1)).get("config"), data(chunks.get(i)).get("parent_config"));
      }
      assertEquals(Map.of("x", 1, "y", 2), data(chunks.get(3)).get("values"));
      assertEquals(Map.of("x", 1), data(chunks.get(2)).get("values"));
      // the tasks of a checkpoint are its next nodes
      assertEquals(List.of("b"), ((List<?>) data(chunks.get(2)).get("tasks")).stream()
          .map(task -> ((Map<?, ?>) task).get("name")).toList());
      // and they match what getStateHistory reports
      List<StateSnapshot> history = graph().getStateHistory(config).collectList().block(VERIFY);
      List<StateSnapshot> oldestFirst = new ArrayList<>(history);
      java.util.Collections.reverse(oldestFirst);
      assertEquals(chunks.stream().map(chunk -> data(chunk).get("next")).toList(),
          oldestFirst.stream().map(StateSnapshot::next).toList());
    }

    @Test
    void tasksStartAndEndPerNodeWithExactlyTheirKeys() {
      List<StreamChunk> chunks = graph().stream(Map.of("x", 0), config, StreamMode.TASKS).collectList().block(VERIFY);
      List<Map<?, ?>> nodeTasks = chunks.stream().map(GraphBehaviourTest::data)
          .filter(task -> Set.of("a", "b").contains(task.get("name"))).toList();
      assertEquals(4, nodeTasks.size(), chunks::toString);
      assertEquals(Set.of("id", "name", "input", "triggers"), nodeTasks.get(0).keySet());
      assertEquals(Set.of("id", "name", "result", "error", "interrupts"), nodeTasks.get(1).keySet());
      assertEquals(List.of("a", "a", "b", "b"), nodeTasks.stream().map(task -> task.get("name")).toList());
      assertEquals(nodeTasks.get(0).get("id"), nodeTasks.get(1).get("id"));
      assertEquals(nodeTasks.get(2).get("id"), nodeTasks.get(3).get("id"));
      assertEquals(Map.of("x", 0), nodeTasks.get(0).get("input"));
      assertEquals(Map.of("x", 1), nodeTasks.get(1).get("result"));
      assertNull(nodeTasks.get(1).get("error"));
      assertEquals(List.of(), nodeTasks.get(1).get("interrupts"));
      assertEquals(Map.of("x", 1), nodeTasks.get(2).get("input"));
      assertEquals(Map.of("y", 2), nodeTasks.get(3).get("result"));
    }

    @Test
    void nodeTaskIdsAreTheIdsOfTheCheckpointsTasks() {
      List<StreamChunk> chunks = graph().stream(Map.of("x", 0), config, StreamMode.TASKS, StreamMode.CHECKPOINTS)
          .collectList().block(VERIFY);
      Set<Object> checkpointTaskIds = only(chunks, StreamMode.CHECKPOINTS).stream()
          .flatMap(chunk -> ((List<?>) data(chunk).get("tasks")).stream())
          .map(task -> ((Map<?, ?>) task).get("id")).collect(Collectors.toSet());
      only(chunks, StreamMode.TASKS).stream().map(GraphBehaviourTest::data)
          .filter(task -> Set.of("a", "b").contains(task.get("name")))
          .forEach(task -> assertTrue(checkpointTaskIds.contains(task.get("id")), task::toString));
    }

    @Test
    void aFailedNodesTaskEndCarriesTheError() {
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("broken", (state, context) -> Mono.error(new IllegalStateException("nope")))
          .setEntryPoint("broken")
          .compile(CompileOptions.defaults().withCheckpointer(saver));
      List<StreamChunk> chunks = new ArrayList<>();
      StepVerifier.create(graph.stream(Map.of(), config, StreamMode.TASKS).doOnNext(chunks::add))
          .thenConsumeWhile(chunk -> true)
          .expectErrorMessage("nope")
          .verify(VERIFY);
      Map<?, ?> end = chunks.stream().map(GraphBehaviourTest::data)
          .filter(task -> "broken".equals(task.get("name")) && task.containsKey("error")).findFirst().orElseThrow();
      assertTrue(String.valueOf(end.get("error")).contains("nope"), end::toString);
      assertNull(end.get("result"));
    }

    @Test
    void debugWrapsCheckpointsAndTasks() {
      List<StreamChunk> chunks = graph().stream(Map.of("x", 0), config, StreamMode.DEBUG, StreamMode.CHECKPOINTS,
          StreamMode.TASKS).collectList().block(VERIFY);
      List<StreamChunk> debug = only(chunks, StreamMode.DEBUG);
      debug.forEach(chunk -> assertEquals(Set.of("step", "timestamp", "type", "payload"), data(chunk).keySet()));
      assertEquals(Set.of("checkpoint", "task", "task_result"),
          debug.stream().map(chunk -> data(chunk).get("type")).collect(Collectors.toSet()));
      assertEquals(only(chunks, StreamMode.CHECKPOINTS).stream().map(StreamChunk::data).toList(),
          debug.stream().filter(chunk -> "checkpoint".equals(data(chunk).get("type")))
              .map(chunk -> data(chunk).get("payload")).toList());
      assertEquals(only(chunks, StreamMode.TASKS).stream().map(StreamChunk::data).toList(),
          debug.stream().filter(chunk -> !"checkpoint".equals(data(chunk).get("type")))
              .map(chunk -> data(chunk).get("payload")).toList());
      debug.stream().filter(chunk -> "checkpoint".equals(data(chunk).get("type"))).forEach(chunk -> assertEquals(
          ((Map<?, ?>) ((Map<?, ?>) data(chunk).get("payload")).get("metadata")).get("step"), data(chunk).get("step")));
      debug.forEach(chunk -> java.time.Instant.parse(String.valueOf(data(chunk).get("timestamp"))));
    }

    @Test
    void messagesAreTuplesNamingTheNodeAndThread() {
      List<StreamChunk> chunks = graph().stream(Map.of("x", 0), config, StreamMode.MESSAGES).collectList()
          .block(VERIFY);
      assertEquals(1, chunks.size(), chunks::toString);
      List<?> tuple = assertInstanceOf(List.class, chunks.get(0).data());
      assertEquals(2, tuple.size());
      assertEquals(Map.of("content", "tok"), tuple.get(0));
      Map<?, ?> metadata = (Map<?, ?>) tuple.get(1);
      assertEquals("a", metadata.get("langgraph_node"));
      assertEquals(config.threadId().orElseThrow(), metadata.get("thread_id"));
    }

    @Test
    void updatesPerNodeAndValuesPerStepWhenNodesRunInParallel() {
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("l", (state, context) -> Mono.just(Map.of("l", 1)))
          .addNode("r", (state, context) -> Mono.delay(Duration.ofMillis(30)).thenReturn(Map.of("r", 2)))
          .addEdge(StateGraph.START, "l")
          .addEdge(StateGraph.START, "r")
          .compile();
      List<StreamChunk> chunks = graph.stream(Map.of(), RunConfig.none(), StreamMode.UPDATES, StreamMode.VALUES)
          .collectList().block(VERIFY);
      assertEquals(List.of(
          new StreamChunk(StreamMode.VALUES, List.of(), Map.of()),
          new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("l", Map.of("l", 1))),
          new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("r", Map.of("r", 2))),
          new StreamChunk(StreamMode.VALUES, List.of(), Map.of("l", 1, "r", 2))), chunks);
    }

    @Test
    void noModesMeansUpdates() {
      List<StreamChunk> chunks = graph().stream(Map.of("x", 0), config).collectList().block(VERIFY);
      assertEquals(List.of(Map.of("a", Map.of("x", 1)), Map.of("b", Map.of("y", 2))),
          chunks.stream().map(StreamChunk::data).toList());
      chunks.forEach(chunk -> assertEquals(StreamMode.UPDATES, chunk.mode()));
    }

    @Test
    void aPausedRunEndsItsUpdatesAndValuesWithTheInterrupt() {
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("ask", (state, context) -> context.interrupt("q", String.class).map(v -> Map.of("a", v)))
          .setEntryPoint("ask")
          .compile(CompileOptions.defaults().withCheckpointer(saver));
      List<StreamChunk> chunks = graph.stream(Map.of(), config, StreamMode.UPDATES, StreamMode.VALUES).collectList()
          .block(VERIFY);
      StreamChunk lastUpdate = only(chunks, StreamMode.UPDATES).get(only(chunks, StreamMode.UPDATES).size() - 1);
      assertEquals(Set.of("__interrupt__"), data(lastUpdate).keySet());
      Interrupt interrupt = (Interrupt) ((List<?>) data(lastUpdate).get("__interrupt__")).get(0);
      assertEquals("q", interrupt.value());
      assertEquals(graph.getState(config).block(VERIFY).interrupts().get(0).id(), interrupt.id());
    }
    @Test
    void tasksOfAGraphAreItsNodesOnly() {
      List<StreamChunk> chunks = graph().stream(Map.of("x", 0), config, StreamMode.TASKS).collectList().block(VERIFY);
      assertEquals(List.of("a", "a", "b", "b"), chunks.stream().map(chunk -> data(chunk).get("name")).toList());
    }
    @Test
    void debugTaskEventsCarryTheStepTheyProduce() {
      List<StreamChunk> chunks = graph().stream(Map.of("x", 0), config, StreamMode.DEBUG).collectList().block(VERIFY);
      Map<?, ?> taskA = chunks.stream().map(GraphBehaviourTest::data)
          .filter(d -> "task".equals(d.get("type")) && "a".equals(((Map<?, ?>) d.get("payload")).get("name")))
          .findFirst().orElseThrow();
      Map<?, ?> checkpointAfterA = chunks.stream().map(GraphBehaviourTest::data)
          .filter(d -> "checkpoint".equals(d.get("type"))
              && List.of("b").equals(((Map<?, ?>) d.get("payload")).get("next")))
          .findFirst().orElseThrow();
      assertEquals(checkpointAfterA.get("step"), taskA.get("step"));
    }
  }

  // ------------------------------------------------------------------------------------------ runs on a thread

  @Nested
  class RunsOnAThread {

    private final AtomicInteger counted = new AtomicInteger();

    private CompiledGraph<Map<String, Object>> graph() {
      return StateGraph.ofMap()
          .reducer("log", Reducers.append())
          .addNode("count", (state, context) -> Mono.just(Map.of("log", "count#" + counted.incrementAndGet(),
              "seen", ((List<?>) state.get("log")).size())))
          .setEntryPoint("count")
          .compile(CompileOptions.defaults().withCheckpointer(saver));
    }

    @Test
    void aNewInputContinuesFromThePreviousStateThroughTheReducers() {
      CompiledGraph<Map<String, Object>> graph = graph();
      assertEquals(Map.of("log", List.of("one", "count#1"), "topic", "t1", "seen", 1),
          graph.invoke(Map.of("log", "one", "topic", "t1"), config).block(VERIFY));
      assertEquals(Map.of("log", List.of("one", "count#1", "two", "count#2"), "topic", "t2", "seen", 3),
          graph.invoke(Map.of("log", "two", "topic", "t2"), config).block(VERIFY));
      // another thread starts empty
      assertEquals(Map.of("log", List.of("solo", "count#3"), "seen", 1),
          graph.invoke(Map.of("log", "solo"), RunConfig.thread(UUID.randomUUID().toString())).block(VERIFY));
    }

    @Test
    void stepNumbersKeepCountingAcrossRunsAndEachRunStartsWithAnInputCheckpoint() {
      CompiledGraph<Map<String, Object>> graph = graph();
      graph.invoke(Map.of("log", "one"), config).block(VERIFY);
      graph.invoke(Map.of("log", "two"), config).block(VERIFY);
      List<StateSnapshot> history = graph.getStateHistory(config).collectList().block(VERIFY);
      assertEquals(List.of("loop", "loop", "input", "loop", "loop", "input"),
          history.stream().map(snapshot -> snapshot.metadata().get("source")).toList());
      assertEquals(List.of(4, 3, 2, 1, 0, -1), history.stream().map(snapshot -> snapshot.metadata().get("step"))
          .toList());
      // the second input checkpoint still shows the state of the first run
      assertEquals(Map.of("log", List.of("one", "count#1"), "seen", 1), history.get(2).values());
    }

    @Test
    void anEmptyInputOnAFinishedThreadRerunsFromStartOnTheKeptState() {
      CompiledGraph<Map<String, Object>> graph = graph();
      graph.invoke(Map.of("log", "one"), config).block(VERIFY);
      assertEquals(Map.of("log", List.of("one", "count#1", "count#2"), "seen", 2),
          graph.invoke(Map.of(), config).block(VERIFY));
    }

    @Test
    void aNewInputAbandonsAPausedRunAndStartsOverFromStart() {
      AtomicInteger asked = new AtomicInteger();
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .reducer("log", Reducers.append())
          .addNode("first", (state, context) -> Mono.just(Map.of("log", "first")))
          .addNode("ask", (state, context) -> {
            asked.incrementAndGet();
            return context.interrupt("q", String.class).map(v -> Map.of("log", v));
          })
          .setEntryPoint("first")
          .addEdge("first", "ask")
          .compile(CompileOptions.defaults().withCheckpointer(saver));
      assertTrue(graph.run(Map.of("log", "in1"), config).block(VERIFY).interrupted());
      GraphOutput<Map<String, Object>> again = graph.run(Map.of("log", "in2"), config).block(VERIFY);
      assertTrue(again.interrupted());
      assertEquals(List.of("ask"), graph.getState(config).block(VERIFY).next());
      assertEquals(Map.of("log", List.of("in1", "first", "in2", "first", "answer")),
          graph.invoke(Command.resume("answer"), config).block(VERIFY));
      assertEquals(3, asked.get());
    }

    @Test
    void aRecordStateCarriesOverToo() {
      CompiledGraph<Tally> graph = StateGraph.of(Tally.class)
          .reducer("items", Reducers.append())
          .addNode("total", (state, context) -> Mono.just(Map.of("total", state.items().size())))
          .setEntryPoint("total")
          .compile(CompileOptions.defaults().withCheckpointer(saver));
      assertEquals(new Tally(List.of("a"), 1), graph.invoke(new Tally(List.of("a"), null), config).block(VERIFY));
      assertEquals(new Tally(List.of("a", "b", "c"), 3),
          graph.invoke(new Tally(List.of("b", "c"), null), config).block(VERIFY));
    }
  }

  record Tally(List<String> items, Integer total) {
  }

  // ------------------------------------------------------------------------------------------ time travel, updates

  @Test
  void updateStateAppliesReducersAndTimeTravelForksWithoutTouchingTheOldBranch() {
    AtomicInteger bRuns = new AtomicInteger();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("log", Reducers.append())
        .addNode("a", (state, context) -> Mono.just(Map.of("log", "a")))
        .addNode("b", (state, context) -> Mono.just(Map.of("log", "b#" + bRuns.incrementAndGet())))
        .setEntryPoint("a")
        .addEdge("a", "b")
        .compile(CompileOptions.defaults().withCheckpointer(saver).withInterruptBefore("b"));
    assertEquals(Map.of("log", List.of("a")), graph.invoke(Map.of(), config).block(VERIFY));
    RunConfig beforeB = graph.getState(config).block(VERIFY).config();
    graph.updateState(config, Map.of("log", "human"), null).block(VERIFY);
    StateSnapshot updated = graph.getState(config).block(VERIFY);
    assertEquals(List.of("a", "human"), ((Map<?, ?>) updated.values()).get("log"));
    assertEquals(List.of("b"), updated.next(), "asNode null keeps the next nodes");
    assertEquals(Map.of("log", List.of("a", "human", "b#1")), graph.invoke(Command.proceed(), config)
        .block(VERIFY));
    // travel back to before the update: b runs again on the old state, in a fork
    assertEquals(Map.of("log", List.of("a", "b#2")), graph.invoke(Command.proceed(), beforeB).block(VERIFY));
    List<StateSnapshot> history = graph.getStateHistory(config).collectList().block(VERIFY);
    assertTrue(history.stream().anyMatch(snapshot -> "fork".equals(snapshot.metadata().get("source"))));
    assertEquals(Map.of("log", List.of("a")), graph.getState(beforeB).block(VERIFY).values());
    assertTrue(history.stream().anyMatch(snapshot -> List.of("a", "human", "b#1")
        .equals(((Map<?, ?>) snapshot.values()).get("log"))), "the old branch is still in the history");
  }

  @Test
  void aNodeReturningNothingLeavesTheStateAsItIs() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("quiet", (state, context) -> Mono.empty())
        .addNode("loud", (state, context) -> Mono.just(Map.of("said", "hi")))
        .setEntryPoint("quiet")
        .addEdge("quiet", "loud")
        .compile();
    List<StreamChunk> chunks = graph.stream(Map.of("x", 1), RunConfig.none(), StreamMode.UPDATES, StreamMode.VALUES)
        .collectList().block(VERIFY);
    assertEquals(Map.of("x", 1, "said", "hi"), only(chunks, StreamMode.VALUES).get(2).data());
    assertEquals(Map.of("x", 1), only(chunks, StreamMode.VALUES).get(1).data());
    assertEquals(Set.of("quiet"), data(only(chunks, StreamMode.UPDATES).get(0)).keySet());
  }

  @Test
  void updateStateOnANewThreadAsANodeThenProceedRunsWhatFollowsIt() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Map.of("a", "ran")))
        .addNode("b", (state, context) -> Mono.just(Map.of("b", "saw " + state.get("seed"))))
        .setEntryPoint("a")
        .addEdge("a", "b")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    graph.updateState(config, Map.of("seed", 42), "a").block(VERIFY);
    StateSnapshot state = graph.getState(config).block(VERIFY);
    assertEquals(List.of("b"), state.next());
    assertEquals("update", state.metadata().get("source"));
    assertEquals(Map.of("seed", 42, "b", "saw 42"), graph.invoke(Command.proceed(), config).block(VERIFY));
  }

  @Test
  void aBreakpointInALoopStopsOnEveryPass() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("tick", (state, context) -> Mono.just(Map.of("n", (Integer) state.get("n") + 1)))
        .setEntryPoint("tick")
        .addConditionalEdges("tick", state -> Mono.just((Integer) state.get("n") < 3 ? "tick" : StateGraph.END))
        .compile(CompileOptions.defaults().withCheckpointer(saver).withInterruptBefore("tick"));
    assertEquals(Map.of("n", 0), graph.invoke(Map.of("n", 0), config).block(VERIFY));
    assertEquals(Map.of("n", 1), graph.invoke(Command.proceed(), config).block(VERIFY));
    assertEquals(Map.of("n", 2), graph.invoke(Command.proceed(), config).block(VERIFY));
    assertEquals(List.of("tick"), graph.getState(config).block(VERIFY).next());
    assertEquals(Map.of("n", 3), graph.invoke(Command.proceed(), config).block(VERIFY));
    assertTrue(graph.getState(config).block(VERIFY).next().isEmpty());
  }

  @Test
  void interruptAfterStopsOnceTheNodeRanAndItsUpdateIsInTheState() {
    AtomicInteger reviewRuns = new AtomicInteger();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("draft", (state, context) -> Mono.just(Map.of("text", "v1")))
        .addNode("review", (state, context) -> Mono.fromCallable(() -> Map.of("reviewed", reviewRuns
            .incrementAndGet())))
        .setEntryPoint("draft")
        .addEdge("draft", "review")
        .compile(CompileOptions.defaults().withCheckpointer(saver).withInterruptAfter("draft"));
    GraphOutput<Map<String, Object>> stopped = graph.run(Map.of(), config).block(VERIFY);
    assertFalse(stopped.interrupted());
    assertEquals(Map.of("text", "v1"), stopped.value());
    assertEquals(List.of("review"), graph.getState(config).block(VERIFY).next());
    assertEquals(0, reviewRuns.get());
    assertEquals(Map.of("text", "v1", "reviewed", 1), graph.invoke(Command.proceed(), config).block(VERIFY));
  }
  @Test
  void timeTravelToAnAnsweredInterruptAsksAgainAndTakesTheNewAnswer() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("prep", (state, context) -> Mono.just(Map.of("prep", true)))
        .addNode("ask", (state, context) -> context.interrupt("color?", String.class).map(v -> Map.of("color", v)))
        .setEntryPoint("prep")
        .addEdge("prep", "ask")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    graph.run(Map.of(), config).block(VERIFY);
    assertEquals("red", graph.invoke(Command.resume("red"), config).block(VERIFY).get("color"));
    StateSnapshot beforeAsk = graph.getStateHistory(config).filter(s -> s.next().equals(List.of("ask")))
        .blockFirst(VERIFY);
    assertEquals("blue", graph.invoke(Command.resume("blue"), beforeAsk.config()).block(VERIFY).get("color"));
    assertEquals("blue", ((Map<?, ?>) graph.getState(config).block(VERIFY).values()).get("color"));
  }

  @Test
  void aRecursionErrorLeavesTheLastSuperstepCheckpointed() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("spin", (state, context) -> Mono.just(Map.of("n", (Integer) state.get("n") + 1)))
        .setEntryPoint("spin")
        .addEdge("spin", "spin")
        .compile(CompileOptions.defaults().withCheckpointer(saver).withRecursionLimit(3));
    StepVerifier.create(graph.invoke(Map.of("n", 0), config))
        .expectError(dev.fluxgraph.errors.GraphRecursionException.class)
        .verify(VERIFY);
    StateSnapshot state = graph.getState(config).block(VERIFY);
    assertEquals(Map.of("n", 3), state.values());
    assertEquals(List.of("spin"), state.next());
  }

  // ------------------------------------------------------------------------------------------ cancel, demand

  @Test
  void cancellingTheStreamCancelsTheRunningNodeAndProceedFinishesTheRun() {
    AtomicInteger aRuns = new AtomicInteger();
    AtomicInteger bRuns = new AtomicInteger();
    AtomicBoolean bCancelled = new AtomicBoolean();
    Sinks.One<Map<String, Object>> never = Sinks.one();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.fromCallable(() -> Map.of("a", aRuns.incrementAndGet())))
        .addNode("b", (state, context) -> bRuns.incrementAndGet() == 1
            ? never.asMono().doOnCancel(() -> bCancelled.set(true))
            : Mono.just(Map.of("b", bRuns.get())))
        .setEntryPoint("a")
        .addEdge("a", "b")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    StepVerifier.create(graph.stream(Map.of(), config, StreamMode.UPDATES))
        .expectNext(new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("a", Map.of("a", 1))))
        .thenAwait(Duration.ofMillis(50))
        .thenCancel()
        .verify(VERIFY);
    assertTrue(bCancelled.get(), "the running node was cancelled");
    assertEquals(List.of("b"), graph.getState(config).block(VERIFY).next());
    assertEquals(Map.of("a", 1, "b", 2), graph.invoke(Command.proceed(), config).block(VERIFY));
    assertEquals(1, aRuns.get());
  }

  @ParameterizedTest
  @EnumSource(Durability.class)
  void cancellingLeavesTheThreadResumableInEveryDurabilityMode(Durability durability) {
    AtomicInteger aRuns = new AtomicInteger();
    AtomicInteger bRuns = new AtomicInteger();
    Sinks.One<Map<String, Object>> never = Sinks.one();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.fromCallable(() -> Map.of("a", aRuns.incrementAndGet())))
        .addNode("b", (state, context) -> bRuns.incrementAndGet() == 1 ? never.asMono()
            : Mono.just(Map.of("b", bRuns.get())))
        .setEntryPoint("a")
        .addEdge("a", "b")
        .compile(CompileOptions.defaults().withCheckpointer(saver).withDurability(durability));
    StepVerifier.create(graph.stream(Map.of(), config, StreamMode.UPDATES))
        .expectNextCount(1)
        .thenAwait(Duration.ofMillis(50))
        .thenCancel()
        .verify(VERIFY);
    assertEquals(Map.of("a", 1, "b", 2), graph.invoke(Command.proceed(), config).block(VERIFY));
    assertEquals(1, aRuns.get());
  }

  @Test
  void theStreamHonoursDemandOneChunkAtATime() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Map.of("a", 1)))
        .addNode("b", (state, context) -> Mono.just(Map.of("b", 2)))
        .addNode("c", (state, context) -> Mono.just(Map.of("c", 3)))
        .setEntryPoint("a")
        .addEdge("a", "b")
        .addEdge("b", "c")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    StepVerifier.create(graph.stream(Map.of(), config, StreamMode.UPDATES, StreamMode.VALUES), 0)
        .expectSubscription()
        .expectNoEvent(Duration.ofMillis(100))
        .thenRequest(1)
        .expectNext(new StreamChunk(StreamMode.VALUES, List.of(), Map.of()))
        .expectNoEvent(Duration.ofMillis(100))
        .thenRequest(1)
        .expectNext(new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("a", Map.of("a", 1))))
        .thenRequest(1)
        .expectNext(new StreamChunk(StreamMode.VALUES, List.of(), Map.of("a", 1)))
        .thenRequest(1)
        .expectNext(new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("b", Map.of("b", 2))))
        .thenRequest(1)
        .expectNext(new StreamChunk(StreamMode.VALUES, List.of(), Map.of("a", 1, "b", 2)))
        .thenRequest(1)
        .expectNext(new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("c", Map.of("c", 3))))
        .thenRequest(1)
        .expectNext(new StreamChunk(StreamMode.VALUES, List.of(), Map.of("a", 1, "b", 2, "c", 3)))
        .thenRequest(1)
        .expectComplete()
        .verify(VERIFY);
    assertEquals(Map.of("a", 1, "b", 2, "c", 3), graph.getState(config).block(VERIFY).values());
  }

  @Test
  void aStreamIsColdAndEachSubscriptionIsARun() {
    AtomicInteger runs = new AtomicInteger();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.fromCallable(() -> Map.of("a", runs.incrementAndGet())))
        .setEntryPoint("a")
        .compile();
    var stream = graph.stream(Map.of(), RunConfig.none(), StreamMode.VALUES);
    var invoke = graph.invoke(Map.of(), RunConfig.none());
    assertEquals(0, runs.get());
    assertEquals(Map.of("a", 1), stream.blockLast(VERIFY).data());
    assertEquals(Map.of("a", 2), stream.blockLast(VERIFY).data());
    assertEquals(Map.of("a", 3), invoke.block(VERIFY));
    assertFalse(runs.get() > 3);
  }
}
