package dev.fluxgraph.func;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.cache.InMemoryCache;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.NodeTimeoutException;
import dev.fluxgraph.errors.SerializationException;
import dev.fluxgraph.types.CachePolicy;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RetryPolicy;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.testing.TestClock;
import dev.fluxgraph.types.StreamMode;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** SEMANTICS §7: retry, timeout and cache; delays checked with virtual time. */
class PoliciesTest {

  private static final RetryPolicy FAST = RetryPolicy.defaults().withJitter(false);

  /** An HTTP client error carrying a status, as any client library has one. */
  static final class HttpError extends RuntimeException {
    private final int status;

    HttpError(int status) {
      super("HTTP " + status);
      this.status = status;
    }

    public int statusCode() {
      return status;
    }
  }

  @Test
  void defaults() {
    RetryPolicy policy = RetryPolicy.defaults();
    assertEquals(Duration.ofMillis(500), policy.initialInterval());
    assertEquals(2.0, policy.backoffFactor());
    assertEquals(Duration.ofSeconds(128), policy.maxInterval());
    assertEquals(3, policy.maxAttempts());
    assertTrue(policy.jitter());
    assertEquals(RetryPolicy.DEFAULT_RETRY_ON, policy.retryOn());
    assertEquals(Duration.ofMillis(500), policy.backoff(1));
    assertEquals(Duration.ofMillis(1000), policy.backoff(2));
    assertEquals(Duration.ofSeconds(128), policy.backoff(30));
  }

  @Test
  void defaultRetryOnRetriesIoAndTimeoutsButNotProgrammingErrors() {
    for (Throwable retried : List.of(new IOException("x"), new TimeoutException("x"),
        new NodeTimeoutException("t", Duration.ofSeconds(1)), new HttpError(503), new RuntimeException("unknown"),
        reactor.core.Exceptions.propagate(new IOException("wrapped")))) {
      assertTrue(RetryPolicy.DEFAULT_RETRY_ON.test(retried), retried.toString());
    }
    for (Throwable kept : List.of(new IllegalArgumentException(), new IllegalStateException(),
        new NullPointerException(), new ClassCastException(), new ArithmeticException(),
        new IndexOutOfBoundsException(), new UnsupportedOperationException(), new SerializationException("x", null),
        new HttpError(404), new OutOfMemoryError())) {
      assertFalse(RetryPolicy.DEFAULT_RETRY_ON.test(kept), kept.toString());
    }
  }

  private static Task<String, String> flaky(AtomicInteger attempts, int failures, Throwable error) {
    return Task.of("flaky", String.class, (String s) -> attempts.incrementAndGet() <= failures
        ? Mono.error(error) : Mono.just(s + " after " + attempts.get()));
  }

  private static Entrypoint<String, String> calling(Task<String, String> task, RetryPolicy... entrypointRetry) {
    Entrypoint.Builder builder = Entrypoint.named("main");
    if (entrypointRetry.length > 0) {
      builder.retry(entrypointRetry);
    }
    return builder.define(String.class, String.class, (s, context) -> task.call(s));
  }

  @Test
  void backoffFollowsTheFormula() {
    AtomicInteger attempts = new AtomicInteger();
    List<Long> times = new CopyOnWriteArrayList<>();
    Task<String, String> task = Task.of("t", String.class, (String s) -> {
      times.add(Schedulers.parallel().now(java.util.concurrent.TimeUnit.MILLISECONDS));
      return attempts.incrementAndGet() < 4 ? Mono.error(new IOException("down")) : Mono.just("ok");
    }).withRetry(FAST.withMaxAttempts(4).withMaxInterval(Duration.ofMillis(1500)));
    StepVerifier.withVirtualTime(() -> calling(task).invoke("x", RunConfig.none()))
        .expectSubscription()
        .thenAwait(Duration.ofMillis(499))
        .then(() -> assertEquals(1, attempts.get()))
        .thenAwait(Duration.ofMillis(1))
        .then(() -> assertEquals(2, attempts.get()))
        .thenAwait(Duration.ofMillis(1000))
        .then(() -> assertEquals(3, attempts.get()))
        .thenAwait(Duration.ofMillis(1499))
        .then(() -> assertEquals(3, attempts.get(), "capped at maxInterval: 1500 ms, not 2000 ms"))
        .thenAwait(Duration.ofMillis(1))
        .expectNext("ok")
        .expectComplete().verify(Duration.ofSeconds(5));
    assertEquals(List.of(0L, 500L, 1500L, 3000L), times.stream().map(t -> t - times.get(0)).toList());
  }

  @Test
  void exhaustedAttemptsFailWithTheOriginalError() {
    AtomicInteger attempts = new AtomicInteger();
    IOException down = new IOException("down");
    Task<String, String> task = flaky(attempts, 10, down).withRetry(FAST);
    StepVerifier.withVirtualTime(() -> calling(task).invoke("x", RunConfig.none()))
        .thenAwait(Duration.ofSeconds(10))
        .expectErrorSatisfies(error -> assertEquals(down, error))
        .verify(Duration.ofSeconds(5));
    assertEquals(3, attempts.get());
  }

  @Test
  void errorsNotMatchedAreNotRetried() {
    AtomicInteger attempts = new AtomicInteger();
    Task<String, String> task = flaky(attempts, 10, new IllegalArgumentException("bad input")).withRetry(FAST);
    StepVerifier.create(calling(task).invoke("x", RunConfig.none())).expectErrorMessage("bad input")
        .verify(Duration.ofSeconds(5));
    assertEquals(1, attempts.get());
  }

  @Test
  void theFirstMatchingPolicyWins() {
    AtomicInteger attempts = new AtomicInteger();
    Task<String, String> task = flaky(attempts, 10, new IOException("down")).withRetry(
        FAST.withRetryOn(error -> error instanceof IllegalStateException).withMaxAttempts(9),
        FAST.retryOn().test(new IOException()) ? FAST.withMaxAttempts(2).withRetryOn(RetryPolicy.DEFAULT_RETRY_ON) : FAST,
        FAST.withMaxAttempts(7));
    StepVerifier.withVirtualTime(() -> calling(task).invoke("x", RunConfig.none()))
        .thenAwait(Duration.ofMinutes(1))
        .expectErrorMessage("down")
        .verify(Duration.ofSeconds(5));
    assertEquals(2, attempts.get());
  }

  @Test
  void entrypointRetryIsTheDefaultForTasksAndTheBodyAndATaskPolicyOverridesIt() {
    AtomicInteger inherits = new AtomicInteger();
    StepVerifier.withVirtualTime(() -> calling(flaky(inherits, 3, new IOException("x")), FAST.withMaxAttempts(4))
            .invoke("a", RunConfig.none()))
        .thenAwait(Duration.ofMinutes(1))
        .expectNext("a after 4")
        .expectComplete().verify(Duration.ofSeconds(5));

    AtomicInteger own = new AtomicInteger();
    StepVerifier.withVirtualTime(() -> calling(flaky(own, 3, new IOException("x")).withRetry(FAST.withMaxAttempts(2)),
            FAST.withMaxAttempts(1))
            .invoke("b", RunConfig.none()))
        .thenAwait(Duration.ofMinutes(1))
        .expectError(IOException.class)
        .verify(Duration.ofSeconds(5));
    assertEquals(2, own.get());

    AtomicInteger bodyAttempts = new AtomicInteger();
    Entrypoint<String, String> flakyBody = Entrypoint.named("body").retry(FAST)
        .define(String.class, String.class, (s, context) -> bodyAttempts.incrementAndGet() < 3
            ? Mono.error(new IOException("x")) : Mono.just("body ok"));
    StepVerifier.withVirtualTime(() -> flakyBody.invoke("c", RunConfig.none()))
        .thenAwait(Duration.ofMinutes(1))
        .expectNext("body ok")
        .expectComplete().verify(Duration.ofSeconds(5));
  }

  @Test
  void interruptsAreNeverRetried() {
    AtomicInteger attempts = new AtomicInteger();
    Task<String, String> asking = Task.of("asking", String.class, (String s, TaskContext context) -> {
      attempts.incrementAndGet();
      return context.interrupt("?", String.class);
    }).withRetry(FAST.withRetryOn(error -> true).withMaxAttempts(5));
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(new InMemorySaver())
        .define(String.class, String.class, (s, context) -> asking.call(s));
    assertTrue(workflow.run("x", RunConfig.thread(UUID.randomUUID().toString())).block().interrupted());
    assertEquals(1, attempts.get());
  }

  @Test
  void timeoutIsPerAttemptAndRetryable() {
    AtomicInteger attempts = new AtomicInteger();
    Task<String, String> slowThenFast = Task.of("call_api", String.class, (String url) ->
            Mono.delay(Duration.ofSeconds(attempts.incrementAndGet() == 1 ? 2 : 1)).thenReturn("result from " + url))
        .withTimeout(Duration.ofMillis(1500))
        .withRetry(RetryPolicy.retryOn(NodeTimeoutException.class).withJitter(false));
    StepVerifier.withVirtualTime(() -> calling(slowThenFast).invoke("u", RunConfig.none()))
        .expectSubscription()
        .expectNoEvent(Duration.ofMillis(1500 + 500 + 999)) // timeout, backoff, most of the second attempt
        .thenAwait(Duration.ofMillis(1))
        .expectNext("result from u")
        .expectComplete()
        .verify(Duration.ofSeconds(5));
    assertEquals(2, attempts.get());
  }

  @Test
  void timeoutWithoutRetryNamesTheTaskAndTheDuration() {
    Task<String, String> slow = Task.of("slow", String.class,
        (String s) -> Mono.delay(Duration.ofSeconds(5)).thenReturn(s)).withTimeout(Duration.ofSeconds(1));
    StepVerifier.withVirtualTime(() -> calling(slow).invoke("x", RunConfig.none()))
        .expectSubscription()
        .expectNoEvent(Duration.ofMillis(999))
        .thenAwait(Duration.ofMillis(1))
        .expectErrorSatisfies(error -> {
          NodeTimeoutException timeout = (NodeTimeoutException) error;
          assertEquals("slow", timeout.node());
          assertEquals(Duration.ofSeconds(1), timeout.timeout());
          assertTrue(timeout.getMessage().contains("'slow' timed out after 1000 ms"));
        })
        .verify(Duration.ofSeconds(5));
  }

  @Test
  void entrypointTimeoutBoundsTheBody() {
    StepVerifier.withVirtualTime(() -> Entrypoint.named("workflow").timeout(Duration.ofSeconds(5))
            .define(String.class, String.class, (s, context) -> Mono.delay(Duration.ofSeconds(6)).thenReturn(s))
            .invoke("x", RunConfig.none()))
        .expectSubscription()
        .expectNoEvent(Duration.ofMillis(4999))
        .thenAwait(Duration.ofMillis(1))
        .expectErrorSatisfies(error -> assertEquals("workflow", ((NodeTimeoutException) error).node()))
        .verify(Duration.ofSeconds(5));
  }

  // ---------------------------------------------------------------- cache

  @Test
  void cacheHitsAcrossRunsAndThreadsUntilTheTtlAndClearCache() {
    TestClock clock = new TestClock();
    InMemoryCache cache = new InMemoryCache(clock);
    AtomicInteger runs = new AtomicInteger();
    Task<Integer, Integer> slowAdd = Task.of("slow_add", Integer.class, (Integer x) -> {
      runs.incrementAndGet();
      return Mono.just(x * 2);
    }).withCache(CachePolicy.ttl(Duration.ofSeconds(120)));
    Entrypoint<Integer, Integer> main = Entrypoint.named("main").cache(cache).checkpointer(new InMemorySaver())
        .define(Integer.class, Integer.class, (x, context) -> slowAdd.call(x));

    List<Object> first = main.stream(5, RunConfig.thread("a"), StreamMode.UPDATES).map(StreamChunk::data)
        .collectList().block();
    assertEquals(Map.of("slow_add", 10), first.get(0));
    List<Object> otherThread = main.stream(5, RunConfig.thread("b"), StreamMode.UPDATES).map(StreamChunk::data)
        .collectList().block();
    assertEquals(Map.of("slow_add", 10, "__metadata__", Map.of("cached", true)), otherThread.get(0));
    assertEquals(1, runs.get());

    clock.advance(Duration.ofSeconds(121));
    main.invoke(5, RunConfig.thread("c")).block();
    assertEquals(2, runs.get(), "expired after the ttl");

    slowAdd.clearCache(cache).block();
    main.invoke(5, RunConfig.thread("d")).block();
    assertEquals(3, runs.get(), "clearCache empties the task's entries");
    main.invoke(6, RunConfig.thread("e")).block();
    assertEquals(4, runs.get(), "another input is another key");
  }

  @Test
  void customKeyFunctionAndEntrypointDefaultPolicy() {
    AtomicInteger runs = new AtomicInteger();
    Task<Map<String, Object>, String> greet = Task.of("greet", String.class, (Map<String, Object> in) -> {
      runs.incrementAndGet();
      return Mono.just("hi " + in.get("name"));
    });
    Entrypoint<Map<String, Object>, String> main = Entrypoint.named("main").cache(new InMemoryCache())
        .cachePolicy(CachePolicy.forever().withKeyFunction(in -> String.valueOf(((Map<?, ?>) in).get("name"))))
        .define(new dev.fluxgraph.types.TypeRef<Map<String, Object>>() { }, dev.fluxgraph.types.TypeRef.of(String.class),
            (in, context) -> greet.call(in));
    assertEquals("hi ann", main.invoke(Map.of("name", "ann", "noise", 1), RunConfig.none()).block());
    assertEquals("hi ann", main.invoke(Map.of("name", "ann", "noise", 2), RunConfig.none()).block());
    assertEquals(1, runs.get());
  }

  @Test
  void aReplayedTaskNeitherRunsNorConsultsTheCache() {
    AtomicInteger cacheReads = new AtomicInteger();
    InMemoryCache real = new InMemoryCache();
    dev.fluxgraph.cache.Cache counting = new dev.fluxgraph.cache.Cache() {
      @Override
      public Mono<com.fasterxml.jackson.databind.JsonNode> get(String namespace, String key) {
        cacheReads.incrementAndGet();
        return real.get(namespace, key);
      }

      @Override
      public Mono<Void> put(String namespace, String key, com.fasterxml.jackson.databind.JsonNode value,
                            Duration ttl) {
        return real.put(namespace, key, value, ttl);
      }

      @Override
      public Mono<Void> clear(String namespace) {
        return real.clear(namespace);
      }
    };
    Task<Integer, Integer> cached = Task.of("cached", Integer.class, (Integer x) -> Mono.just(x + 1))
        .withCache(CachePolicy.forever());
    Entrypoint<Integer, Integer> main = Entrypoint.named("main").cache(counting).checkpointer(new InMemorySaver())
        .define(Integer.class, Integer.class, (x, context) -> cached.call(x)
            .flatMap(y -> context.interrupt("ok?", Integer.class).map(z -> y + z)));
    RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
    main.run(1, config).block();
    assertEquals(1, cacheReads.get());
    assertEquals(12, main.invoke(Command.resume(10), config).block());
    assertEquals(1, cacheReads.get(), "the checkpoint answered first");
  }
}
