package dev.fluxgraph.internal.server.runs;

import java.util.Locale;

/**
 * The run status state machine, as the LangGraph API names the statuses: pending, then running, then one of the
 * final three. {@link #canBecome} is the one function saying which transitions are allowed; {@code Run.transition}
 * is the one place a run's status changes.
 */
public enum RunStatus {
  PENDING, RUNNING, SUCCESS, ERROR, INTERRUPTED;

  /** The status's name in the protocol. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public boolean finished() {
    return this != PENDING && this != RUNNING;
  }

  /** The allowed transitions: pending to running, and an unfinished run to any final status. */
  public boolean canBecome(RunStatus next) {
    return this == PENDING ? next != PENDING : this == RUNNING && next.finished();
  }
}
