package dev.fluxgraph.internal;

import com.fasterxml.jackson.databind.JavaType;
import dev.fluxgraph.types.CachePolicy;
import dev.fluxgraph.types.RetryPolicy;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Everything the engine needs to know about a callable unit: a task, or a nested entrypoint ({@code child}).
 *
 * @param retry       own retry policies; empty to use the enclosing entrypoint's
 * @param timeout     own per-attempt timeout, or null for none
 * @param cachePolicy own cache policy, or null to use the enclosing entrypoint's
 * @param child       the nested entrypoint this call runs, or null for a plain task
 */
public record TaskSpec(String name, JavaType output, ScopeBody body, List<RetryPolicy> retry,
                       @Nullable Duration timeout, @Nullable CachePolicy cachePolicy,
                       @Nullable EntrypointSpec child) {
}
