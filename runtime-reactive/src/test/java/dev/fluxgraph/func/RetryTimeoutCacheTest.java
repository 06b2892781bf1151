package dev.fluxgraph.func;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.cache.Cache;
import dev.fluxgraph.cache.InMemoryCache;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.NodeTimeoutException;
import dev.fluxgraph.errors.SerializationException;
import dev.fluxgraph.testing.TestClock;
import dev.fluxgraph.types.CachePolicy;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.RetryPolicy;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * SEMANTICS §7: retry policies (values, backoff, matching, scope), per-attempt timeouts and the task cache. Every
 * delay is checked in virtual time: {@code StepVerifier.withVirtualTime} replaces {@code Schedulers.parallel()},
 * which entrypoints use by default (resolved per run), or a {@link VirtualTimeScheduler} is given to the builder.
 */
class RetryTimeoutCacheTest {

  private static final Duration VERIFY = Duration.ofSeconds(10);

  /** Defaults without jitter, so that every delay is exact. */
  private static final RetryPolicy NO_JITTER = RetryPolicy.defaults().withJitter(false);

  /** An HTTP client's error, exposing its status the way client libraries do. */
  static final class HttpStatusException extends RuntimeException {
    private final int status;

    HttpStatusException(int status) {
      super("HTTP " + status);
      this.status = status;
    }

    public int statusCode() {
      return status;
    }
  }

  /** Virtual "now" in ms, as seen by code running under {@code withVirtualTime}. */
  private static long now() {
    return Schedulers.parallel().now(TimeUnit.MILLISECONDS);
  }

  /** Times of the calls, relative to the first one. */
  private static List<Long> relative(List<Long> times) {
    return times.stream().map(time -> time - times.get(0)).toList();
  }

  /** A task failing with {@code error} for its first {@code failures} attempts, recording when each began. */
  private static Task<String, String> failing(String name, int failures, Throwable error, List<Long> attempts) {
    return Task.of(name, String.class, (String s) -> {
      attempts.add(now());
      return attempts.size() <= failures ? Mono.error(error) : Mono.just(s + "@" + attempts.size());
    });
  }

  private static Entrypoint<String, String> calling(Entrypoint.Builder builder, Task<String, String> task) {
    return builder.define(String.class, String.class, (s, context) -> task.call(s));
  }

  // ======================================================================================== retry

  @Nested
  class Retry {

    @Test
    void defaultsAreTheDocumentedValues() {
      RetryPolicy policy = RetryPolicy.defaults();
      assertEquals(Duration.ofMillis(500), policy.initialInterval());
      assertEquals(2.0, policy.backoffFactor());
      assertEquals(Duration.ofSeconds(128), policy.maxInterval());
      assertEquals(3, policy.maxAttempts());
      assertTrue(policy.jitter());
      assertSame(RetryPolicy.DEFAULT_RETRY_ON, policy.retryOn());
    }

    @Test
    void backoffIsInitialTimesFactorToTheKMinusOneCappedAtMaxInterval() {
      RetryPolicy policy = RetryPolicy.defaults();
      assertEquals(Duration.ofMillis(500), policy.backoff(1));
      assertEquals(Duration.ofMillis(1000), policy.backoff(2));
      assertEquals(Duration.ofMillis(2000), policy.backoff(3));
      assertEquals(Duration.ofMillis(64_000), policy.backoff(8));
      assertEquals(Duration.ofSeconds(128), policy.backoff(9));
      assertEquals(Duration.ofSeconds(128), policy.backoff(40));
      RetryPolicy triple = NO_JITTER.withInitialInterval(Duration.ofSeconds(1)).withBackoffFactor(3)
          .withMaxInterval(Duration.ofSeconds(5));
      assertEquals(List.of(Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofSeconds(5), Duration.ofSeconds(5)),
          List.of(triple.backoff(1), triple.backoff(2), triple.backoff(3), triple.backoff(4)));
    }

    @Test
    void attemptsFollowTheBackoffInVirtualTime() {
      List<Long> attempts = new CopyOnWriteArrayList<>();
      Task<String, String> task = failing("flaky", 2, new IOException("down"), attempts).withRetry(NO_JITTER);
      StepVerifier.withVirtualTime(() -> calling(Entrypoint.named("main"), task).invoke("x", RunConfig.none()))
          .expectSubscription()
          .then(() -> assertEquals(1, attempts.size(), "first attempt at once"))
          .expectNoEvent(Duration.ofMillis(499))
          .then(() -> assertEquals(1, attempts.size(), "no second attempt before 500 ms"))
          .thenAwait(Duration.ofMillis(1))
          .then(() -> assertEquals(2, attempts.size(), "second attempt at +500 ms"))
          .expectNoEvent(Duration.ofMillis(999))
          .then(() -> assertEquals(2, attempts.size(), "no third attempt before another 1000 ms"))
          .thenAwait(Duration.ofMillis(1))
          .expectNext("x@3")
          .expectComplete()
          .verify(VERIFY);
      assertEquals(List.of(0L, 500L, 1500L), relative(attempts));
    }

    @Test
    void delaysAreCappedAtMaxInterval() {
      List<Long> attempts = new CopyOnWriteArrayList<>();
      RetryPolicy policy = NO_JITTER.withInitialInterval(Duration.ofMillis(1000)).withBackoffFactor(3.0)
          .withMaxInterval(Duration.ofMillis(2000)).withMaxAttempts(5);
      Task<String, String> task = failing("flaky", 4, new IOException("down"), attempts).withRetry(policy);
      StepVerifier.withVirtualTime(() -> calling(Entrypoint.named("main"), task).invoke("x", RunConfig.none()))
          .expectSubscription()
          .expectNoEvent(Duration.ofMillis(1000 + 2000 + 2000 + 1999))
          .thenAwait(Duration.ofMillis(1))
          .expectNext("x@5")
          .expectComplete()
          .verify(VERIFY);
      // 1000, min(2000, 3000), min(2000, 9000), min(2000, 27000)
      assertEquals(List.of(0L, 1000L, 3000L, 5000L, 7000L), relative(attempts));
    }

    @Test
    void jitterAddsLessThanOneSecond() {
      List<Long> attempts = new CopyOnWriteArrayList<>();
      Task<String, String> task = failing("flaky", 1, new IOException("down"), attempts)
          .withRetry(RetryPolicy.defaults());
      StepVerifier.withVirtualTime(() -> calling(Entrypoint.named("main"), task).invoke("x", RunConfig.none()))
          .expectSubscription()
          .expectNoEvent(Duration.ofMillis(499))
          .then(() -> assertEquals(1, attempts.size(), "jitter never shortens the delay"))
          .thenAwait(Duration.ofMillis(1001))
          .expectNext("x@2")
          .expectComplete()
          .verify(VERIFY);
      long delay = relative(attempts).get(1);
      assertTrue(delay >= 500 && delay <= 1500, "500 ms + jitter in [0, 1 s], was " + delay);
    }

    @Test
    void delaysRunOnTheSchedulerGivenToTheBuilder() {
      VirtualTimeScheduler scheduler = VirtualTimeScheduler.create();
      List<Long> attempts = new CopyOnWriteArrayList<>();
      Task<String, String> task = Task.of("flaky", String.class, (String s) -> {
        attempts.add(scheduler.now(TimeUnit.MILLISECONDS));
        return attempts.size() < 3 ? Mono.error(new IOException("down")) : Mono.just("ok");
      }).withRetry(NO_JITTER);
      Entrypoint<String, String> workflow = calling(Entrypoint.named("main").scheduler(scheduler), task);
      try {
        StepVerifier.create(workflow.invoke("x", RunConfig.none()))
            .expectSubscription()
            .then(() -> scheduler.advanceTimeBy(Duration.ofMillis(499)))
            .then(() -> assertEquals(1, attempts.size()))
            .then(() -> scheduler.advanceTimeBy(Duration.ofMillis(1)))
            .then(() -> assertEquals(2, attempts.size()))
            .then(() -> scheduler.advanceTimeBy(Duration.ofMillis(999)))
            .then(() -> assertEquals(2, attempts.size()))
            .then(() -> scheduler.advanceTimeBy(Duration.ofMillis(1)))
            .expectNext("ok")
            .expectComplete()
            .verify(VERIFY);
      } finally {
        scheduler.dispose();
      }
      assertEquals(List.of(0L, 500L, 1500L), relative(attempts));
    }

    @Test
    void exhaustedAttemptsFailWithTheOriginalErrorNotAWrapper() {
      List<Long> attempts = new CopyOnWriteArrayList<>();
      IOException down = new IOException("down");
      Task<String, String> task = failing("flaky", Integer.MAX_VALUE, down, attempts)
          .withRetry(NO_JITTER.withMaxAttempts(4));
      StepVerifier.withVirtualTime(() -> calling(Entrypoint.named("main"), task).invoke("x", RunConfig.none()))
          .expectSubscription()
          .expectNoEvent(Duration.ofMillis(500 + 1000 + 2000 - 1))
          .thenAwait(Duration.ofMillis(1))
          .expectErrorSatisfies(error -> assertSame(down, error))
          .verify(VERIFY);
      assertEquals(List.of(0L, 500L, 1500L, 3500L), relative(attempts));
    }

    @Test
    void oneAttemptMeansNoRetry() {
      List<Long> attempts = new CopyOnWriteArrayList<>();
      IOException down = new IOException("down");
      Task<String, String> task = failing("flaky", Integer.MAX_VALUE, down, attempts)
          .withRetry(NO_JITTER.withMaxAttempts(1));
      StepVerifier.withVirtualTime(() -> calling(Entrypoint.named("main"), task).invoke("x", RunConfig.none()))
          .expectSubscription()
          .expectErrorSatisfies(error -> assertSame(down, error))
          .verify(VERIFY);
      assertEquals(1, attempts.size());
    }

    @Test
    void defaultRetryOnRetriesIoTimeoutsAnd5xx() {
      for (Throwable error : List.of(new IOException("io"), new java.net.SocketTimeoutException("socket"),
          new UncheckedIOException(new IOException("unchecked")), new TimeoutException("timeout"),
          new NodeTimeoutException("task", Duration.ofSeconds(1)), new HttpStatusException(503),
          new HttpStatusException(500))) {
        assertTrue(RetryPolicy.DEFAULT_RETRY_ON.test(error), "should retry " + error);
      }
    }

    @Test
    void defaultRetryOnDoesNotRetryProgrammingErrorsOr4xx() {
      for (Throwable error : List.of(new HttpStatusException(404), new HttpStatusException(400),
          new IllegalArgumentException("iae"), new IllegalStateException("ise"), new NullPointerException("npe"),
          new ClassCastException("cce"), new ArithmeticException("ae"), new IndexOutOfBoundsException("ioobe"),
          new ArrayIndexOutOfBoundsException("subclass"), new UnsupportedOperationException("uoe"),
          new NumberFormatException("an IllegalArgumentException"),
          new SerializationException("not JSON", null))) {
        assertFalse(RetryPolicy.DEFAULT_RETRY_ON.test(error), "should not retry " + error);
      }
    }

    @Test
    void programmingErrorsAreNotRetriedByTheDefaultPolicyInARun() {
      List<Long> attempts = new CopyOnWriteArrayList<>();
      ArithmeticException bug = new ArithmeticException("/ by zero");
      Task<String, String> task = failing("buggy", Integer.MAX_VALUE, bug, attempts).withRetry(NO_JITTER);
      StepVerifier.withVirtualTime(() -> calling(Entrypoint.named("main"), task).invoke("x", RunConfig.none()))
          .expectSubscription()
          .expectErrorSatisfies(error -> assertSame(bug, error))
          .verify(VERIFY);
      assertEquals(1, attempts.size());

      List<Long> httpAttempts = new CopyOnWriteArrayList<>();
      Task<String, String> notFound = failing("http", Integer.MAX_VALUE, new HttpStatusException(404), httpAttempts)
          .withRetry(NO_JITTER);
      StepVerifier.withVirtualTime(() -> calling(Entrypoint.named("main"), notFound).invoke("x", RunConfig.none()))
          .expectSubscription()
          .expectError(HttpStatusException.class)
          .verify(VERIFY);
      assertEquals(1, httpAttempts.size());

      List<Long> unavailable = new CopyOnWriteArrayList<>();
      Task<String, String> serviceUnavailable = failing("http", 2, new HttpStatusException(503), unavailable)
          .withRetry(NO_JITTER);
      StepVerifier.withVirtualTime(() -> calling(Entrypoint.named("main"), serviceUnavailable)
              .invoke("x", RunConfig.none()))
          .thenAwait(Duration.ofSeconds(2))
          .expectNext("x@3")
          .expectComplete()
          .verify(VERIFY);
    }

    @Test
    void theFirstPolicyWhoseRetryOnMatchesDecides() {
      RetryPolicy onState = NO_JITTER.withRetryOn(error -> error instanceof IllegalStateException)
          .withInitialInterval(Duration.ofMillis(100)).withMaxAttempts(6);
      RetryPolicy onIo = NO_JITTER.withRetryOn(error -> error instanceof IOException)
          .withInitialInterval(Duration.ofMillis(300)).withBackoffFactor(1.0).withMaxAttempts(2);
      RetryPolicy onAnything = NO_JITTER.withRetryOn(error -> true)
          .withInitialInterval(Duration.ofMillis(700)).withMaxAttempts(9);

      List<Long> io = new CopyOnWriteArrayList<>();
      Task<String, String> ioTask = failing("io", Integer.MAX_VALUE, new IOException("down"), io)
          .withRetry(onState, onIo, onAnything);
      StepVerifier.withVirtualTime(() -> calling(Entrypoint.named("main"), ioTask).invoke("x", RunConfig.none()))
          .thenAwait(Duration.ofMinutes(5))
          .expectErrorMessage("down")
          .verify(VERIFY);
      assertEquals(List.of(0L, 300L), relative(io), "the second policy (2 attempts, 300 ms) decides, not the third");

      List<Long> state = new CopyOnWriteArrayList<>();
      Task<String, String> stateTask = failing("state", 3, new IllegalStateException("not yet"), state)
          .withRetry(onState, onIo, onAnything);
      StepVerifier.withVirtualTime(() -> calling(Entrypoint.named("main"), stateTask).invoke("x", RunConfig.none()))
          .thenAwait(Duration.ofMinutes(5))
          .expectNext("x@4")
          .expectComplete()
          .verify(VERIFY);
      assertEquals(List.of(0L, 100L, 300L, 700L), relative(state));

      List<Long> other = new CopyOnWriteArrayList<>();
      Task<String, String> otherTask = failing("other", 1, new IllegalArgumentException("bad"), other)
          .withRetry(onState, onIo, onAnything);
      StepVerifier.withVirtualTime(() -> calling(Entrypoint.named("main"), otherTask).invoke("x", RunConfig.none()))
          .thenAwait(Duration.ofMinutes(5))
          .expectNext("x@2")
          .expectComplete()
          .verify(VERIFY);
      assertEquals(List.of(0L, 700L), relative(other), "falls through to the catch-all policy");
    }

    @Test
    void noMatchingPolicyMeansNoRetry() {
      List<Long> attempts = new CopyOnWriteArrayList<>();
      Task<String, String> task = failing("t", Integer.MAX_VALUE, new IllegalStateException("no"), attempts)
          .withRetry(RetryPolicy.retryOn(IOException.class), RetryPolicy.retryOn(TimeoutException.class));
      StepVerifier.withVirtualTime(() -> calling(Entrypoint.named("main"), task).invoke("x", RunConfig.none()))
          .expectErrorMessage("no")
          .verify(VERIFY);
      assertEquals(1, attempts.size());
    }

    @Test
    void retryOnTypesMatchesSubclasses() {
      RetryPolicy policy = RetryPolicy.retryOn(IOException.class, ArithmeticException.class);
      assertTrue(policy.retryOn().test(new java.io.FileNotFoundException("f")));
      assertTrue(policy.retryOn().test(new ArithmeticException()));
      assertFalse(policy.retryOn().test(new IllegalStateException()));
      assertEquals(RetryPolicy.defaults().withRetryOn(policy.retryOn()), policy, "defaults() with that predicate");
    }

    @Test
    void entrypointRetryAppliesToTasksWithoutTheirOwn() {
      List<Long> attempts = new CopyOnWriteArrayList<>();
      AtomicInteger bodyRuns = new AtomicInteger();
      Task<String, String> plain = failing("plain", 2, new IOException("down"), attempts);
      Entrypoint<String, String> workflow = Entrypoint.named("main").retry(NO_JITTER)
          .define(String.class, String.class, (s, context) -> {
            bodyRuns.incrementAndGet();
            return plain.call(s);
          });
      StepVerifier.withVirtualTime(() -> workflow.invoke("x", RunConfig.none()))
          .expectSubscription()
          .thenAwait(Duration.ofMillis(1500))
          .expectNext("x@3")
          .expectComplete()
          .verify(VERIFY);
      assertEquals(List.of(0L, 500L, 1500L), relative(attempts));
      assertEquals(1, bodyRuns.get(), "the task was retried, not the body");
    }

    @Test
    void aTasksOwnPolicyReplacesTheEntrypointDefault() {
      List<Long> attempts = new CopyOnWriteArrayList<>();
      Task<String, String> own = failing("own", Integer.MAX_VALUE, new IOException("down"), attempts)
          .withRetry(NO_JITTER.withMaxAttempts(2).withInitialInterval(Duration.ofMillis(50)));
      // the body catches the task's failure, so only the task's own retries are visible
      Entrypoint<String, String> workflow = Entrypoint.named("main")
          .retry(NO_JITTER.withMaxAttempts(5).withRetryOn(error -> true))
          .define(String.class, String.class, (s, context) -> own.call(s).onErrorResume(e -> Mono.just("gave up")));
      StepVerifier.withVirtualTime(() -> workflow.invoke("x", RunConfig.none()))
          .thenAwait(Duration.ofMinutes(5))
          .expectNext("gave up")
          .expectComplete()
          .verify(VERIFY);
      assertEquals(List.of(0L, 50L), relative(attempts));

      List<Long> strict = new CopyOnWriteArrayList<>();
      Task<String, String> noIoRetry = failing("strict", Integer.MAX_VALUE, new IOException("down"), strict)
          .withRetry(RetryPolicy.retryOn(IllegalStateException.class));
      Entrypoint<String, String> second = Entrypoint.named("main").retry(NO_JITTER.withMaxAttempts(5))
          .define(String.class, String.class,
              (s, context) -> noIoRetry.call(s).onErrorResume(e -> Mono.just("gave up")));
      StepVerifier.withVirtualTime(() -> second.invoke("x", RunConfig.none()))
          .thenAwait(Duration.ofMinutes(5))
          .expectNext("gave up")
          .expectComplete()
          .verify(VERIFY);
      assertEquals(1, strict.size(), "the entrypoint's IOException policy does not apply to a task with its own");
    }

    @Test
    void entrypointRetryAppliesToTheBody() {
      List<Long> bodyRuns = new CopyOnWriteArrayList<>();
      Entrypoint<String, String> workflow = Entrypoint.named("main").retry(NO_JITTER)
          .define(String.class, String.class, (s, context) -> {
            bodyRuns.add(now());
            return bodyRuns.size() < 3 ? Mono.error(new IOException("flaky body")) : Mono.just("body ok");
          });
      StepVerifier.withVirtualTime(() -> workflow.invoke("x", RunConfig.none()))
          .expectSubscription()
          .expectNoEvent(Duration.ofMillis(1499))
          .thenAwait(Duration.ofMillis(1))
          .expectNext("body ok")
          .expectComplete()
          .verify(VERIFY);
      assertEquals(List.of(0L, 500L, 1500L), relative(bodyRuns));
    }

    @Test
    void aRetriedBodyReplaysItsSucceededTasks() {
      AtomicInteger taskRuns = new AtomicInteger();
      AtomicInteger bodyRuns = new AtomicInteger();
      Task<String, String> once = Task.of("once", String.class, (String s) -> {
        taskRuns.incrementAndGet();
        return Mono.just(s + "!");
      });
      Entrypoint<String, String> workflow = Entrypoint.named("main").retry(NO_JITTER)
          .checkpointer(new InMemorySaver())
          .define(String.class, String.class, (s, context) -> once.call(s).flatMap(value ->
              bodyRuns.incrementAndGet() == 1 ? Mono.error(new IOException("after the task")) : Mono.just(value)));
      StepVerifier.withVirtualTime(() -> workflow.invoke("x", RunConfig.thread(UUID.randomUUID().toString())))
          .thenAwait(Duration.ofSeconds(1))
          .expectNext("x!")
          .expectComplete()
          .verify(VERIFY);
      assertEquals(2, bodyRuns.get());
      assertEquals(1, taskRuns.get(), "succeeded tasks never run again (§2)");
    }

    @Test
    void interruptsAreNeverRetried() {
      AtomicInteger attempts = new AtomicInteger();
      AtomicInteger bodyRuns = new AtomicInteger();
      RetryPolicy everything = NO_JITTER.withRetryOn(error -> true).withMaxAttempts(10);
      Task<String, String> asking = Task.of("ask", String.class, (String s, TaskContext context) -> {
        attempts.incrementAndGet();
        return context.interrupt("approve " + s + "?", String.class);
      }).withRetry(everything);
      Entrypoint<String, String> workflow = Entrypoint.named("main").retry(everything)
          .checkpointer(new InMemorySaver())
          .define(String.class, String.class, (s, context) -> {
            bodyRuns.incrementAndGet();
            return asking.call(s);
          });
      RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
      StepVerifier.withVirtualTime(() -> workflow.run("x", config))
          .thenAwait(Duration.ofMinutes(10))
          .assertNext(output -> {
            assertTrue(output.interrupted());
            assertEquals("approve x?", output.interrupts().get(0).value());
          })
          .expectComplete()
          .verify(VERIFY);
      assertEquals(1, attempts.get());
      assertEquals(1, bodyRuns.get());

      AtomicInteger direct = new AtomicInteger();
      Entrypoint<String, String> bodyInterrupt = Entrypoint.named("direct").retry(everything)
          .checkpointer(new InMemorySaver())
          .define(String.class, String.class, (s, context) -> {
            direct.incrementAndGet();
            return context.interrupt("?", String.class);
          });
      StepVerifier.withVirtualTime(() -> bodyInterrupt.run("x", RunConfig.thread(UUID.randomUUID().toString())))
          .thenAwait(Duration.ofMinutes(10))
          .assertNext(output -> assertTrue(output.interrupted()))
          .expectComplete()
          .verify(VERIFY);
      assertEquals(1, direct.get());
    }

    @Test
    void invalidPoliciesAreRejected() {
      RetryPolicy base = RetryPolicy.defaults();
      assertThrows(IllegalArgumentException.class, () -> base.withMaxAttempts(0));
      assertThrows(IllegalArgumentException.class, () -> base.withMaxAttempts(-1));
      assertThrows(IllegalArgumentException.class, () -> base.withInitialInterval(Duration.ofMillis(-1)));
      assertThrows(IllegalArgumentException.class, () -> base.withMaxInterval(Duration.ofMillis(-1)));
      assertThrows(IllegalArgumentException.class, () -> base.withBackoffFactor(-2.0));
      assertThrows(IllegalArgumentException.class, () -> base.withBackoffFactor(Double.NaN));
      assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(Duration.ofMillis(500), 2.0,
          Duration.ofSeconds(1), 0, false, RetryPolicy.DEFAULT_RETRY_ON));
      assertThrows(NullPointerException.class, () -> base.withRetryOn(null));
      assertThrows(NullPointerException.class, () -> base.withInitialInterval(null));
    }
  }

  // ======================================================================================== timeout

  @Nested
  class Timeout {

    @Test
    void aSlowTaskFailsWithNodeTimeoutExceptionNamingItAndTheDuration() {
      Task<String, String> slow = Task.of("slow_api", String.class,
          (String s) -> Mono.delay(Duration.ofSeconds(10)).thenReturn(s)).withTimeout(Duration.ofMillis(1500));
      StepVerifier.withVirtualTime(() -> calling(Entrypoint.named("main"), slow).invoke("x", RunConfig.none()))
          .expectSubscription()
          .expectNoEvent(Duration.ofMillis(1499))
          .thenAwait(Duration.ofMillis(1))
          .expectErrorSatisfies(error -> {
            NodeTimeoutException timeout = assertInstanceOf(NodeTimeoutException.class, error);
            assertEquals("slow_api", timeout.node());
            assertEquals(Duration.ofMillis(1500), timeout.timeout());
          })
          .verify(VERIFY);
    }

    @Test
    void aTaskWithinItsTimeoutSucceeds() {
      Task<String, String> quick = Task.of("quick", String.class,
          (String s) -> Mono.delay(Duration.ofMillis(999)).thenReturn(s + "!")).withTimeout(Duration.ofSeconds(1));
      StepVerifier.withVirtualTime(() -> calling(Entrypoint.named("main"), quick).invoke("x", RunConfig.none()))
          .expectSubscription()
          .expectNoEvent(Duration.ofMillis(998))
          .thenAwait(Duration.ofMillis(1))
          .expectNext("x!")
          .expectComplete()
          .verify(VERIFY);
    }

    @Test
    void theTimeoutBoundsEachAttemptAndRestartsOnRetry() {
      List<Long> attempts = new CopyOnWriteArrayList<>();
      // Attempt 1 would take 2 s (times out at 1 s); attempt 2 takes 900 ms: fine per attempt, though more than
      // 1 s after the first attempt began.
      Task<String, String> task = Task.of("api", String.class, (String s) -> {
        attempts.add(now());
        return Mono.delay(Duration.ofMillis(attempts.size() == 1 ? 2000 : 900)).thenReturn(s + "@" + attempts.size());
      }).withTimeout(Duration.ofSeconds(1)).withRetry(RetryPolicy.retryOn(NodeTimeoutException.class)
          .withJitter(false));
      StepVerifier.withVirtualTime(() -> calling(Entrypoint.named("main"), task).invoke("x", RunConfig.none()))
          .expectSubscription()
          .expectNoEvent(Duration.ofMillis(1000 + 500 + 899))
          .thenAwait(Duration.ofMillis(1))
          .expectNext("x@2")
          .expectComplete()
          .verify(VERIFY);
      assertEquals(List.of(0L, 1500L), relative(attempts));
    }

    @Test
    void theDefaultPolicyRetriesTimeoutsUntilAttemptsRunOut() {
      List<Long> attempts = new CopyOnWriteArrayList<>();
      Task<String, String> hanging = Task.of("hanging", String.class, (String s) -> {
        attempts.add(now());
        return Mono.<String>never();
      }).withTimeout(Duration.ofSeconds(1)).withRetry(NO_JITTER);
      StepVerifier.withVirtualTime(() -> calling(Entrypoint.named("main"), hanging).invoke("x", RunConfig.none()))
          .expectSubscription()
          .expectNoEvent(Duration.ofMillis(1000 + 500 + 1000 + 1000 + 1000 - 1))
          .thenAwait(Duration.ofMillis(1))
          .expectErrorSatisfies(error -> {
            NodeTimeoutException timeout = assertInstanceOf(NodeTimeoutException.class, error);
            assertEquals("hanging", timeout.node());
            assertEquals(Duration.ofSeconds(1), timeout.timeout());
          })
          .verify(VERIFY);
      assertEquals(List.of(0L, 1500L, 3500L), relative(attempts));
    }

    @Test
    void theEntrypointTimeoutBoundsTheBody() {
      Entrypoint<String, String> workflow = Entrypoint.named("workflow").timeout(Duration.ofSeconds(3))
          .define(String.class, String.class, (s, context) -> Mono.delay(Duration.ofSeconds(4)).thenReturn(s));
      StepVerifier.withVirtualTime(() -> workflow.invoke("x", RunConfig.none()))
          .expectSubscription()
          .expectNoEvent(Duration.ofMillis(2999))
          .thenAwait(Duration.ofMillis(1))
          .expectErrorSatisfies(error -> {
            NodeTimeoutException timeout = assertInstanceOf(NodeTimeoutException.class, error);
            assertEquals("workflow", timeout.node());
            assertEquals(Duration.ofSeconds(3), timeout.timeout());
          })
          .verify(VERIFY);

      Entrypoint<String, String> inTime = Entrypoint.named("workflow").timeout(Duration.ofSeconds(3))
          .define(String.class, String.class, (s, context) -> Mono.delay(Duration.ofMillis(2999)).thenReturn(s));
      StepVerifier.withVirtualTime(() -> inTime.invoke("x", RunConfig.none()))
          .thenAwait(Duration.ofSeconds(3))
          .expectNext("x")
          .expectComplete()
          .verify(VERIFY);
    }

    @Test
    void theEntrypointTimeoutIsPerAttemptOfTheBody() {
      List<Long> bodyRuns = new CopyOnWriteArrayList<>();
      Entrypoint<String, String> workflow = Entrypoint.named("workflow").timeout(Duration.ofSeconds(1))
          .retry(NO_JITTER.withMaxAttempts(2))
          .define(String.class, String.class, (s, context) -> {
            bodyRuns.add(now());
            return Mono.delay(Duration.ofMillis(bodyRuns.size() == 1 ? 5000 : 800)).thenReturn(s + "@" + bodyRuns.size());
          });
      StepVerifier.withVirtualTime(() -> workflow.invoke("x", RunConfig.none()))
          .expectSubscription()
          .expectNoEvent(Duration.ofMillis(1000 + 500 + 799))
          .thenAwait(Duration.ofMillis(1))
          .expectNext("x@2")
          .expectComplete()
          .verify(VERIFY);
      assertEquals(List.of(0L, 1500L), relative(bodyRuns));
    }

    @Test
    void theBodyTimeoutCoversTheTasksItWaitsFor() {
      Task<String, String> slowTask = Task.of("slow", String.class,
          (String s) -> Mono.delay(Duration.ofSeconds(2)).thenReturn(s + "!"));
      Entrypoint<String, String> workflow = Entrypoint.named("workflow").timeout(Duration.ofSeconds(1))
          .define(String.class, String.class, (s, context) -> slowTask.call(s));
      // The body waits for its task, so the body's own attempt is what times out, and it names the entrypoint.
      StepVerifier.withVirtualTime(() -> workflow.invoke("x", RunConfig.none()))
          .thenAwait(Duration.ofSeconds(1))
          .expectErrorSatisfies(error -> assertEquals("workflow", ((NodeTimeoutException) error).node()))
          .verify(VERIFY);
    }

    @Test
    void aTaskPausedOnAnInterruptDoesNotTimeOutWhileASiblingRuns() {
      // §3: an interrupt ends the scope's attempt (it unwinds with an internal signal), so the attempt's timeout
      // cannot fire afterwards, and interrupts are never retried, even while a slow sibling keeps the run going.
      AtomicInteger askAttempts = new AtomicInteger();
      Task<String, String> ask = Task.of("ask", String.class, (String s, TaskContext context) -> {
        askAttempts.incrementAndGet();
        return context.interrupt("approve " + s + "?", String.class);
      }).withTimeout(Duration.ofSeconds(1)).withRetry(NO_JITTER.withRetryOn(error -> true));
      AtomicInteger slowRuns = new AtomicInteger();
      Task<String, String> slow = Task.of("slow", String.class, (String s) -> {
        slowRuns.incrementAndGet();
        return Mono.delay(Duration.ofSeconds(5)).thenReturn(s + " done");
      });
      Entrypoint<String, String> workflow = Entrypoint.named("main").checkpointer(new InMemorySaver())
          .define(String.class, String.class, (s, context) -> Mono.zip(ask.call(s), slow.call(s))
              .map(both -> both.getT1() + " / " + both.getT2()));
      RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
      StepVerifier.withVirtualTime(() -> workflow.run("x", config))
          .expectSubscription()
          .thenAwait(Duration.ofSeconds(10))
          .assertNext(output -> {
            assertTrue(output.interrupted(), "paused, not failed: " + output);
            assertEquals(List.of("approve x?"), output.interrupts().stream().map(i -> i.value()).toList());
          })
          .expectComplete()
          .verify(VERIFY);
      int attemptsBeforeResume = askAttempts.get();
      StepVerifier.withVirtualTime(() -> workflow.invoke(Command.resume("yes"), config))
          .thenAwait(Duration.ofSeconds(10))
          .expectNext("yes / x done")
          .expectComplete()
          .verify(VERIFY);
      assertAll(
          () -> assertEquals(1, attemptsBeforeResume, "the interrupted task was neither timed out nor retried"),
          () -> assertEquals(1, slowRuns.get(), "the sibling finished and was saved before the pause, so it replays"));
    }

    @Test
    void timeoutsRunOnTheSchedulerGivenToTheBuilder() {
      VirtualTimeScheduler scheduler = VirtualTimeScheduler.create();
      Task<String, String> hanging = Task.of("hanging", String.class, (String s) -> Mono.<String>never())
          .withTimeout(Duration.ofMinutes(10));
      Entrypoint<String, String> workflow = calling(Entrypoint.named("main").scheduler(scheduler), hanging);
      try {
        StepVerifier.create(workflow.invoke("x", RunConfig.none()))
            .expectSubscription()
            .then(() -> scheduler.advanceTimeBy(Duration.ofMinutes(10).minusMillis(1)))
            .expectNoEvent(Duration.ofMillis(50))
            .then(() -> scheduler.advanceTimeBy(Duration.ofMillis(1)))
            .expectErrorSatisfies(error -> assertEquals("hanging", ((NodeTimeoutException) error).node()))
            .verify(VERIFY);
      } finally {
        scheduler.dispose();
      }
    }

    @Test
    void nonPositiveTimeoutsAreRejected() {
      Task<String, String> task = Task.of("t", String.class, (String s) -> Mono.just(s));
      assertThrows(IllegalArgumentException.class, () -> task.withTimeout(Duration.ZERO));
      assertThrows(IllegalArgumentException.class, () -> task.withTimeout(Duration.ofMillis(-1)));
      assertThrows(IllegalArgumentException.class, () -> Entrypoint.named("e").timeout(Duration.ZERO));
      assertThrows(IllegalArgumentException.class, () -> Entrypoint.named("e").timeout(Duration.ofSeconds(-5)));
    }
  }

  // ======================================================================================== cache

  /** A cache that counts reads and writes of a real one. */
  static final class CountingCache implements Cache {
    final InMemoryCache delegate;
    final AtomicInteger gets = new AtomicInteger();
    final AtomicInteger hits = new AtomicInteger();
    final AtomicInteger puts = new AtomicInteger();
    final List<String> keys = new CopyOnWriteArrayList<>();

    CountingCache(InMemoryCache delegate) {
      this.delegate = delegate;
    }

    @Override
    public Mono<JsonNode> get(String namespace, String key) {
      return Mono.defer(() -> {
        gets.incrementAndGet();
        keys.add(namespace + "/" + key);
        return delegate.get(namespace, key).doOnNext(hit -> hits.incrementAndGet());
      });
    }

    @Override
    public Mono<Void> put(String namespace, String key, JsonNode value, @Nullable Duration ttl) {
      return Mono.defer(() -> {
        puts.incrementAndGet();
        return delegate.put(namespace, key, value, ttl);
      });
    }

    @Override
    public Mono<Void> clear(String namespace) {
      return delegate.clear(namespace);
    }
  }

  /** A typed result, to check that hits come back as the declared type. */
  public record Doubled(int input, int doubled) {
  }

  @Nested
  class Caching {

    private final TestClock clock = new TestClock();
    private final CountingCache cache = new CountingCache(new InMemoryCache(clock));
    private final AtomicInteger executions = new AtomicInteger();

    private Task<Integer, Doubled> doubling(CachePolicy policy) {
      return Task.of("double", Doubled.class, (Integer x) -> {
        executions.incrementAndGet();
        return Mono.just(new Doubled(x, 2 * x));
      }).withCache(policy);
    }

    private Entrypoint<Integer, Doubled> workflow(Task<Integer, Doubled> task) {
      return Entrypoint.named("main").cache(cache).checkpointer(new InMemorySaver())
          .define(Integer.class, Doubled.class, (x, context) -> task.call(x));
    }

    private RunConfig freshThread() {
      return RunConfig.thread(UUID.randomUUID().toString());
    }

    @Test
    void aHitReturnsTheCachedResultWithoutRunningTheBodyAcrossThreadsAndRuns() {
      Entrypoint<Integer, Doubled> main = workflow(doubling(CachePolicy.forever()));
      assertEquals(new Doubled(5, 10), main.invoke(5, freshThread()).block());
      assertEquals(1, executions.get());
      assertEquals(new Doubled(5, 10), main.invoke(5, freshThread()).block(), "another thread");
      RunConfig thread = freshThread();
      assertEquals(new Doubled(5, 10), main.invoke(5, thread).block());
      assertEquals(new Doubled(5, 10), main.invoke(5, thread).block(), "another run on the same thread");
      assertEquals(1, executions.get(), "every later call was a hit");
      assertEquals(new Doubled(6, 12), main.invoke(6, freshThread()).block(), "another input is another key");
      assertEquals(2, executions.get());
    }

    @Test
    void hitsWorkWithoutACheckpointerAndAcrossEntrypointsSharingTheCache() {
      Task<Integer, Doubled> task = doubling(CachePolicy.forever());
      Entrypoint<Integer, Doubled> first = Entrypoint.named("first").cache(cache)
          .define(Integer.class, Doubled.class, (x, context) -> task.call(x));
      Entrypoint<Integer, Doubled> second = Entrypoint.named("second").cache(cache)
          .define(Integer.class, Doubled.class, (x, context) -> task.call(x));
      assertEquals(new Doubled(3, 6), first.invoke(3, RunConfig.none()).block());
      assertEquals(new Doubled(3, 6), first.invoke(3, RunConfig.none()).block());
      assertEquals(new Doubled(3, 6), second.invoke(3, RunConfig.none()).block());
      assertEquals(1, executions.get());
    }

    @Test
    void concurrentRunsOnManyJavaThreadsHitOnceTheEntryExists() {
      Entrypoint<Integer, Doubled> main = workflow(doubling(CachePolicy.forever()));
      main.invoke(7, freshThread()).block();
      List<Doubled> results = Flux.range(0, 32)
          .flatMap(i -> main.invoke(7, freshThread()).subscribeOn(Schedulers.boundedElastic()), 8)
          .collectList().block(VERIFY);
      assertEquals(32, results.size());
      assertTrue(results.stream().allMatch(new Doubled(7, 14)::equals));
      assertEquals(1, executions.get());
    }

    @Test
    void aHitsUpdatesChunkIsMarkedCachedAndAMissIsNot() {
      Entrypoint<Integer, Doubled> main = workflow(doubling(CachePolicy.forever()));
      StepVerifier.create(main.stream(5, freshThread(), StreamMode.UPDATES).map(StreamChunk::data))
          .expectNext(Map.of("double", new Doubled(5, 10)))
          .expectNext(Map.of("main", new Doubled(5, 10)))
          .expectComplete()
          .verify(VERIFY);
      StepVerifier.create(main.stream(5, freshThread(), StreamMode.UPDATES).map(StreamChunk::data))
          .expectNext(Map.of("double", new Doubled(5, 10), "__metadata__", Map.of("cached", true)))
          .expectNext(Map.of("main", new Doubled(5, 10)))
          .expectComplete()
          .verify(VERIFY);
      assertEquals(1, executions.get());
    }

    @Test
    void entriesExpireAfterTheTtl() {
      Entrypoint<Integer, Doubled> main = workflow(doubling(CachePolicy.ttl(Duration.ofSeconds(120))));
      main.invoke(5, freshThread()).block();
      clock.advance(Duration.ofSeconds(119));
      main.invoke(5, freshThread()).block();
      assertEquals(1, executions.get(), "still fresh at 119 s");
      clock.advance(Duration.ofSeconds(2));
      main.invoke(5, freshThread()).block();
      assertEquals(2, executions.get(), "expired after 120 s: the body ran again");
      main.invoke(5, freshThread()).block();
      assertEquals(2, executions.get(), "and its new result is cached again");
    }

    @Test
    void foreverNeverExpires() {
      Entrypoint<Integer, Doubled> main = workflow(doubling(CachePolicy.forever()));
      main.invoke(5, freshThread()).block();
      clock.advance(Duration.ofDays(3650));
      main.invoke(5, freshThread()).block();
      assertEquals(1, executions.get());
    }

    @Test
    void aCustomKeyFunctionDecidesWhatIsTheSameCall() {
      List<Object> seen = new CopyOnWriteArrayList<>();
      Task<Map<String, Object>, String> greet = Task.of("greet", String.class, (Map<String, Object> in) -> {
        executions.incrementAndGet();
        return Mono.just("hello " + in.get("user"));
      }).withCache(CachePolicy.forever().withKeyFunction(input -> {
        seen.add(input);
        return "user=" + ((Map<?, ?>) input).get("user");
      }));
      Entrypoint<Map<String, Object>, String> main = Entrypoint.named("main").cache(cache)
          .define(new dev.fluxgraph.types.TypeRef<Map<String, Object>>() { },
              dev.fluxgraph.types.TypeRef.of(String.class), (in, context) -> greet.call(in));
      assertEquals("hello ann", main.invoke(Map.of("user", "ann", "request", 1), RunConfig.none()).block());
      assertEquals("hello ann", main.invoke(Map.of("user", "ann", "request", 2), RunConfig.none()).block());
      assertEquals(1, executions.get(), "same key, though the inputs differ");
      assertEquals("hello bob", main.invoke(Map.of("user", "bob", "request", 1), RunConfig.none()).block());
      assertEquals(2, executions.get());
      assertEquals(Map.of("user", "ann", "request", 1), seen.get(0), "the key function gets the task input");
      assertTrue(cache.keys.contains("greet/user=ann"), "key = task name + keyFunction(input): " + cache.keys);
    }

    @Test
    void theDefaultKeyIsCanonicalJsonSoMapOrderDoesNotMatter() {
      Task<Map<String, Object>, String> echo = Task.of("echo", String.class, (Map<String, Object> in) -> {
        executions.incrementAndGet();
        return Mono.just(String.valueOf(in.get("a")));
      }).withCache(CachePolicy.forever());
      Entrypoint<Map<String, Object>, String> main = Entrypoint.named("main").cache(cache)
          .define(new dev.fluxgraph.types.TypeRef<Map<String, Object>>() { },
              dev.fluxgraph.types.TypeRef.of(String.class), (in, context) -> echo.call(in));
      Map<String, Object> ab = new java.util.LinkedHashMap<>();
      ab.put("a", 1);
      ab.put("b", 2);
      Map<String, Object> ba = new java.util.LinkedHashMap<>();
      ba.put("b", 2);
      ba.put("a", 1);
      main.invoke(ab, RunConfig.none()).block();
      main.invoke(ba, RunConfig.none()).block();
      assertEquals(1, executions.get());
    }

    @Test
    void clearCacheMakesTheNextCallRunTheBody() {
      Task<Integer, Doubled> task = doubling(CachePolicy.forever());
      Entrypoint<Integer, Doubled> main = workflow(task);
      main.invoke(5, freshThread()).block();
      main.invoke(5, freshThread()).block();
      assertEquals(1, executions.get());
      Mono<Void> clear = task.clearCache(cache);
      main.invoke(5, freshThread()).block();
      assertEquals(1, executions.get(), "clearCache is cold: nothing is cleared before subscription");
      StepVerifier.create(clear).expectComplete().verify(VERIFY);
      main.invoke(5, freshThread()).block();
      assertEquals(2, executions.get(), "after clearCache the body ran");
      main.invoke(5, freshThread()).block();
      assertEquals(2, executions.get());
    }

    @Test
    void clearCacheOnlyClearsThatTask() {
      Task<Integer, Doubled> task = doubling(CachePolicy.forever());
      AtomicInteger otherRuns = new AtomicInteger();
      Task<Integer, Integer> other = Task.of("other", Integer.class, (Integer x) -> {
        otherRuns.incrementAndGet();
        return Mono.just(x);
      }).withCache(CachePolicy.forever());
      Entrypoint<Integer, Doubled> main = Entrypoint.named("main").cache(cache)
          .define(Integer.class, Doubled.class, (x, context) -> other.call(x).then(task.call(x)));
      main.invoke(1, RunConfig.none()).block();
      task.clearCache(cache).block();
      main.invoke(1, RunConfig.none()).block();
      assertEquals(2, executions.get());
      assertEquals(1, otherRuns.get());
    }

    @Test
    void theEntrypointsCachePolicyAppliesToTasksWithoutTheirOwn() {
      AtomicInteger plainRuns = new AtomicInteger();
      Task<Integer, Integer> plain = Task.of("plain", Integer.class, (Integer x) -> {
        plainRuns.incrementAndGet();
        return Mono.just(x + 1);
      });
      Entrypoint<Integer, Integer> main = Entrypoint.named("main").cache(cache)
          .cachePolicy(CachePolicy.ttl(Duration.ofSeconds(10)))
          .define(Integer.class, Integer.class, (x, context) -> plain.call(x));
      main.invoke(1, RunConfig.none()).block();
      main.invoke(1, RunConfig.none()).block();
      assertEquals(1, plainRuns.get());
      clock.advance(Duration.ofSeconds(11));
      main.invoke(1, RunConfig.none()).block();
      assertEquals(2, plainRuns.get(), "the entrypoint policy's ttl applies");
    }

    @Test
    void withoutACachePolicyNothingIsCached() {
      AtomicInteger runs = new AtomicInteger();
      Task<Integer, Integer> plain = Task.of("plain", Integer.class, (Integer x) -> {
        runs.incrementAndGet();
        return Mono.just(x + 1);
      });
      Entrypoint<Integer, Integer> main = Entrypoint.named("main").cache(cache)
          .define(Integer.class, Integer.class, (x, context) -> plain.call(x));
      main.invoke(1, RunConfig.none()).block();
      main.invoke(1, RunConfig.none()).block();
      assertEquals(2, runs.get());
      assertEquals(0, cache.gets.get() + cache.puts.get());
    }

    @Test
    void aReplayedTaskOnResumeNeitherRunsNorConsultsTheCache() {
      Task<Integer, Doubled> task = doubling(CachePolicy.forever());
      Entrypoint<Integer, Integer> main = Entrypoint.named("main").cache(cache).checkpointer(new InMemorySaver())
          .define(Integer.class, Integer.class, (x, context) -> task.call(x)
              .flatMap(d -> context.interrupt("add how much to " + d.doubled() + "?", Integer.class)
                  .map(extra -> d.doubled() + extra)));
      RunConfig config = freshThread();
      GraphOutput<Integer> paused = main.run(5, config).block();
      assertTrue(paused.interrupted());
      assertEquals(1, executions.get());
      assertEquals(1, cache.gets.get(), "the first call missed the cache");
      assertEquals(1, cache.puts.get());
      cache.delegate.clear("double").block(); // a cache miss now would run the body again

      assertEquals(13, main.invoke(Command.resume(3), config).block());
      assertEquals(1, executions.get(), "replayed from the checkpoint, not run");
      assertEquals(1, cache.gets.get(), "the checkpoint answered: the cache was not consulted");
      assertEquals(1, cache.puts.get());
    }

    @Test
    void aResultServedFromTheCacheIsCheckpointedAndReplayedOnResume() {
      Task<Integer, Doubled> task = doubling(CachePolicy.forever());
      Entrypoint<Integer, Integer> main = Entrypoint.named("main").cache(cache).checkpointer(new InMemorySaver())
          .define(Integer.class, Integer.class, (x, context) -> task.call(x)
              .flatMap(d -> context.interrupt("?", Integer.class).map(extra -> d.doubled() + extra)));
      main.run(5, freshThread()).block(VERIFY); // fills the cache
      RunConfig config = freshThread();
      assertTrue(main.run(5, config).block(VERIFY).interrupted());
      assertEquals(1, executions.get(), "the second thread got a hit");
      int reads = cache.gets.get();
      cache.delegate.clear("double").block();
      assertEquals(11, main.invoke(Command.resume(1), config).block(VERIFY));
      assertEquals(1, executions.get(), "the hit was recorded in the checkpoint, so it replays");
      assertEquals(reads, cache.gets.get(), "without consulting the cache");
    }

    @Test
    void aReplayedTaskIsNotReportedAsACacheHit() {
      Task<Integer, Doubled> task = doubling(CachePolicy.forever());
      Entrypoint<Integer, Integer> main = Entrypoint.named("main").cache(cache).checkpointer(new InMemorySaver())
          .define(Integer.class, Integer.class, (x, context) -> task.call(x)
              .flatMap(d -> context.interrupt("?", Integer.class).map(extra -> d.doubled() + extra)));
      RunConfig config = freshThread();
      main.run(5, config).block();
      List<Object> chunks = main.stream(Command.resume(1), config, StreamMode.UPDATES).map(StreamChunk::data)
          .collectList().block(VERIFY);
      assertEquals(List.of(Map.of("main", 11)), chunks, "no updates chunk for a replayed task (§2)");
    }

    @Test
    void failuresAreNotCached() {
      AtomicInteger attempts = new AtomicInteger();
      Task<Integer, Integer> flaky = Task.of("flaky", Integer.class, (Integer x) -> attempts.incrementAndGet() == 1
          ? Mono.<Integer>error(new IllegalStateException("first")) : Mono.just(x)).withCache(CachePolicy.forever());
      Entrypoint<Integer, Integer> main = Entrypoint.named("main").cache(cache)
          .define(Integer.class, Integer.class, (x, context) -> flaky.call(x));
      StepVerifier.create(main.invoke(1, RunConfig.none())).expectErrorMessage("first").verify(VERIFY);
      assertEquals(1, main.invoke(1, RunConfig.none()).block());
      assertEquals(1, main.invoke(1, RunConfig.none()).block());
      assertEquals(2, attempts.get());
    }

    @Test
    void invalidCachePoliciesAreRejected() {
      assertThrows(IllegalArgumentException.class, () -> CachePolicy.ttl(Duration.ZERO));
      assertThrows(IllegalArgumentException.class, () -> CachePolicy.ttl(Duration.ofSeconds(-1)));
      assertThrows(IllegalArgumentException.class, () -> CachePolicy.forever().withTtl(Duration.ZERO));
      assertThrows(NullPointerException.class, () -> CachePolicy.forever().withKeyFunction(null));
      assertThrows(NullPointerException.class, () -> new CachePolicy(null, null));
      assertNull(CachePolicy.forever().ttl());
      assertEquals(Duration.ofMinutes(2), CachePolicy.ttl(Duration.ofMinutes(2)).ttl());
    }
  }
}
