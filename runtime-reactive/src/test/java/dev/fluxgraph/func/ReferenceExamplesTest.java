package dev.fluxgraph.func;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.cache.InMemoryCache;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.InvalidCommandException;
import dev.fluxgraph.errors.NodeTimeoutException;
import dev.fluxgraph.testing.TestClock;
import dev.fluxgraph.types.CachePolicy;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.Interrupt;
import dev.fluxgraph.types.RetryPolicy;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.TypeRef;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The runnable examples of the reference documents ({@code use-functional-api.md},
 * {@code functional-api-concepts.md}, {@code func-reference.md}) that need no real model, ported to Fluxgraph, with
 * the outputs the documents show (and, where the documents' sample output contradicts SEMANTICS.md, the order
 * SEMANTICS.md prescribes).
 */
class ReferenceExamplesTest {

  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final TypeRef<Map<String, Integer>> INT_MAP = new TypeRef<>() { };
  private static final TypeRef<Map<String, Object>> MAP = new TypeRef<>() { };
  private static final TypeRef<List<Integer>> INT_LIST = new TypeRef<>() { };
  private static final TypeRef<List<String>> STRING_LIST = new TypeRef<>() { };
  private static final TypeRef<List<Map<String, Object>>> MESSAGES = new TypeRef<>() { };

  private final InMemorySaver checkpointer = new InMemorySaver();
  private final RunConfig config = RunConfig.thread("thread-" + UUID.randomUUID());

  private static StreamChunk updates(String key, Object value) {
    return new StreamChunk(StreamMode.UPDATES, List.of(), Map.of(key, value));
  }

  private static StreamChunk custom(Object value) {
    return new StreamChunk(StreamMode.CUSTOM, List.of(), value);
  }

  /** The interrupts of a root {@code {"__interrupt__": [...]}} updates chunk; fails on any other chunk. */
  private static List<Interrupt> interruptsOf(StreamChunk chunk) {
    assertEquals(StreamMode.UPDATES, chunk.mode());
    assertEquals(List.of(), chunk.namespace());
    Map<?, ?> data = assertInstanceOf(Map.class, chunk.data());
    assertEquals(Set.of("__interrupt__"), data.keySet(), "a pause chunk has exactly the __interrupt__ key");
    List<?> raw = assertInstanceOf(List.class, data.get("__interrupt__"));
    List<Interrupt> interrupts = new ArrayList<>();
    for (Object item : raw) {
      interrupts.add(assertInstanceOf(Interrupt.class, item));
    }
    return interrupts;
  }

  // ------------------------------------------------------------------ simple workflow

  @Test
  void simpleWorkflowClassifiesSeven() {
    Task<Integer, Boolean> isEven = Task.of("is_even", Boolean.class, number -> Mono.just(number % 2 == 0));
    Task<Boolean, String> formatMessage = Task.of("format_message", String.class,
        even -> Mono.just(even ? "The number is even." : "The number is odd."));
    Entrypoint<Map<String, Integer>, String> workflow = Entrypoint.named("workflow").checkpointer(checkpointer)
        .define(INT_MAP, TypeRef.of(String.class),
            (inputs, context) -> isEven.call(inputs.get("number")).flatMap(formatMessage::call));

    StepVerifier.create(workflow.invoke(Map.of("number", 7), config))
        .expectNext("The number is odd.")
        .expectComplete()
        .verify(WAIT);
    StepVerifier.create(workflow.invoke(Map.of("number", 8), RunConfig.thread("other-" + UUID.randomUUID())))
        .expectNext("The number is even.")
        .expectComplete()
        .verify(WAIT);
  }

  @Test
  void composeEssayWithAFakeModel() {
    Task<String, String> composeEssay = Task.of("compose_essay", String.class,
        topic -> Mono.just("An essay about " + topic));
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(checkpointer)
        .define(String.class, String.class, (topic, context) -> composeEssay.call(topic));

    StepVerifier.create(workflow.invoke("the history of flight", config))
        .expectNext("An essay about the history of flight")
        .expectComplete()
        .verify(WAIT);
  }

  // ------------------------------------------------------------------ parallel execution

  @Test
  void parallelAddOneRunsAllTaskBodiesConcurrently() {
    List<Integer> numbers = List.of(1, 2, 3, 4, 5);
    CountDownLatch allStarted = new CountDownLatch(numbers.size());
    Task<Integer, Integer> addOne = Task.of("add_one", Integer.class, number -> Mono.fromCallable(() -> {
      allStarted.countDown();
      // Only returns if every body is running at the same time: a sequential engine would time out here.
      if (!allStarted.await(5, TimeUnit.SECONDS)) {
        throw new IllegalStateException("add_one(" + number + ") never saw its siblings start");
      }
      return number + 1;
    }).subscribeOn(Schedulers.boundedElastic()));
    Entrypoint<List<Integer>, List<Integer>> graph = Entrypoint.named("graph").checkpointer(checkpointer)
        .define(INT_LIST, INT_LIST,
            (input, context) -> Flux.fromIterable(input).flatMapSequential(addOne::call).collectList());

    StepVerifier.create(graph.invoke(numbers, config))
        .expectNext(List.of(2, 3, 4, 5, 6))
        .expectComplete()
        .verify(Duration.ofSeconds(10));
  }

  @Test
  void addOneTaskWithoutCheckpointerReturnsTwoThreeFour() {
    Task<Integer, Integer> addOneTask = Task.of("add_one_task", Integer.class, a -> Mono.just(a + 1));
    Entrypoint<List<Integer>, List<Integer>> addOne = Entrypoint.named("add_one")
        .define(INT_LIST, INT_LIST,
            (numbers, context) -> Flux.fromIterable(numbers).flatMapSequential(addOneTask::call).collectList());

    StepVerifier.create(addOne.invoke(List.of(1, 2, 3), RunConfig.none()))
        .expectNext(List.of(2, 3, 4))
        .expectComplete()
        .verify(WAIT);
  }

  @Test
  void parallelParagraphsAreJoinedInTopicOrderWhateverTheCompletionOrder() {
    List<String> topics = List.of("quantum computing", "climate change", "history of aviation");
    // Each topic's fake model call finishes only after the next topic's: completion order is the reverse.
    Map<String, Sinks.Empty<Void>> finished = new ConcurrentHashMap<>();
    topics.forEach(topic -> finished.put(topic, Sinks.empty()));
    List<String> completionOrder = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger modelCalls = new AtomicInteger();
    Task<String, String> generateParagraph = Task.of("generate_paragraph", String.class, topic -> {
      int index = topics.indexOf(topic);
      Mono<Void> after = index == topics.size() - 1 ? Mono.empty() : finished.get(topics.get(index + 1)).asMono();
      return after
          .then(Mono.fromCallable(() -> {
            modelCalls.incrementAndGet();
            return "A paragraph about " + topic + ".";
          }).subscribeOn(Schedulers.boundedElastic()))
          .doOnNext(paragraph -> {
            completionOrder.add(topic);
            finished.get(topic).tryEmitEmpty();
          });
    });
    Entrypoint<List<String>, String> workflow = Entrypoint.named("workflow").checkpointer(checkpointer)
        .define(STRING_LIST, TypeRef.of(String.class), (input, context) -> Flux.fromIterable(input)
            .flatMapSequential(generateParagraph::call)
            .collectList()
            .map(paragraphs -> String.join("\n\n", paragraphs)));

    StepVerifier.create(workflow.invoke(topics, config))
        .expectNext("A paragraph about quantum computing.\n\n"
            + "A paragraph about climate change.\n\n"
            + "A paragraph about history of aviation.")
        .expectComplete()
        .verify(WAIT);
    assertEquals(List.of("history of aviation", "climate change", "quantum computing"), completionOrder);
    assertEquals(3, modelCalls.get());
  }

  // ------------------------------------------------------------------ calling other entrypoints

  @Test
  void mainCallsMultiplyAndReturnsProduct42() {
    Entrypoint<Map<String, Integer>, Integer> multiply = Entrypoint.named("multiply")
        .define(INT_MAP, TypeRef.of(Integer.class), (inputs, context) -> Mono.just(inputs.get("a") * inputs.get("b")));
    Entrypoint<Map<String, Integer>, Map<String, Integer>> main = Entrypoint.named("main").checkpointer(checkpointer)
        .define(INT_MAP, INT_MAP, (inputs, context) ->
            multiply.invoke(Map.of("a", inputs.get("x"), "b", inputs.get("y")))
                .map(result -> Map.of("product", result)));

    StepVerifier.create(main.invoke(Map.of("x", 6, "y", 7), config))
        .expectNext(Map.of("product", 42))
        .expectComplete()
        .verify(WAIT);
  }

  @Test
  void someOtherWorkflowReturnsItsValue() {
    Entrypoint<Map<String, Integer>, Integer> someOtherWorkflow = Entrypoint.named("some_other_workflow")
        .define(INT_MAP, TypeRef.of(Integer.class), (inputs, context) -> Mono.just(inputs.get("value")));
    Entrypoint<Map<String, Integer>, Integer> myWorkflow = Entrypoint.named("my_workflow").checkpointer(checkpointer)
        .define(INT_MAP, TypeRef.of(Integer.class),
            (inputs, context) -> someOtherWorkflow.invoke(Map.of("value", 1)));

    StepVerifier.create(myWorkflow.invoke(Map.of("value", 1, "another_value", 2), config))
        .expectNext(1)
        .expectComplete()
        .verify(WAIT);
  }

  @Test
  void finishedNestedEntrypointIsNotRunAgainWhenTheParentResumes() {
    AtomicInteger multiplyRuns = new AtomicInteger();
    Entrypoint<Map<String, Integer>, Integer> multiply = Entrypoint.named("multiply")
        .define(INT_MAP, TypeRef.of(Integer.class), (inputs, context) -> Mono.fromSupplier(() -> {
          multiplyRuns.incrementAndGet();
          return inputs.get("a") * inputs.get("b");
        }));
    Entrypoint<Map<String, Integer>, Map<String, Object>> main = Entrypoint.named("main").checkpointer(checkpointer)
        .define(INT_MAP, MAP, (inputs, context) ->
            multiply.invoke(Map.of("a", inputs.get("x"), "b", inputs.get("y")))
                .flatMap(product -> context.interrupt("ok to report " + product + "?", String.class)
                    .map(answer -> Map.<String, Object>of("product", product, "answer", answer))));

    StepVerifier.create(main.run(Map.of("x", 6, "y", 7), config))
        .assertNext(output -> {
          assertTrue(output.interrupted());
          assertEquals("ok to report 42?", output.interrupts().get(0).value());
        })
        .expectComplete()
        .verify(WAIT);
    StepVerifier.create(main.invoke(Command.resume("yes"), config))
        .expectNext(Map.of("product", 42, "answer", "yes"))
        .expectComplete()
        .verify(WAIT);
    assertEquals(1, multiplyRuns.get(), "SEMANTICS §6: a resumed parent does not re-run a finished child");
  }

  @Test
  void interruptInsideANestedEntrypointPausesTheParentAndResumesIntoTheChild() {
    AtomicInteger prepareRuns = new AtomicInteger();
    Task<Integer, Integer> prepare = Task.of("prepare", Integer.class, x -> Mono.fromSupplier(() -> {
      prepareRuns.incrementAndGet();
      return x + 1;
    }));
    Entrypoint<Integer, String> approve = Entrypoint.named("approve")
        .define(Integer.class, String.class, (x, context) -> prepare.call(x)
            .flatMap(prepared -> context.interrupt("approve " + prepared + "?", String.class)
                .map(answer -> answer + " to " + prepared)));
    Entrypoint<Integer, String> parent = Entrypoint.named("parent").checkpointer(checkpointer)
        .define(Integer.class, String.class, (x, context) -> approve.invoke(x).map(result -> "parent got " + result));

    StepVerifier.create(parent.run(1, config))
        .assertNext(output -> {
          assertEquals(1, output.interrupts().size());
          assertEquals("approve 2?", output.interrupts().get(0).value());
        })
        .expectComplete()
        .verify(WAIT);
    StepVerifier.create(parent.invoke(Command.resume("yes"), config))
        .expectNext("parent got yes to 2")
        .expectComplete()
        .verify(WAIT);
    assertEquals(1, prepareRuns.get());
  }

  // ------------------------------------------------------------------ streaming

  @Test
  void streamingCustomAndUpdatesInProgramOrder() {
    Task<Integer, Integer> addOne = Task.of("add_one", Integer.class, x -> Mono.just(x + 1));
    Task<Integer, Integer> addTwo = Task.of("add_two", Integer.class, x -> Mono.just(x + 2));
    Entrypoint<Map<String, Integer>, Integer> main = Entrypoint.named("main").checkpointer(checkpointer)
        .define(INT_MAP, TypeRef.of(Integer.class), (inputs, context) ->
            context.writer().write("hello")
                .then(addOne.call(inputs.get("number")))
                .then(Mono.fromRunnable(() -> context.writer().emit("world")))
                .then(addTwo.call(inputs.get("number")))
                .thenReturn(5));

    StepVerifier.create(main.stream(Map.of("number", 1), RunConfig.thread("1-" + UUID.randomUUID()),
            StreamMode.CUSTOM, StreamMode.UPDATES))
        .expectNext(custom("hello"))
        .expectNext(updates("add_one", 2))
        .expectNext(custom("world"))
        .expectNext(updates("add_two", 3))
        .expectNext(updates("main", 5))
        .expectComplete()
        .verify(WAIT);
  }

  @Test
  void streamingWithGetStreamWriterInTheEntrypoint() {
    Entrypoint<Map<String, Integer>, Integer> main = Entrypoint.named("main").checkpointer(checkpointer)
        .define(INT_MAP, TypeRef.of(Integer.class), (inputs, context) -> Mono.defer(() -> {
          StreamWriter writer = context.writer();
          writer.emit("Started processing");
          int result = inputs.get("x") * 2;
          writer.emit("Result is " + result);
          return Mono.just(result);
        }));

    StepVerifier.create(main.stream(Map.of("x", 5), RunConfig.thread("abc-" + UUID.randomUUID()),
            StreamMode.CUSTOM, StreamMode.UPDATES))
        .expectNext(custom("Started processing"))
        .expectNext(custom("Result is 10"))
        .expectNext(updates("main", 10))
        .expectComplete()
        .verify(WAIT);
  }

  // ------------------------------------------------------------------ retry and timeouts

  @Test
  void retryPolicyRetriesGetInfoOnceAndReturnsOk() {
    VirtualTimeScheduler clock = VirtualTimeScheduler.create();
    AtomicInteger attempts = new AtomicInteger();
    Task<Void, String> getInfo = Task.<Void, String>of("get_info", String.class, ignored -> Mono.fromCallable(() -> {
      if (attempts.incrementAndGet() < 2) {
        throw new IllegalArgumentException("Failure");
      }
      return "OK";
    })).withRetry(RetryPolicy.retryOn(IllegalArgumentException.class).withJitter(false));
    Entrypoint<Map<String, Object>, String> main = Entrypoint.named("main").checkpointer(checkpointer)
        .scheduler(clock)
        .define(MAP, TypeRef.of(String.class), (inputs, context) -> getInfo.call());

    StepVerifier.withVirtualTime(() -> main.invoke(Map.of("any_input", "foobar"), config), () -> clock,
            Long.MAX_VALUE)
        .expectSubscription()
        .expectNoEvent(Duration.ofMillis(499)) // default initial interval: 500 ms before the 2nd attempt
        .thenAwait(Duration.ofMillis(1))
        .expectNext("OK")
        .expectComplete()
        .verify(WAIT);
    assertEquals(2, attempts.get());
  }

  @Test
  void defaultRetryPolicyDoesNotRetryIllegalArgumentException() {
    AtomicInteger attempts = new AtomicInteger();
    Task<Void, String> getInfo = Task.<Void, String>of("get_info", String.class, ignored -> Mono.fromCallable(() -> {
      if (attempts.incrementAndGet() < 2) {
        throw new IllegalArgumentException("Failure");
      }
      return "OK";
    })).withRetry(RetryPolicy.defaults());
    Entrypoint<Map<String, Object>, String> main = Entrypoint.named("main").checkpointer(checkpointer)
        .define(MAP, TypeRef.of(String.class), (inputs, context) -> getInfo.call());

    StepVerifier.create(main.invoke(Map.of("any_input", "foobar"), config))
        .expectErrorSatisfies(error -> {
          assertInstanceOf(IllegalArgumentException.class, error);
          assertEquals("Failure", error.getMessage());
        })
        .verify(WAIT);
    assertEquals(1, attempts.get(), "DEFAULT_RETRY_ON excludes IllegalArgumentException");
  }

  @Test
  void taskTimeoutIsRetriedPerAttemptThenRaisesNodeTimeoutException() {
    VirtualTimeScheduler clock = VirtualTimeScheduler.create();
    AtomicInteger attempts = new AtomicInteger();
    Task<String, String> callApi = Task.<String, String>of("call_api", String.class, url -> Mono.defer(() -> {
      attempts.incrementAndGet();
      return Mono.delay(Duration.ofSeconds(2), clock).thenReturn("result from " + url);
    })).withTimeout(Duration.ofSeconds(1))
        .withRetry(RetryPolicy.retryOn(NodeTimeoutException.class).withJitter(false));
    Entrypoint<Map<String, String>, String> workflow = Entrypoint.named("workflow").timeout(Duration.ofSeconds(5))
        .scheduler(clock)
        .define(new TypeRef<Map<String, String>>() { }, TypeRef.of(String.class),
            (inputs, context) -> callApi.call(inputs.get("url")));

    // attempt 1: 0-1 s, wait 0.5 s, attempt 2: 1.5-2.5 s, wait 1 s, attempt 3: 3.5-4.5 s, then give up.
    StepVerifier.withVirtualTime(() -> workflow.invoke(Map.of("url", "https://example.com"), RunConfig.none()),
            () -> clock, Long.MAX_VALUE)
        .expectSubscription()
        .expectNoEvent(Duration.ofMillis(4499))
        .thenAwait(Duration.ofMillis(1))
        .expectErrorSatisfies(error -> {
          NodeTimeoutException timeout = assertInstanceOf(NodeTimeoutException.class, error);
          assertEquals("call_api", timeout.node());
          assertEquals(Duration.ofSeconds(1), timeout.timeout());
          assertTrue(timeout.getMessage().contains("call_api"), timeout.getMessage());
        })
        .verify(WAIT);
    assertEquals(3, attempts.get());
  }

  @Test
  void entrypointTimeoutBoundsTheWholeBody() {
    VirtualTimeScheduler clock = VirtualTimeScheduler.create();
    Task<String, String> slow = Task.of("slow", String.class,
        x -> Mono.delay(Duration.ofSeconds(10), clock).thenReturn(x));
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").timeout(Duration.ofSeconds(5))
        .scheduler(clock)
        .define(String.class, String.class, (x, context) -> slow.call(x));

    StepVerifier.withVirtualTime(() -> workflow.invoke("x", RunConfig.none()), () -> clock, Long.MAX_VALUE)
        .expectSubscription()
        .expectNoEvent(Duration.ofMillis(4999))
        .thenAwait(Duration.ofMillis(1))
        .expectErrorSatisfies(error -> {
          NodeTimeoutException timeout = assertInstanceOf(NodeTimeoutException.class, error);
          assertEquals("workflow", timeout.node());
          assertEquals(Duration.ofSeconds(5), timeout.timeout());
        })
        .verify(WAIT);
  }

  // ------------------------------------------------------------------ caching

  @Test
  void slowAddIsCachedOnTheSecondCall() {
    AtomicInteger runs = new AtomicInteger();
    Task<Integer, Integer> slowAdd = Task.<Integer, Integer>of("slow_add", Integer.class, x -> Mono.fromSupplier(() -> {
      runs.incrementAndGet();
      return x * 2;
    })).withCache(CachePolicy.ttl(Duration.ofSeconds(120)));
    Entrypoint<Map<String, Integer>, Map<String, Integer>> main = Entrypoint.named("main").cache(new InMemoryCache())
        .define(INT_MAP, INT_MAP, (inputs, context) -> slowAdd.call(inputs.get("x"))
            .flatMap(result1 -> slowAdd.call(inputs.get("x"))
                .map(result2 -> Map.of("result1", result1, "result2", result2))));

    StepVerifier.create(main.stream(Map.of("x", 5), RunConfig.none(), StreamMode.UPDATES))
        .expectNext(updates("slow_add", 10))
        .expectNext(new StreamChunk(StreamMode.UPDATES, List.of(),
            Map.of("slow_add", 10, "__metadata__", Map.of("cached", true))))
        .expectNext(updates("main", Map.of("result1", 10, "result2", 10)))
        .expectComplete()
        .verify(WAIT);
    assertEquals(1, runs.get(), "the second call is a cache hit");
  }

  @Test
  void slowAddCacheHitsAcrossRunsUntilTheTtlExpiresOrTheCacheIsCleared() {
    TestClock clock = new TestClock();
    InMemoryCache cache = new InMemoryCache(clock);
    AtomicInteger runs = new AtomicInteger();
    Task<Integer, Integer> slowAdd = Task.<Integer, Integer>of("slow_add", Integer.class, x -> Mono.fromSupplier(() -> {
      runs.incrementAndGet();
      return x * 2;
    })).withCache(CachePolicy.ttl(Duration.ofSeconds(120)));
    Entrypoint<Map<String, Integer>, Map<String, Integer>> main = Entrypoint.named("main").cache(cache)
        .checkpointer(checkpointer)
        .define(INT_MAP, INT_MAP, (inputs, context) -> slowAdd.call(inputs.get("x"))
            .flatMap(result1 -> slowAdd.call(inputs.get("x"))
                .map(result2 -> Map.of("result1", result1, "result2", result2))));
    StreamChunk cachedChunk = new StreamChunk(StreamMode.UPDATES, List.of(),
        Map.of("slow_add", 10, "__metadata__", Map.of("cached", true)));

    StepVerifier.create(main.invoke(Map.of("x", 5), config)).expectNextCount(1).expectComplete().verify(WAIT);
    assertEquals(1, runs.get());

    // another thread, within the ttl: both calls are hits
    StepVerifier.create(main.stream(Map.of("x", 5), RunConfig.thread("second-" + UUID.randomUUID())))
        .expectNext(cachedChunk, cachedChunk)
        .expectNext(updates("main", Map.of("result1", 10, "result2", 10)))
        .expectComplete()
        .verify(WAIT);
    assertEquals(1, runs.get());

    // after the ttl, the body runs again (once: the second call hits the fresh entry)
    clock.advance(Duration.ofSeconds(121));
    StepVerifier.create(main.stream(Map.of("x", 5), RunConfig.thread("third-" + UUID.randomUUID())))
        .expectNext(updates("slow_add", 10), cachedChunk)
        .expectNext(updates("main", Map.of("result1", 10, "result2", 10)))
        .expectComplete()
        .verify(WAIT);
    assertEquals(2, runs.get());

    // clearCache empties it
    StepVerifier.create(slowAdd.clearCache(cache)).expectComplete().verify(WAIT);
    StepVerifier.create(main.invoke(Map.of("x", 5), RunConfig.thread("fourth-" + UUID.randomUUID())))
        .expectNextCount(1).expectComplete().verify(WAIT);
    assertEquals(3, runs.get());
  }

  // ------------------------------------------------------------------ resuming after an error

  @Test
  void resumingAfterAnErrorDoesNotRunSlowTaskAgain() {
    AtomicInteger getInfoAttempts = new AtomicInteger();
    AtomicInteger slowTaskRuns = new AtomicInteger();
    Task<Void, String> getInfo = Task.of("get_info", String.class, ignored -> Mono.fromCallable(() -> {
      if (getInfoAttempts.incrementAndGet() < 2) {
        throw new IllegalArgumentException("Failure");
      }
      return "OK";
    }));
    Task<Void, String> slowTask = Task.of("slow_task", String.class, ignored -> Mono.fromSupplier(() -> {
      slowTaskRuns.incrementAndGet();
      return "Ran slow task.";
    }));
    Entrypoint<Map<String, Object>, String> main = Entrypoint.named("main").checkpointer(checkpointer)
        .define(MAP, TypeRef.of(String.class), (inputs, context) ->
            slowTask.call().flatMap(slowTaskResult -> getInfo.call().thenReturn(slowTaskResult)));

    StepVerifier.create(main.invoke(Map.of("any_input", "foobar"), config))
        .expectErrorSatisfies(error -> {
          assertInstanceOf(IllegalArgumentException.class, error);
          assertEquals("Failure", error.getMessage());
        })
        .verify(WAIT);
    assertEquals(1, slowTaskRuns.get());

    StepVerifier.create(main.invoke(Command.proceed(), config))
        .expectNext("Ran slow task.")
        .expectComplete()
        .verify(WAIT);
    assertEquals(1, slowTaskRuns.get(), "slow_task's result is replayed from the checkpoint");
    assertEquals(2, getInfoAttempts.get(), "the failed task runs again");
  }

  @Test
  void streamedResumeAfterAnErrorEmitsNoChunkForTheReplayedTask() {
    AtomicInteger getInfoAttempts = new AtomicInteger();
    AtomicInteger slowTaskRuns = new AtomicInteger();
    Task<Void, String> getInfo = Task.of("get_info", String.class, ignored -> Mono.fromCallable(() -> {
      if (getInfoAttempts.incrementAndGet() < 2) {
        throw new IllegalArgumentException("Failure");
      }
      return "OK";
    }));
    Task<Void, String> slowTask = Task.of("slow_task", String.class, ignored -> Mono.fromSupplier(() -> {
      slowTaskRuns.incrementAndGet();
      return "Ran slow task.";
    }));
    Entrypoint<Map<String, Object>, String> main = Entrypoint.named("main").checkpointer(checkpointer)
        .define(MAP, TypeRef.of(String.class), (inputs, context) ->
            slowTask.call().flatMap(slowTaskResult -> getInfo.call().thenReturn(slowTaskResult)));

    StepVerifier.create(main.stream(Map.of("any_input", "foobar"), config))
        .expectNext(updates("slow_task", "Ran slow task."))
        .expectError(IllegalArgumentException.class)
        .verify(WAIT);
    StepVerifier.create(main.stream(Command.proceed(), config))
        .expectNext(updates("get_info", "OK"))
        .expectNext(updates("main", "Ran slow task."))
        .expectComplete()
        .verify(WAIT);
    assertEquals(1, slowTaskRuns.get());
  }

  // ------------------------------------------------------------------ human-in-the-loop

  @Test
  void basicHumanInTheLoopPausesAfterStepOneAndResumesWithFeedback() {
    AtomicInteger step1Runs = new AtomicInteger();
    AtomicInteger step3Runs = new AtomicInteger();
    Task<String, String> step1 = Task.of("step_1", String.class, query -> Mono.fromSupplier(() -> {
      step1Runs.incrementAndGet();
      return query + " bar";
    }));
    Task<String, String> humanFeedback = Task.of("human_feedback", String.class, (query, context) ->
        context.interrupt("Please provide feedback: " + query, String.class)
            .map(feedback -> query + " " + feedback));
    Task<String, String> step3 = Task.of("step_3", String.class, query -> Mono.fromSupplier(() -> {
      step3Runs.incrementAndGet();
      return query + " qux";
    }));
    Entrypoint<String, String> graph = Entrypoint.named("graph").checkpointer(checkpointer)
        .define(String.class, String.class, (query, context) ->
            step1.call(query).flatMap(humanFeedback::call).flatMap(step3::call));

    AtomicReference<String> interruptId = new AtomicReference<>();
    StepVerifier.create(graph.stream("foo", config))
        .expectNext(updates("step_1", "foo bar"))
        .assertNext(chunk -> {
          List<Interrupt> interrupts = interruptsOf(chunk);
          assertEquals(1, interrupts.size());
          assertEquals("Please provide feedback: foo bar", interrupts.get(0).value());
          assertFalse(interrupts.get(0).id().isBlank());
          interruptId.set(interrupts.get(0).id());
        })
        .expectComplete()
        .verify(WAIT);
    assertEquals(0, step3Runs.get());

    StepVerifier.create(graph.getState(config))
        .assertNext(state -> {
          assertEquals(List.of("graph"), state.next());
          assertEquals(List.of(interruptId.get()), state.interrupts().stream().map(Interrupt::id).toList());
        })
        .expectComplete()
        .verify(WAIT);

    StepVerifier.create(graph.stream(Command.resume("baz"), config))
        .expectNext(updates("human_feedback", "foo bar baz"))
        .expectNext(updates("step_3", "foo bar baz qux"))
        .expectNext(updates("graph", "foo bar baz qux"))
        .expectComplete()
        .verify(WAIT);
    assertEquals(1, step1Runs.get(), "step_1 is persisted and not run again after the interrupt");
    assertEquals(1, step3Runs.get());
  }

  @Test
  void reviewWorkflowInterruptsInTheEntrypointAndDoesNotRecomposeTheEssay() {
    AtomicInteger composeRuns = new AtomicInteger();
    Task<String, String> composeEssay = Task.of("compose_essay", String.class, topic -> Mono.fromSupplier(() -> {
      composeRuns.incrementAndGet();
      return "An essay about " + topic;
    }));
    Entrypoint<String, Map<String, Object>> reviewWorkflow = Entrypoint.named("review_workflow")
        .checkpointer(checkpointer)
        .define(TypeRef.of(String.class), MAP, (topic, context) -> composeEssay.call(topic)
            .flatMap(essay -> context.interrupt(Map.of("question", "Please provide a review", "essay", essay),
                    String.class)
                .map(humanReview -> Map.<String, Object>of("essay", essay, "review", humanReview))));
    RunConfig someThread = RunConfig.thread("some_thread-" + UUID.randomUUID());

    StepVerifier.create(reviewWorkflow.stream("cats", someThread))
        .expectNext(updates("compose_essay", "An essay about cats"))
        .assertNext(chunk -> {
          List<Interrupt> interrupts = interruptsOf(chunk);
          assertEquals(1, interrupts.size());
          assertEquals(Map.of("question", "Please provide a review", "essay", "An essay about cats"),
              interrupts.get(0).value());
        })
        .expectComplete()
        .verify(WAIT);

    StepVerifier.create(reviewWorkflow.stream(Command.resume("This essay is great."), someThread))
        .expectNext(updates("review_workflow", Map.of("essay", "An essay about cats", "review", "This essay is great.")))
        .expectComplete()
        .verify(WAIT);
    assertEquals(1, composeRuns.get(), "compose_essay is replayed from the checkpoint on resume");
  }

  @Test
  void writeEssayWorkflowFromTheConceptsPage() {
    AtomicInteger writeRuns = new AtomicInteger();
    Task<String, String> writeEssay = Task.of("write_essay", String.class, topic -> Mono.fromSupplier(() -> {
      writeRuns.incrementAndGet();
      return "An essay about topic: " + topic;
    }));
    Entrypoint<String, Map<String, Object>> workflow = Entrypoint.named("workflow").checkpointer(checkpointer)
        .define(TypeRef.of(String.class), MAP, (topic, context) -> writeEssay.call("cat")
            .flatMap(essay -> Interrupts.interrupt(
                    Map.of("essay", essay, "action", "Please approve/reject the essay"), Boolean.class)
                .map(isApproved -> Map.<String, Object>of("essay", essay, "is_approved", isApproved))));

    StepVerifier.create(workflow.stream("cat", config))
        .expectNext(updates("write_essay", "An essay about topic: cat"))
        .assertNext(chunk -> assertEquals(
            Map.of("essay", "An essay about topic: cat", "action", "Please approve/reject the essay"),
            interruptsOf(chunk).get(0).value()))
        .expectComplete()
        .verify(WAIT);
    StepVerifier.create(workflow.stream(Command.resume(true), config))
        .expectNext(updates("workflow", Map.of("essay", "An essay about topic: cat", "is_approved", true)))
        .expectComplete()
        .verify(WAIT);
    assertEquals(1, writeRuns.get());
  }

  // ------------------------------------------------------------------ previous and Final

  @Test
  void accumulateWithFinalReturnsPreviousAndSavesTotal() {
    Entrypoint<Integer, Integer> accumulate = Entrypoint.named("accumulate").checkpointer(checkpointer)
        .defineFinal(Integer.class, Integer.class, Integer.class, (n, context) -> {
          int previous = context.previous().orElse(0);
          int total = previous + n;
          return Mono.just(Final.of(previous, total));
        });
    RunConfig myThread = RunConfig.thread("my-thread-" + UUID.randomUUID());

    StepVerifier.create(accumulate.invoke(1, myThread)).expectNext(0).expectComplete().verify(WAIT);
    StepVerifier.create(accumulate.invoke(2, myThread)).expectNext(1).expectComplete().verify(WAIT);
    StepVerifier.create(accumulate.invoke(3, myThread)).expectNext(3).expectComplete().verify(WAIT);
  }

  @Test
  void finalSavesTwiceTheNumber() {
    Entrypoint<Integer, Integer> myWorkflow = Entrypoint.named("my_workflow").checkpointer(checkpointer)
        .defineFinal(Integer.class, Integer.class, Integer.class,
            (number, context) -> Mono.just(Final.of(context.previous().orElse(0), 2 * number)));

    StepVerifier.create(myWorkflow.invoke(3, config)).expectNext(0).expectComplete().verify(WAIT);
    StepVerifier.create(myWorkflow.invoke(1, config)).expectNext(6).expectComplete().verify(WAIT);
  }

  @Test
  void previousIsTheLastReturnValueOnTheThread() {
    Entrypoint<Integer, Integer> myWorkflow = Entrypoint.named("my_workflow").checkpointer(checkpointer)
        .define(Integer.class, Integer.class,
            (number, context) -> Mono.just(number + context.previous().orElse(0)));

    StepVerifier.create(myWorkflow.invoke(1, config)).expectNext(1).expectComplete().verify(WAIT);
    StepVerifier.create(myWorkflow.invoke(2, config)).expectNext(3).expectComplete().verify(WAIT);
    // another thread starts from scratch
    StepVerifier.create(myWorkflow.invoke(2, RunConfig.thread("fresh-" + UUID.randomUUID())))
        .expectNext(2).expectComplete().verify(WAIT);
  }

  @Test
  void previousIsAlwaysEmptyWithoutCheckpointer() {
    AtomicReference<Boolean> sawPrevious = new AtomicReference<>(false);
    Entrypoint<Integer, Integer> myWorkflow = Entrypoint.named("my_workflow")
        .define(Integer.class, Integer.class, (number, context) -> {
          context.previous().ifPresent(p -> sawPrevious.set(true));
          return Mono.just(number + context.previous().orElse(0));
        });

    StepVerifier.create(myWorkflow.invoke(1, RunConfig.none())).expectNext(1).expectComplete().verify(WAIT);
    StepVerifier.create(myWorkflow.invoke(2, RunConfig.none())).expectNext(2).expectComplete().verify(WAIT);
    assertFalse(sawPrevious.get());
  }

  @Test
  void previousExampleReturnsWorld() {
    Entrypoint<String, String> myWorkflow = Entrypoint.named("my_workflow").checkpointer(checkpointer)
        .define(String.class, String.class, (inputData, context) -> Mono.just("world"));

    StepVerifier.create(myWorkflow.invoke("hello", config)).expectNext("world").expectComplete().verify(WAIT);
    StepVerifier.create(myWorkflow.getState(config))
        .assertNext(state -> assertEquals("world", state.values()))
        .expectComplete()
        .verify(WAIT);
  }

  // ------------------------------------------------------------------ review tool calls

  private static final Map<String, Object> WEATHER_CALL = toolCall("call_1", "get_weather", "city", "San Francisco");
  private static final Map<String, Object> TIME_CALL = toolCall("call_2", "get_time", "tz", "pst");
  private static final Map<String, Object> NEWS_CALL = toolCall("call_3", "get_news", "topic", "sports");

  private static Map<String, Object> toolCall(String id, String name, String argName, Object argValue) {
    return Map.of("id", id, "name", name, "args", Map.of(argName, argValue));
  }

  private static Map<String, Object> user(String content) {
    return Map.of("role", "user", "content", content);
  }

  private static Map<String, Object> ai(String content, List<Map<String, Object>> toolCalls) {
    return Map.of("role", "ai", "content", content, "tool_calls", toolCalls);
  }

  private static List<Map<String, Object>> toolCallsOf(Map<String, Object> message) {
    Object calls = message.get("tool_calls");
    List<Map<String, Object>> result = new ArrayList<>();
    if (calls instanceof List<?> list) {
      for (Object call : list) {
        Map<String, Object> copy = new LinkedHashMap<>();
        ((Map<?, ?>) call).forEach((key, value) -> copy.put(String.valueOf(key), value));
        result.add(copy);
      }
    }
    return result;
  }

  private static List<Map<String, Object>> plus(List<Map<String, Object>> messages, List<Map<String, Object>> more) {
    List<Map<String, Object>> all = new ArrayList<>(messages);
    all.addAll(more);
    return List.copyOf(all);
  }

  /** A deterministic stand-in for the chat model of the review-tool-calls guide. */
  private static Map<String, Object> fakeModel(List<Map<String, Object>> messages) {
    Map<String, Object> last = messages.get(messages.size() - 1);
    if ("user".equals(last.get("role"))) {
      return String.valueOf(last.get("content")).contains("weather")
          ? ai("", List.of(WEATHER_CALL, TIME_CALL, NEWS_CALL))
          : ai("You're welcome!", List.of());
    }
    List<String> toolContents = new ArrayList<>();
    for (int i = messages.size() - 1; i >= 0 && "tool".equals(messages.get(i).get("role")); i--) {
      toolContents.add(0, String.valueOf(messages.get(i).get("content")));
    }
    return ai("Summary: " + String.join("; ", toolContents), List.of());
  }

  private static Map<String, Object> runTool(Map<String, Object> toolCall) {
    Map<?, ?> args = (Map<?, ?>) toolCall.get("args");
    String rendered = args.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
        .collect(Collectors.joining(","));
    return Map.of("role", "tool", "tool_call_id", toolCall.get("id"), "name", toolCall.get("name"),
        "content", toolCall.get("name") + "(" + rendered + ")");
  }

  /** {@code review_tool_call} of the guide: continue, update or feedback. */
  private static Mono<Map<String, Object>> reviewToolCall(TaskContext context, Map<String, Object> toolCall) {
    return context.interrupt(Map.of("question", "Is this correct?", "tool_call", toolCall), MAP)
        .map(humanReview -> {
          Object action = humanReview.get("action");
          Object data = humanReview.get("data");
          if ("continue".equals(action)) {
            return toolCall;
          }
          if ("update".equals(action)) {
            Map<String, Object> updated = new LinkedHashMap<>(toolCall);
            updated.put("args", data);
            return updated;
          }
          return Map.of("role", "tool", "content", String.valueOf(data), "name", toolCall.get("name"),
              "tool_call_id", toolCall.get("id"));
        });
  }

  private final AtomicInteger modelCalls = new AtomicInteger();
  private final AtomicReference<List<Map<String, Object>>> modelSaw = new AtomicReference<>();
  private final List<String> toolRuns = Collections.synchronizedList(new ArrayList<>());

  private final Task<List<Map<String, Object>>, Map<String, Object>> callModel = Task.of("call_model", MAP,
      messages -> Mono.fromSupplier(() -> {
        modelCalls.incrementAndGet();
        modelSaw.set(messages);
        return fakeModel(messages);
      }));
  private final Task<Map<String, Object>, Map<String, Object>> callTool = Task.of("call_tool", MAP,
      toolCall -> Mono.fromSupplier(() -> {
        Map<String, Object> result = runTool(toolCall);
        toolRuns.add(String.valueOf(result.get("content")));
        return result;
      }));
  private final Task<Map<String, Object>, Map<String, Object>> reviewTask = Task.of("review_tool_call", MAP,
      (toolCall, context) -> reviewToolCall(context, toolCall));

  private Mono<Final<Map<String, Object>, List<Map<String, Object>>>> agentLoop(
      TaskContext context, boolean parallelReviews, List<Map<String, Object>> messages,
      Map<String, Object> modelResponse) {
    List<Map<String, Object>> toolCalls = toolCallsOf(modelResponse);
    if (toolCalls.isEmpty()) {
      return Mono.just(Final.of(modelResponse, plus(messages, List.of(modelResponse))));
    }
    Flux<Map<String, Object>> reviews = parallelReviews
        ? Flux.fromIterable(toolCalls).flatMapSequential(reviewTask::call)
        : Flux.fromIterable(toolCalls).concatMap(toolCall -> reviewToolCall(context, toolCall));
    return reviews.collectList().flatMap(reviewed -> {
      List<Map<String, Object>> toolResults = new ArrayList<>();
      List<Map<String, Object>> accepted = new ArrayList<>();
      List<Map<String, Object>> updatedCalls = new ArrayList<>(toolCalls);
      for (int i = 0; i < reviewed.size(); i++) {
        Map<String, Object> review = reviewed.get(i);
        if ("tool".equals(review.get("role"))) {
          toolResults.add(review);
        } else {
          accepted.add(review);
          if (!review.equals(toolCalls.get(i))) {
            updatedCalls.set(i, review);
          }
        }
      }
      Map<String, Object> updatedResponse = new LinkedHashMap<>(modelResponse);
      updatedResponse.put("tool_calls", updatedCalls);
      return Flux.fromIterable(accepted).flatMapSequential(callTool::call).collectList().flatMap(remaining -> {
        List<Map<String, Object>> next = plus(plus(plus(messages, List.of(updatedResponse)), toolResults), remaining);
        return callModel.call(next).flatMap(response -> agentLoop(context, parallelReviews, next, response));
      });
    });
  }

  private Entrypoint<List<Map<String, Object>>, Map<String, Object>> agent(boolean parallelReviews) {
    return Entrypoint.named("agent").checkpointer(checkpointer)
        .defineFinal(MESSAGES, MAP, MESSAGES, (input, context) -> {
          List<Map<String, Object>> messages = plus(context.previous().orElse(List.of()), input);
          return callModel.call(messages)
              .flatMap(response -> agentLoop(context, parallelReviews, messages, response));
        });
  }

  private static final String SUMMARY = "Summary: Don't fetch news; get_weather(city=San Francisco); "
      + "get_time(tz=America/Los_Angeles)";

  private static Map<String, Object> reviewQuestion(Map<String, Object> toolCall) {
    return Map.of("question", "Is this correct?", "tool_call", toolCall);
  }

  @Test
  void reviewToolCallsOneInterruptPerToolCallAnsweredInTurn() {
    Entrypoint<List<Map<String, Object>>, Map<String, Object>> agent = agent(false);
    List<String> ids = new ArrayList<>();

    StepVerifier.create(agent.run(List.of(user("what's the weather in sf?")), config))
        .assertNext(output -> {
          assertEquals(1, output.interrupts().size());
          assertEquals(reviewQuestion(WEATHER_CALL), output.interrupts().get(0).value());
          ids.add(output.interrupts().get(0).id());
        })
        .expectComplete()
        .verify(WAIT);
    StepVerifier.create(agent.run(Command.resume(Map.of("action", "continue")), config))
        .assertNext(output -> {
          assertEquals(1, output.interrupts().size());
          assertEquals(reviewQuestion(TIME_CALL), output.interrupts().get(0).value());
          ids.add(output.interrupts().get(0).id());
        })
        .expectComplete()
        .verify(WAIT);
    StepVerifier.create(agent.run(Command.resume(Map.of("action", "update",
            "data", Map.of("tz", "America/Los_Angeles"))), config))
        .assertNext(output -> {
          assertEquals(1, output.interrupts().size());
          assertEquals(reviewQuestion(NEWS_CALL), output.interrupts().get(0).value());
          ids.add(output.interrupts().get(0).id());
        })
        .expectComplete()
        .verify(WAIT);
    StepVerifier.create(agent.run(Command.resume(Map.of("action", "feedback", "data", "Don't fetch news")), config))
        .assertNext(output -> {
          assertFalse(output.interrupted());
          assertEquals(ai(SUMMARY, List.of()), output.value());
        })
        .expectComplete()
        .verify(WAIT);

    assertEquals(3, new HashSet<>(ids).size(), "every interrupt has its own id: " + ids);
    assertEquals(2, modelCalls.get(), "the first model call is replayed on every resume");
    assertEquals(Set.of("get_weather(city=San Francisco)", "get_time(tz=America/Los_Angeles)"),
        new HashSet<>(toolRuns));
    assertEquals(2, toolRuns.size(), "the tool call answered with feedback is not executed");

    // The saved conversation (Final.save) is the next run's previous.
    StepVerifier.create(agent.invoke(List.of(user("thanks")), config))
        .expectNext(ai("You're welcome!", List.of()))
        .expectComplete()
        .verify(WAIT);
    List<Map<String, Object>> saw = modelSaw.get();
    assertEquals(7, saw.size(), "user, ai, feedback, 2 tool results, ai, user: " + saw);
    assertEquals(user("what's the weather in sf?"), saw.get(0));
    List<Map<String, Object>> revisedCalls = toolCallsOf(saw.get(1));
    assertEquals(List.of(WEATHER_CALL, toolCall("call_2", "get_time", "tz", "America/Los_Angeles"), NEWS_CALL),
        revisedCalls, "the model response is updated with the revised tool call");
    assertEquals("Don't fetch news", saw.get(2).get("content"));
    assertEquals("call_3", saw.get(2).get("tool_call_id"));
    assertEquals(ai(SUMMARY, List.of()), saw.get(5));
    assertEquals(user("thanks"), saw.get(6));
  }

  @Test
  void reviewToolCallsInParallelTasksAnsweredByIdInTwoRounds() {
    Entrypoint<List<Map<String, Object>>, Map<String, Object>> agent = agent(true);
    Map<String, String> idByCall = new LinkedHashMap<>();

    StepVerifier.create(agent.run(List.of(user("what's the weather in sf?")), config))
        .assertNext(output -> {
          assertEquals(3, output.interrupts().size(), "all parallel interrupts are reported");
          for (Interrupt interrupt : output.interrupts()) {
            Map<?, ?> value = assertInstanceOf(Map.class, interrupt.value());
            Map<?, ?> call = assertInstanceOf(Map.class, value.get("tool_call"));
            idByCall.put(String.valueOf(call.get("id")), interrupt.id());
          }
        })
        .expectComplete()
        .verify(WAIT);
    assertEquals(Set.of("call_1", "call_2", "call_3"), idByCall.keySet());

    // A plain resume is ambiguous with three pending interrupts.
    StepVerifier.create(agent.run(Command.resume(Map.of("action", "continue")), config))
        .expectError(InvalidCommandException.class)
        .verify(WAIT);

    // Answer a subset: the others stay pending.
    StepVerifier.create(agent.run(Command.resumeById(Map.of(idByCall.get("call_1"), Map.of("action", "continue"))),
            config))
        .assertNext(output -> {
          assertEquals(Set.of(idByCall.get("call_2"), idByCall.get("call_3")),
              output.interrupts().stream().map(Interrupt::id).collect(Collectors.toSet()));
        })
        .expectComplete()
        .verify(WAIT);

    StepVerifier.create(agent.run(Command.resumeById(Map.of(
            idByCall.get("call_2"), Map.of("action", "update", "data", Map.of("tz", "America/Los_Angeles")),
            idByCall.get("call_3"), Map.of("action", "feedback", "data", "Don't fetch news"))), config))
        .assertNext(output -> {
          assertFalse(output.interrupted());
          assertEquals(ai(SUMMARY, List.of()), output.value());
        })
        .expectComplete()
        .verify(WAIT);
    assertEquals(2, modelCalls.get());
    assertEquals(2, toolRuns.size());
    assertEquals(Set.of("get_weather(city=San Francisco)", "get_time(tz=America/Los_Angeles)"),
        new HashSet<>(toolRuns));
    assertNotEquals(idByCall.get("call_1"), idByCall.get("call_2"));
  }

  @Test
  void runOfAPausedRunEmitsTheInterruptsInsteadOfFailing() {
    // run(...) never errors for a pause; the value is null and the interrupts are listed.
    Entrypoint<String, String> ask = Entrypoint.named("ask").checkpointer(checkpointer)
        .define(String.class, String.class, (question, context) -> context.interrupt(question, String.class));
    StepVerifier.create(ask.run("name?", config))
        .assertNext(output -> {
          GraphOutput<String> typed = output;
          assertTrue(typed.interrupted());
          assertEquals(null, typed.value());
          assertEquals("name?", typed.interrupts().get(0).value());
        })
        .expectComplete()
        .verify(WAIT);
    StepVerifier.create(ask.invoke(Command.resume("Bob"), config)).expectNext("Bob").expectComplete().verify(WAIT);
  }
}
