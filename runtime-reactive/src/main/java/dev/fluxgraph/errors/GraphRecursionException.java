package dev.fluxgraph.errors;

/** A graph run reached its recursion limit (the most supersteps one invocation may run) without reaching END. */
public class GraphRecursionException extends FluxgraphException {

  private final int limit;

  public GraphRecursionException(String message, int limit) {
    super(message);
    this.limit = limit;
  }

  /** The limit that was reached. */
  public int limit() {
    return limit;
  }
}
