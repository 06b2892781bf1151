package dev.fluxgraph.internal;

import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/** The code a scope executes: a task body or an entrypoint body, given its input and its context. */
@FunctionalInterface
public interface ScopeBody {
  Mono<?> run(@Nullable Object input, Scope scope);
}
