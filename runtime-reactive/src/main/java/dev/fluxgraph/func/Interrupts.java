package dev.fluxgraph.func;

import dev.fluxgraph.types.TypeRef;
import reactor.core.publisher.Mono;

/** {@code interrupt} for code that has no {@link TaskContext} at hand: uses {@link TaskContext#current()}. */
public final class Interrupts {

  private Interrupts() {
  }

  /** See {@link TaskContext#interrupt(Object, Class)}; errors with {@link IllegalStateException} outside a run. */
  public static <T> Mono<T> interrupt(Object value, Class<T> resumeType) {
    return TaskContext.current().flatMap(context -> context.interrupt(value, resumeType));
  }

  /** See {@link TaskContext#interrupt(Object, TypeRef)}; errors with {@link IllegalStateException} outside a run. */
  public static <T> Mono<T> interrupt(Object value, TypeRef<T> resumeType) {
    return TaskContext.current().flatMap(context -> context.interrupt(value, resumeType));
  }
}
