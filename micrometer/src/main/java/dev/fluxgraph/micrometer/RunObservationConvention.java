package dev.fluxgraph.micrometer;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;

/** A convention for {@code fluxgraph.run} observations; register one on the registry to change names or keys. */
public interface RunObservationConvention extends ObservationConvention<RunObservationContext> {

  @Override
  default boolean supportsContext(Observation.Context context) {
    return context instanceof RunObservationContext;
  }
}
