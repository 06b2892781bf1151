package dev.fluxgraph.micrometer;

import dev.fluxgraph.instrument.RunOutcome;
import io.micrometer.observation.Observation;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** What a {@code fluxgraph.run} observation knows: the entrypoint, the thread, and once ended the outcome. */
public final class RunObservationContext extends Observation.Context {

  private final String entrypoint;
  private final @Nullable String threadId;
  private volatile @Nullable RunOutcome outcome;

  RunObservationContext(String entrypoint, @Nullable String threadId) {
    this.entrypoint = Objects.requireNonNull(entrypoint, "entrypoint must not be null");
    this.threadId = threadId;
  }

  /** The entrypoint's or graph's name. */
  public String entrypoint() {
    return entrypoint;
  }

  /** The run's thread id, or null for a run without one. */
  public @Nullable String threadId() {
    return threadId;
  }

  /** How the run ended; null while it runs. */
  public @Nullable RunOutcome outcome() {
    return outcome;
  }

  void outcome(RunOutcome ended) {
    this.outcome = ended;
  }
}
