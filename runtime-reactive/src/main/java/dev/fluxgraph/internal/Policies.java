package dev.fluxgraph.internal;

import dev.fluxgraph.errors.NodeTimeoutException;
import dev.fluxgraph.instrument.ScopeObserver;
import dev.fluxgraph.types.RetryPolicy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.util.retry.Retry;

/** Retry and timeout policies as Reactor operators; all delays run on the given scheduler. */
final class Policies {

  private Policies() {
  }

  /**
   * Bounds each subscription (attempt) of {@code attempt}; a timeout becomes {@link NodeTimeoutException}, except
   * when the attempt is by then paused on an interrupt ({@code paused}): a paused task waits for its answer, it has
   * not timed out, so it stays pending until the run ends.
   */
  static <T> Mono<T> timeout(Mono<T> attempt, String name, @Nullable Duration timeout, Scheduler scheduler,
                             BooleanSupplier paused) {
    return timeout == null ? attempt
        : attempt.timeout(timeout, Mono.defer(() -> paused.getAsBoolean() ? Mono.<T>never()
            : Mono.<T>error(new NodeTimeoutException(name, timeout))), scheduler);
  }

  /**
   * Resubscribes after a failure when the first policy whose {@code retryOn} accepts it allows another attempt,
   * after that policy's backoff, which it reports to {@code observer}. The final failure is the original error, not
   * a wrapper.
   */
  static <T> Mono<T> retry(Mono<T> attempts, List<RetryPolicy> policies, Scheduler scheduler,
                           ScopeObserver observer) {
    if (policies.isEmpty()) {
      return attempts;
    }
    return attempts.retryWhen(Retry.from(signals -> signals.concatMap(signal -> {
      Throwable error = signal.failure();
      if (error instanceof ParentCommand) { // a Command for a graph up the call tree, not a failure to retry
        return Mono.error(error);
      }
      int failed = (int) Math.min(Integer.MAX_VALUE, signal.totalRetries() + 1);
      RetryPolicy policy = null;
      for (RetryPolicy candidate : policies) {
        if (candidate.retryOn().test(error)) {
          policy = candidate;
          break;
        }
      }
      if (policy == null || failed >= policy.maxAttempts()) {
        return Mono.error(error);
      }
      Duration delay = policy.backoff(failed);
      if (policy.jitter()) {
        delay = delay.plusMillis(ThreadLocalRandom.current().nextLong(1000));
      }
      observer.retrying(failed, error);
      return Mono.delay(delay, scheduler);
    })));
  }
}
