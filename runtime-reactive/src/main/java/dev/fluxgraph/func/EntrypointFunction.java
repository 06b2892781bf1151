package dev.fluxgraph.func;

import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The body of an entrypoint.
 *
 * @param <I> input type
 * @param <R> what the body returns ({@code O}, or {@code Final<O, S>})
 * @param <P> the saved value type seen through {@link EntrypointContext#previous()}
 */
@FunctionalInterface
public interface EntrypointFunction<I, R, P> {
  Mono<R> apply(@Nullable I input, EntrypointContext<P> context);
}
