package dev.fluxgraph.micrometer;

import dev.fluxgraph.instrument.ScopeObserver;
import dev.fluxgraph.instrument.TaskObserver;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.contextpropagation.ObservationThreadLocalAccessor;
import org.jspecify.annotations.Nullable;
import reactor.util.context.Context;

/** The observation of a run's body or of a task's: the parent of the tasks it calls. */
abstract class ScopeObservation implements ScopeObserver {

  final Observation observation;
  final RunObservationContext run;
  final ObservationRegistry registry;
  final @Nullable Meters meters;

  ScopeObservation(Observation observation, RunObservationContext run, ObservationRegistry registry,
                   @Nullable Meters meters) {
    this.observation = observation;
    this.run = run;
    this.registry = registry;
    this.meters = meters;
  }

  /** The scope's name as the meters' {@code task} tag: the task's, or the entrypoint's for the run's body. */
  abstract String scopeName();

  @Override
  public Context contextOf(Context context) {
    return context.put(ObservationThreadLocalAccessor.KEY, observation);
  }

  @Override
  public void inScope(Runnable signal) {
    try (Observation.Scope scope = observation.openScope()) {
      signal.run();
    }
  }

  @Override
  public TaskObserver taskStarted(String task, String callId, boolean nested) {
    TaskObservationContext context = new TaskObservationContext(run, task, callId, nested);
    Observation child = FluxgraphObservationDocumentation.TASK.observation(null,
            DefaultTaskObservationConvention.INSTANCE, () -> context, registry)
        .parentObservation(observation)
        .start();
    return new TaskObservation(child, context, registry, meters);
  }

  @Override
  public void taskReplayed(String task, String callId) {
    observation.event(Observation.Event.of("fluxgraph.replay", "replayed " + task));
    if (meters != null) {
      meters.replay(run.entrypoint(), task);
    }
  }

  @Override
  public void interrupted(String interruptId) {
    observation.event(Observation.Event.of("fluxgraph.interrupt", "interrupt " + interruptId));
    if (meters != null) {
      meters.interrupt(run.entrypoint(), scopeName());
    }
  }

  @Override
  public void retrying(int failedAttempts, Throwable error) {
    observation.event(Observation.Event.of("fluxgraph.retry", "attempt " + failedAttempts + " failed: "
        + error.getClass().getSimpleName()));
    if (meters != null) {
      meters.retry(run.entrypoint(), scopeName());
    }
  }

  @Override
  public void attribute(String key, String value) {
    observation.highCardinalityKeyValue(key, value);
  }
}
