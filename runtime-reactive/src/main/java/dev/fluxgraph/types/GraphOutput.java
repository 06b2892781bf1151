package dev.fluxgraph.types;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a run produced: its value when it completed, or the interrupts it paused on.
 *
 * @param value      the returned value; null when the run paused (or returned null)
 * @param interrupts the pending interrupts; empty when the run completed
 */
public record GraphOutput<O>(@Nullable O value, List<Interrupt> interrupts) {
  public GraphOutput {
    interrupts = List.copyOf(Objects.requireNonNull(interrupts, "interrupts must not be null"));
  }

  /** True when the run paused on at least one interrupt. */
  public boolean interrupted() {
    return !interrupts.isEmpty();
  }
}
