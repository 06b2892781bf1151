package dev.fluxgraph.internal;

import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/** The entry from the public API into the task-call path: finds the calling scope in the Reactor context. */
public final class TaskCalls {

  private TaskCalls() {
  }

  /** A cold call of {@code spec}; errors with {@link IllegalStateException} outside a run. */
  public static <O> Mono<O> call(TaskSpec spec, @Nullable Object input) {
    return Mono.deferContextual(context -> {
      Scope parent = Scope.from(context);
      if (parent == null) {
        return Mono.error(new IllegalStateException("'" + spec.name() + "' was called outside a running entrypoint;"
            + " call it from an entrypoint or task body (or a publisher they subscribe to), and do not detach it with"
            + " subscribe()"));
      }
      return TaskCall.<O>call(parent, spec, input);
    });
  }
}
