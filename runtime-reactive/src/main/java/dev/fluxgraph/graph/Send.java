package dev.fluxgraph.graph;

import java.util.Objects;

/**
 * A task to run in the next superstep: node {@code node} with {@code arg} as its input instead of the state (the
 * reference's {@code Send}, for map-reduce). A conditional edge's router emits Sends beside node names
 * ({@link StateGraph#addConditionalEdges}), and a node may return {@code Command.goTo(Send...)}.
 *
 * <p>Every Send becomes its own task, even several to the same node: they run concurrently with the other nodes of
 * the superstep, each with {@code arg} read as the node's input type (a record state's missing properties are
 * null or their defaults; an {@code arg} that cannot be read as that type fails the run naming the node). Their
 * updates are reduced into the state after those of the nodes triggered by edges, in the order the Sends were
 * emitted (by the emitting tasks in their order, then each task's Sends in its order), never in completion order.
 * The edges of {@code node} apply after a Send task as after the node. {@code arg} must be JSON-serializable: it
 * is checkpointed with the pending Sends, so a resumed run runs the Sends that had not finished and replays the
 * others.
 *
 * @param node the node to run; not {@link StateGraph#START} or {@link StateGraph#END}
 * @param arg  the node's input
 */
public record Send(String node, Object arg) {

  public Send {
    Objects.requireNonNull(node, "node must not be null");
    Objects.requireNonNull(arg, "arg must not be null (the input of a Send to '" + node + "')");
    if (node.isBlank()) {
      throw new IllegalArgumentException("a Send needs a node name, got a blank one");
    }
  }
}
