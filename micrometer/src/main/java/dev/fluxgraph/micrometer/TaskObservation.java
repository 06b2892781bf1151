package dev.fluxgraph.micrometer;

import dev.fluxgraph.instrument.TaskObserver;
import dev.fluxgraph.instrument.TaskOutcome;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import org.jspecify.annotations.Nullable;

/** One executed task call's {@code fluxgraph.task} observation; stopped when the engine reports the call's end. */
final class TaskObservation extends ScopeObservation implements TaskObserver {

  private final TaskObservationContext task;

  TaskObservation(Observation observation, TaskObservationContext task, ObservationRegistry registry,
                  @Nullable Meters meters) {
    super(observation, task.run(), registry, meters);
    this.task = task;
  }

  @Override
  String scopeName() {
    return task.task();
  }

  @Override
  public void retrying(int failedAttempts, Throwable error) {
    task.retrying(failedAttempts);
    super.retrying(failedAttempts, error);
  }

  @Override
  public void taskEnded(TaskOutcome outcome, int attempts, @Nullable Throwable error) {
    task.ended(outcome, attempts);
    if (error != null) {
      observation.error(error);
    }
    observation.stop();
  }
}
