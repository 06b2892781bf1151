package dev.fluxgraph.internal;

import com.fasterxml.jackson.databind.JavaType;
import dev.fluxgraph.types.CachePolicy;
import dev.fluxgraph.types.RetryPolicy;
import java.time.Duration;
import dev.fluxgraph.func.Final;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * Everything the engine needs to know about a callable unit: a task, or a nested entrypoint ({@code child}).
 *
 * @param retry       own retry policies; empty to use the enclosing entrypoint's
 * @param timeout     own per-attempt timeout, or null for none
 * @param cachePolicy own cache policy, or null to use the enclosing entrypoint's
 * @param child       the nested entrypoint (or graph) this call runs, or null for a plain task
 * @param shown       what {@code updates} and {@code tasks} chunks show of a result
 */
public record TaskSpec(String name, JavaType output, ScopeBody body, List<RetryPolicy> retry,
                       @Nullable Duration timeout, @Nullable CachePolicy cachePolicy,
                       @Nullable EntrypointSpec child, UnaryOperator<@Nullable Object> shown) {

  public TaskSpec(String name, JavaType output, ScopeBody body, List<RetryPolicy> retry, @Nullable Duration timeout,
                  @Nullable CachePolicy cachePolicy, @Nullable EntrypointSpec child) {
    this(name, output, body, retry, timeout, cachePolicy, child, UnaryOperator.identity());
  }

  /**
   * A call that runs {@code child} nested in the calling scope, named {@code name} (its namespace segment); a
   * {@code Final} body result is reduced to its value.
   */
  public static TaskSpec child(String name, EntrypointSpec child) {
    ScopeBody body = child.body();
    if (child.finalValue()) {
      body = (input, scope) -> child.body().run(input, scope)
          .map(result -> result instanceof Final<?, ?> value ? Optional.ofNullable(value.value())
              : Optional.of(result))
          .flatMap(Mono::justOrEmpty);
    }
    return new TaskSpec(name, child.output(), body, child.retry(), child.timeout(), null, child);
  }
}
