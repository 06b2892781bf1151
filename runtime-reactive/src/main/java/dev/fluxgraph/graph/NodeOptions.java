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
 * {@code Command.goTo} (so that compile-time validation knows they are reachable).
 *
 * @param retry        retry policies, first match wins; empty for none
 * @param timeout      per-attempt timeout, or null
 * @param cachePolicy  cache policy, or null
 * @param destinations nodes reachable through {@code Command.goTo} from this node
 */
public record NodeOptions(List<RetryPolicy> retry, @Nullable Duration timeout, @Nullable CachePolicy cachePolicy,
                          List<String> destinations) {

  public NodeOptions {
    retry = List.copyOf(Objects.requireNonNull(retry, "retry must not be null"));
    destinations = List.copyOf(Objects.requireNonNull(destinations, "destinations must not be null"));
    if (timeout != null && (timeout.isZero() || timeout.isNegative())) {
      throw new IllegalArgumentException("node timeout must be positive, was " + timeout);
    }
  }

  /** No retry, no timeout, no cache, no declared destinations. */
  public static NodeOptions defaults() {
    return new NodeOptions(List.of(), null, null, List.of());
  }

  public NodeOptions withRetry(RetryPolicy... policies) {
    return new NodeOptions(List.of(policies), timeout, cachePolicy, destinations);
  }

  public NodeOptions withTimeout(Duration perAttempt) {
    return new NodeOptions(retry, Objects.requireNonNull(perAttempt, "perAttempt must not be null"), cachePolicy,
        destinations);
  }

  public NodeOptions withCachePolicy(CachePolicy policy) {
    return new NodeOptions(retry, timeout, Objects.requireNonNull(policy, "policy must not be null"), destinations);
  }

  public NodeOptions withDestinations(String... nodes) {
    return new NodeOptions(retry, timeout, cachePolicy, List.of(nodes));
  }
}
