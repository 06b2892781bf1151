package dev.fluxgraph.errors;

/**
 * A graph state update cannot be applied: e.g. two nodes of one superstep wrote the same key, which has no
 * reducer to combine them.
 */
public class InvalidUpdateException extends FluxgraphException {

  public InvalidUpdateException(String message) {
    super(message);
  }
}
