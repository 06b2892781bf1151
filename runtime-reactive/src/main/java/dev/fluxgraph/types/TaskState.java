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
 */
public record TaskState(String id, String name, @Nullable String error, List<Interrupt> interrupts,
                        @Nullable Object result, @Nullable StateSnapshot state) {
  public TaskState {
    Objects.requireNonNull(id, "id must not be null");
    Objects.requireNonNull(name, "name must not be null");
    interrupts = List.copyOf(interrupts);
  }

  /** A task without a nested state. */
  public TaskState(String id, String name, @Nullable String error, List<Interrupt> interrupts,
                   @Nullable Object result) {
    this(id, name, error, interrupts, result, null);
  }
}
