package dev.fluxgraph.internal;

import dev.fluxgraph.types.Command;

/**
 * The signal that carries a node's {@code Command.toParent()} out of its graph: the graph's run ends with it, it
 * passes up through whatever called the graph (task calls let it through without recording a failure, retry
 * policies never retry it), and the node of the parent graph whose work it reaches takes {@link #command()} as its
 * result. Its message says what happened, for the case where it escapes anyway.
 */
public final class ParentCommand extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient Command command;

  ParentCommand(Command command, String node, String graph) {
    super("node '" + node + "' of graph '" + graph + "' returned Command.toParent(), which goes to the node of the "
        + "parent graph that runs graph '" + graph + "', but it reached no such node", null, false, false);
    this.command = command;
  }

  /** The command for the parent graph (no longer marked {@code toParent}). */
  public Command command() {
    return command;
  }
}
