package dev.fluxgraph.instrument;

import java.util.Locale;

/** How an executed task call ended. */
public enum TaskOutcome {
  /** Its body returned; the result was recorded. */
  COMPLETED,
  /** The cache answered it; its body did not run. */
  CACHED,
  /** It waited for answers to interrupts when the run paused; it runs again when the thread resumes. */
  INTERRUPTED,
  /** Its last attempt failed. */
  ERROR,
  /** Its caller (or the run) went away before it finished; it runs again when the thread continues. */
  CANCELLED;

  private final String tagValue = name().toLowerCase(Locale.ROOT);

  /** The lower-case name, e.g. {@code completed}: the {@code outcome} tag of metrics. */
  public String tagValue() {
    return tagValue;
  }
}
