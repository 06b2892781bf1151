package dev.fluxgraph.errors;

import dev.fluxgraph.types.Interrupt;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Raised by {@code Entrypoint.invoke} when the run paused on one or more interrupts instead of completing.
 * The run itself ended normally; resume it with a {@code Command}.
 */
public class GraphInterruptedException extends FluxgraphException {

  private final List<Interrupt> interrupts;

  public GraphInterruptedException(List<Interrupt> interrupts) {
    super("The run paused on " + Objects.requireNonNull(interrupts, "interrupts must not be null").size()
        + " interrupt(s): " + interrupts.stream().map(Interrupt::id).collect(Collectors.joining(", "))
        + "; resume it with Command.resume(...) or Command.resumeById(...)");
    this.interrupts = List.copyOf(interrupts);
  }

  /** The pending interrupts, in the order they were raised. */
  public List<Interrupt> interrupts() {
    return interrupts;
  }
}
