package dev.fluxgraph.errors;

/**
 * A {@code Command} cannot be applied: resuming without a checkpointer, with nothing pending, ambiguously
 * (a plain resume while several interrupts are pending) or with an unknown interrupt id.
 */
public class InvalidCommandException extends FluxgraphException {

  public InvalidCommandException(String message) {
    super(message);
  }
}
