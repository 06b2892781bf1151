package dev.fluxgraph.func;

import org.jspecify.annotations.Nullable;

/**
 * Returned by a {@code defineFinal} body: {@code value} goes to the caller, {@code save} becomes
 * {@code previous} for the next run on the thread (LangGraph's {@code entrypoint.final}).
 */
public record Final<R, S>(@Nullable R value, @Nullable S save) {

  public static <R, S> Final<R, S> of(@Nullable R value, @Nullable S save) {
    return new Final<>(value, save);
  }
}
