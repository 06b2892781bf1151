package dev.fluxgraph.func;

import com.fasterxml.jackson.databind.JavaType;
import dev.fluxgraph.cache.Cache;
import dev.fluxgraph.internal.Json;
import dev.fluxgraph.internal.ScopeBody;
import dev.fluxgraph.internal.TaskCalls;
import dev.fluxgraph.internal.TaskSpec;
import dev.fluxgraph.types.CachePolicy;
import dev.fluxgraph.types.RetryPolicy;
import dev.fluxgraph.types.TypeRef;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * A task: a named, checkpointed unit of work whose body returns a {@code Mono}. Immutable and thread-safe;
 * {@code withX} methods return copies.
 *
 * <p>{@link #call} returns a cold {@code Mono}. When it is subscribed inside a run, the run gives the call an id
 * derived from the calling scope, the task name, the canonical JSON of the input and how many identical calls
 * came before it in that scope, so the id is the same on every replay whatever the thread timing. A result
 * recorded for that id is returned without running the body; otherwise the body runs (with the task's timeout
 * and retry policies, or the entrypoint's defaults), its result is recorded and an {@code updates} chunk is
 * emitted before the value reaches the caller. Results must be JSON-serializable; they are read back as the
 * declared output type.
 *
 * @param <I> input type
 * @param <O> output type
 */
public final class Task<I, O> {

  private final String name;
  private final JavaType output;
  private final BiFunction<? super I, TaskContext, ? extends Mono<O>> body;
  private final List<RetryPolicy> retry;
  private final @Nullable Duration timeout;
  private final @Nullable CachePolicy cachePolicy;
  private final TaskSpec spec;

  private Task(String name, JavaType output, BiFunction<? super I, TaskContext, ? extends Mono<O>> body,
               List<RetryPolicy> retry, @Nullable Duration timeout, @Nullable CachePolicy cachePolicy) {
    this.name = name;
    this.output = output;
    this.body = body;
    this.retry = retry;
    this.timeout = timeout;
    this.cachePolicy = cachePolicy;
    this.spec = new TaskSpec(name, output, scopeBody(name, body), retry, timeout, cachePolicy, null);
  }

  /** A task whose body takes only its input. @throws IllegalArgumentException if the name is blank */
  public static <I, O> Task<I, O> of(String name, Class<O> output, Function<? super I, ? extends Mono<O>> body) {
    Objects.requireNonNull(body, "body must not be null");
    return create(name, Json.type(Objects.requireNonNull(output, "output must not be null")),
        (input, context) -> body.apply(input));
  }

  /** A task with a generic output type. */
  public static <I, O> Task<I, O> of(String name, TypeRef<O> output, Function<? super I, ? extends Mono<O>> body) {
    Objects.requireNonNull(body, "body must not be null");
    return create(name, Json.type(Objects.requireNonNull(output, "output must not be null")),
        (input, context) -> body.apply(input));
  }

  /** A task whose body also receives its {@link TaskContext} (writer, store, interrupt, config). */
  public static <I, O> Task<I, O> of(String name, Class<O> output,
                                     BiFunction<? super I, TaskContext, ? extends Mono<O>> body) {
    return create(name, Json.type(Objects.requireNonNull(output, "output must not be null")), body);
  }

  /** A task with a generic output type whose body also receives its {@link TaskContext}. */
  public static <I, O> Task<I, O> of(String name, TypeRef<O> output,
                                     BiFunction<? super I, TaskContext, ? extends Mono<O>> body) {
    return create(name, Json.type(Objects.requireNonNull(output, "output must not be null")), body);
  }

  private static <I, O> Task<I, O> create(String name, JavaType output,
                                          BiFunction<? super I, TaskContext, ? extends Mono<O>> body) {
    Objects.requireNonNull(name, "name must not be null");
    Objects.requireNonNull(body, "body must not be null");
    if (name.isBlank()) {
      throw new IllegalArgumentException("task name must not be blank");
    }
    return new Task<>(name, output, body, List.of(), null, null);
  }

  /**
   * A copy retried by these policies (the first whose {@code retryOn} matches a failure decides). Replaces the
   * entrypoint's default policies for this task.
   */
  public Task<I, O> withRetry(RetryPolicy... policies) {
    Objects.requireNonNull(policies, "policies must not be null");
    if (policies.length == 0) {
      throw new IllegalArgumentException("withRetry needs at least one policy");
    }
    return new Task<>(name, output, body, List.of(policies), timeout, cachePolicy);
  }

  /**
   * A copy whose every attempt is bounded by {@code perAttempt}; an attempt that takes longer fails with
   * {@code NodeTimeoutException}, which retry policies may retry. @throws IllegalArgumentException if not positive
   */
  public Task<I, O> withTimeout(Duration perAttempt) {
    Objects.requireNonNull(perAttempt, "perAttempt must not be null");
    if (perAttempt.isZero() || perAttempt.isNegative()) {
      throw new IllegalArgumentException("timeout of task '" + name + "' must be positive, was " + perAttempt);
    }
    return new Task<>(name, output, body, retry, perAttempt, cachePolicy);
  }

  /** A copy whose results are cached by the entrypoint's {@link Cache} under this policy. */
  public Task<I, O> withCache(CachePolicy policy) {
    Objects.requireNonNull(policy, "policy must not be null");
    return new Task<>(name, output, body, retry, timeout, policy);
  }

  public String name() {
    return name;
  }

  /**
   * Calls the task. Cold: nothing happens until subscription; each subscription is one call. Errors with
   * {@link IllegalStateException} when subscribed outside a run. Cancelling the subscription cancels the body;
   * the call then runs again when the thread continues.
   */
  public Mono<O> call(@Nullable I input) {
    return TaskCalls.call(spec, input);
  }

  /** {@code call(null)}, for tasks without input. */
  public Mono<O> call() {
    return call(null);
  }

  /** Removes this task's entries from {@code cache}. */
  public Mono<Void> clearCache(Cache cache) {
    Objects.requireNonNull(cache, "cache must not be null");
    return Mono.defer(() -> cache.clear(name));
  }

  @Override
  public String toString() {
    return "Task{" + name + "}";
  }

  @SuppressWarnings("unchecked")
  private static <I, O> ScopeBody scopeBody(String name,
                                            BiFunction<? super I, TaskContext, ? extends Mono<O>> body) {
    return (input, scope) -> {
      Mono<O> result = body.apply((I) input, scope);
      if (result == null) {
        return Mono.error(new NullPointerException("the body of task '" + name + "' returned null instead of a Mono"));
      }
      return result;
    };
  }

}
