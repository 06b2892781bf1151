package dev.fluxgraph.types;

/** When task results reach the checkpointer (SEMANTICS.md §8). */
public enum Durability {
  /** A task's result is persisted before its {@code Mono} emits. */
  SYNC,
  /** Persisted in the background; all writes are flushed before the run's final chunk. The default. */
  ASYNC,
  /** Persisted only when the run completes, pauses or fails. */
  EXIT
}
