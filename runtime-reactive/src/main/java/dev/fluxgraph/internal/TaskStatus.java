package dev.fluxgraph.internal;

import java.util.EnumSet;
import java.util.Set;

/** The lifecycle of one task call within a run; every transition is checked here. */
enum TaskStatus {
  /** Its body (or cache lookup) is executing. */
  RUNNING,
  /** The result came from the checkpoint; the body did not run. */
  REPLAYED,
  /** The result came from the cache; the body did not run. */
  CACHED,
  /** The body returned a value, which was recorded. */
  SUCCEEDED,
  /** The last attempt failed; the call re-runs on the next run of the thread. */
  FAILED,
  /**
   * Everything in it is paused on interrupts. Revocable until the run stops: a task started in it afterwards (after
   * a thread hop, say) makes it RUNNING again.
   */
  INTERRUPTED,
  /** Its subscriber went away before it finished; the call re-runs on the next run of the thread. */
  CANCELLED;

  private Set<TaskStatus> next() {
    return switch (this) {
      case RUNNING -> EnumSet.of(CACHED, SUCCEEDED, FAILED, INTERRUPTED, CANCELLED);
      case INTERRUPTED -> EnumSet.of(RUNNING, CANCELLED, SUCCEEDED, FAILED);
      case REPLAYED, CACHED, SUCCEEDED, FAILED, CANCELLED -> EnumSet.noneOf(TaskStatus.class);
    };
  }

  boolean canBecome(TaskStatus target) {
    return next().contains(target);
  }
}
