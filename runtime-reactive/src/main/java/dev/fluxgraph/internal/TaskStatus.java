package dev.fluxgraph.internal;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
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

  /** The transitions, all of them in one place: what each status may become. */
  private static final Map<TaskStatus, Set<TaskStatus>> NEXT = new EnumMap<>(Map.of(
      RUNNING, EnumSet.of(CACHED, SUCCEEDED, FAILED, INTERRUPTED, CANCELLED),
      INTERRUPTED, EnumSet.of(RUNNING, CANCELLED, SUCCEEDED, FAILED),
      REPLAYED, EnumSet.noneOf(TaskStatus.class),
      CACHED, EnumSet.noneOf(TaskStatus.class),
      SUCCEEDED, EnumSet.noneOf(TaskStatus.class),
      FAILED, EnumSet.noneOf(TaskStatus.class),
      CANCELLED, EnumSet.noneOf(TaskStatus.class)));

  boolean canBecome(TaskStatus target) {
    return NEXT.get(this).contains(target);
  }
}
