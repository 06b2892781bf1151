package dev.fluxgraph.micrometer;

import dev.fluxgraph.instrument.CheckpointWrite;
import dev.fluxgraph.instrument.RunObserver;
import dev.fluxgraph.instrument.RunOutcome;
import io.micrometer.core.instrument.Timer;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import org.jspecify.annotations.Nullable;

/** One run's {@code fluxgraph.run} observation; stopped when the engine reports the run's end. */
final class RunObservation extends ScopeObservation implements RunObserver {

  RunObservation(Observation observation, RunObservationContext run, ObservationRegistry registry,
                 @Nullable Meters meters) {
    super(observation, run, registry, meters);
  }

  @Override
  String scopeName() {
    return run.entrypoint();
  }

  @Override
  public Completion checkpointWriteStarted(CheckpointWrite kind) {
    Meters timers = meters;
    if (timers == null) {
      return Completion.NOOP;
    }
    Timer.Sample sample = Timer.start(timers.registry());
    return error -> sample.stop(timers.checkpointWrite(run.entrypoint(), kind, error != null));
  }

  @Override
  public void runEnded(RunOutcome outcome, @Nullable Throwable error) {
    run.outcome(outcome);
    if (error != null) {
      observation.error(error);
    }
    observation.stop();
  }
}
