package dev.fluxgraph.instrument;

import java.util.Locale;

/** How a run ended. */
public enum RunOutcome {
  /** It returned a value (also: a continuation of a thread whose run had completed). */
  COMPLETED,
  /** It paused on interrupts or at a breakpoint; the thread resumes it. */
  INTERRUPTED,
  /** It failed (also before it started: a command with nothing to resume, an input it refuses). */
  ERROR,
  /** Its subscriber cancelled it; the thread continues it with {@code Command.proceed()}. */
  CANCELLED;

  private final String tagValue = name().toLowerCase(Locale.ROOT);

  /** The lower-case name, e.g. {@code interrupted}: the {@code outcome} tag of metrics. */
  public String tagValue() {
    return tagValue;
  }
}
