package dev.fluxgraph.graph;

import dev.fluxgraph.types.CachePolicy;
import dev.fluxgraph.types.RetryPolicy;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Per-node policies, copy-on-write like {@link RetryPolicy}: retries, a per-attempt timeout, a cache policy (the
 * graph needs a cache: {@link CompileOptions#withCache}), and the nodes a node may send the run to with
 * {@code Command.goTo} (so that compile-time validation knows they are reachable), and whether the node is
 * {@linkplain #deferred() deferred}.
 *
 * @param retry        retry policies, first match wins; empty for none
 * @param timeout      per-attempt timeout, or null
 * @param cachePolicy  cache policy, or null
 * @param destinations nodes reachable through {@code Command.goTo} from this node
 * @param defer        whether the node waits until the run has nothing else to do ({@link #deferred()})
 */
public record NodeOptions(List<RetryPolicy> retry, @Nullable Duration timeout, @Nullable CachePolicy cachePolicy,
                          List<String> destinations, boolean defer) {

  public NodeOptions {
    retry = List.copyOf(Objects.requireNonNull(retry, "retry must not be null"));
    destinations = List.copyOf(Objects.requireNonNull(destinations, "destinations must not be null"));
    if (timeout != null && (timeout.isZero() || timeout.isNegative())) {
      throw new IllegalArgumentException("node timeout must be positive, was " + timeout);
    }
  }

  /** Options of a node that is not deferred. */
  public NodeOptions(List<RetryPolicy> retry, @Nullable Duration timeout, @Nullable CachePolicy cachePolicy,
                     List<String> destinations) {
    this(retry, timeout, cachePolicy, destinations, false);
  }

  /** No retry, no timeout, no cache, no declared destinations, not deferred. */
  public static NodeOptions defaults() {
    return new NodeOptions(List.of(), null, null, List.of(), false);
  }

  /**
   * {@link #defaults()} for a deferred node (the reference's {@code defer=True}): once an edge, a fan-in edge or
   * {@code Command.goTo} schedules it, it does not run in the next superstep but waits until nothing else is
   * scheduled (no other node and no {@link Send}), then runs once, however many times it was scheduled meanwhile.
   * The usual use is a node that collects the results of branches of different lengths. A {@link Send} to a
   * deferred node runs in the next superstep like any Send. In the reference, pending Sends alone do not hold a
   * deferred node back; here they do, as they are work of the run still to do.
   */
  public static NodeOptions deferred() {
    return defaults().withDeferred();
  }

  /** These options, for a deferred node ({@link #deferred()}). */
  public NodeOptions withDeferred() {
    return new NodeOptions(retry, timeout, cachePolicy, destinations, true);
  }

  public NodeOptions withRetry(RetryPolicy... policies) {
    return new NodeOptions(List.of(policies), timeout, cachePolicy, destinations, defer);
  }

  public NodeOptions withTimeout(Duration perAttempt) {
    return new NodeOptions(retry, Objects.requireNonNull(perAttempt, "perAttempt must not be null"), cachePolicy,
        destinations, defer);
  }

  public NodeOptions withCachePolicy(CachePolicy policy) {
    return new NodeOptions(retry, timeout, Objects.requireNonNull(policy, "policy must not be null"), destinations,
        defer);
  }

  public NodeOptions withDestinations(String... nodes) {
    return new NodeOptions(retry, timeout, cachePolicy, List.of(nodes), defer);
  }
}
