package dev.fluxgraph.types;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A task of a {@link StateSnapshot}: pending work at that checkpoint. For an entrypoint, the entrypoint itself (with
 * every pending interrupt of its run); for a graph, one per node of the next superstep (with the interrupts raised in
 * the node or in anything it called). See SEMANTICS.md §4.
 *
 * @param id         the task call id (an entrypoint's root call, or a node's call in its superstep)
 * @param name       the entrypoint or node name
 * @param error      the message of the failure of its last attempt, or null
 * @param interrupts the pending interrupts raised in the task or in anything it called, at any depth
 * @param result     the saved result as JSON data (a node that finished in a superstep still pending), or null
 * @param state      with {@code getState(config, true)}: the snapshot of the nested graph or entrypoint this task
 *                   ran that is paused or failed, whose {@link StateSnapshot#config() config} has its
 *                   {@link RunConfig#checkpointNamespace() checkpoint namespace}; null otherwise
 * @param path       where the task comes from, as the reference names it: {@code ["__pregel_pull", name]} for an
 *                   entrypoint or a node that edges (or {@code Command.goTo(node)}) scheduled,
 *                   {@code ["__pregel_push", index]} for the {@code index}-th pending {@code Send} of the superstep
 */
public record TaskState(String id, String name, @Nullable String error, List<Interrupt> interrupts,
                        @Nullable Object result, @Nullable StateSnapshot state, List<Object> path) {

  /** The first element of the {@link #path} of a task that edges scheduled. */
  public static final String PULL = "__pregel_pull";
  /** The first element of the {@link #path} of a task that a {@code Send} scheduled. */
  public static final String PUSH = "__pregel_push";

  public TaskState {
    Objects.requireNonNull(id, "id must not be null");
    Objects.requireNonNull(name, "name must not be null");
    interrupts = List.copyOf(interrupts);
    path = List.copyOf(Objects.requireNonNull(path, "path must not be null"));
  }

  /** A task that edges scheduled (path {@code ["__pregel_pull", name]}). */
  public TaskState(String id, String name, @Nullable String error, List<Interrupt> interrupts,
                   @Nullable Object result, @Nullable StateSnapshot state) {
    this(id, name, error, interrupts, result, state, List.of(PULL, name));
  }

  /** A task without a nested state. */
  public TaskState(String id, String name, @Nullable String error, List<Interrupt> interrupts,
                   @Nullable Object result) {
    this(id, name, error, interrupts, result, null);
  }
}
