package dev.fluxgraph.micrometer;

import dev.fluxgraph.instrument.TaskOutcome;
import io.micrometer.observation.Observation;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** What a {@code fluxgraph.task} observation knows: the task and its run, and once ended the outcome and attempts. */
public final class TaskObservationContext extends Observation.Context {

  private final RunObservationContext run;
  private final String task;
  private final String callId;
  private final boolean nested;
  private volatile @Nullable TaskOutcome outcome;
  private volatile int attempts = 1;

  TaskObservationContext(RunObservationContext run, String task, String callId, boolean nested) {
    this.run = Objects.requireNonNull(run, "run must not be null");
    this.task = Objects.requireNonNull(task, "task must not be null");
    this.callId = Objects.requireNonNull(callId, "callId must not be null");
    this.nested = nested;
  }

  /** The run that called the task. */
  public RunObservationContext run() {
    return run;
  }

  /** The task's name. */
  public String task() {
    return task;
  }

  /** The call's id, stable across resumes. */
  public String callId() {
    return callId;
  }

  /** Whether the call ran a nested entrypoint or graph. */
  public boolean nested() {
    return nested;
  }

  /** How the call ended; null while it runs. */
  public @Nullable TaskOutcome outcome() {
    return outcome;
  }

  /** Attempts of the body so far (1 while the first runs). */
  public int attempts() {
    return attempts;
  }

  void ended(TaskOutcome ended, int attemptsRun) {
    this.attempts = attemptsRun;
    this.outcome = ended;
  }

  void retrying(int failedAttempts) {
    this.attempts = failedAttempts + 1;
  }
}
