package dev.fluxgraph.errors;

/**
 * A graph is not well formed: a reserved or duplicate node name, an edge to an unknown node, a node that nothing
 * leads to, no edge from START. Raised while building or compiling, never during a run.
 */
public class InvalidGraphException extends FluxgraphException {

  public InvalidGraphException(String message) {
    super(message);
  }
}
