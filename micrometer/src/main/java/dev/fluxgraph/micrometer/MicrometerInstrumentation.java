package dev.fluxgraph.micrometer;

import dev.fluxgraph.instrument.Instrumentation;
import dev.fluxgraph.instrument.RunObserver;
import dev.fluxgraph.types.RunConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.contextpropagation.ObservationThreadLocalAccessor;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import reactor.util.context.ContextView;

/**
 * Fluxgraph's instrumentation hook on Micrometer: every run becomes a {@code fluxgraph.run} observation and every
 * executed task a {@code fluxgraph.task} observation, child of the run's or of the calling task's; interrupts,
 * replayed tasks and retries are counted ({@code fluxgraph.interrupts}, {@code fluxgraph.replays},
 * {@code fluxgraph.retries}, tagged {@code entrypoint} and {@code task}) and recorded as events on the observation
 * they happen in; checkpoint writes are timed ({@code fluxgraph.checkpoint.write}, tagged {@code entrypoint},
 * {@code kind} = {@code checkpoint|writes}, {@code outcome} = {@code completed|error}).
 *
 * <p>Install it on a workflow: {@code Entrypoint.named("essay").instrumentation(MicrometerInstrumentation.of(
 * observations, meters))}, or {@code CompileOptions.withInstrumentation(..)} for a graph (the Spring Boot starter
 * does it for every graph bean). Timers of the observations come from the registry's handlers (Spring Boot
 * registers a {@code DefaultMeterObservationHandler}), spans from a tracing bridge's.
 *
 * <p>Observations are started and stopped explicitly when the engine reports a start and an end, never by
 * subscribing or cancelling: a run that pauses on an interrupt (its paused tasks' {@code Mono}s never complete) ends
 * as {@code outcome=interrupted}, not as a cancel. A run's parent is the observation in its subscriber's Reactor
 * context (under {@link ObservationThreadLocalAccessor#KEY}, where Reactor's context propagation and Spring put it),
 * else the registry's current one. Each task's observation is put into the Reactor context of its body, so that what
 * the body calls (an HTTP client, a model) records its own observations as children of the task's, also after
 * thread hops when automatic context propagation is on ({@code Hooks.enableAutomaticContextPropagation()}, in Spring
 * Boot {@code spring.reactor.context-propagation=auto}).
 */
public final class MicrometerInstrumentation implements Instrumentation {

  private final ObservationRegistry observations;
  private final @Nullable Meters meters;

  private MicrometerInstrumentation(ObservationRegistry observations, @Nullable MeterRegistry meters) {
    this.observations = Objects.requireNonNull(observations, "observations must not be null");
    this.meters = meters == null ? null : new Meters(meters);
  }

  /** Observations only: the counters and the checkpoint write timer need a {@link MeterRegistry}. */
  public static MicrometerInstrumentation of(ObservationRegistry observations) {
    return new MicrometerInstrumentation(observations, null);
  }

  /** Observations in {@code observations}; counters and the checkpoint write timer in {@code meters}. */
  public static MicrometerInstrumentation of(ObservationRegistry observations, MeterRegistry meters) {
    return new MicrometerInstrumentation(observations, Objects.requireNonNull(meters, "meters must not be null"));
  }

  @Override
  public RunObserver runStarted(String workflow, RunConfig config, ContextView context) {
    if (observations.isNoop() && meters == null) {
      return RunObserver.NOOP;
    }
    RunObservationContext run = new RunObservationContext(workflow, config.threadId().orElse(null));
    Observation parent = context.getOrDefault(ObservationThreadLocalAccessor.KEY, null);
    if (parent == null) {
      parent = observations.getCurrentObservation();
    }
    Observation observation = FluxgraphObservationDocumentation.RUN.observation(null,
            DefaultRunObservationConvention.INSTANCE, () -> run, observations)
        .parentObservation(parent)
        .start();
    return new RunObservation(observation, run, observations, meters);
  }

  @Override
  public String toString() {
    return "MicrometerInstrumentation{" + (meters == null ? "observations" : "observations and meters") + "}";
  }
}
