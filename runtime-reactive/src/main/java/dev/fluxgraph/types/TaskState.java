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
 * @param checkpoint for a node whose work is a nested graph or entrypoint (a node added as a subgraph, or one whose
 *                   nested run has recorded a state): the config addressing that nested run, as the reference's
 *                   {@code PregelTask.state} config: the thread id and the checkpoint namespace
 *                   {@code "<parent namespace>|<node>:<id>"}, known before the nested run starts; with the
 *                   checkpoint id once the nested run has recorded a state (then {@code getState} with that config
 *                   reads it). Null for a task that runs no nested graph or entrypoint
 */
public record TaskState(String id, String name, @Nullable String error, List<Interrupt> interrupts,
                        @Nullable Object result, @Nullable StateSnapshot state, List<Object> path,
                        @Nullable RunConfig checkpoint) {

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

  /** A task whose {@link #checkpoint} is its nested state's config, if it has one. */
  public TaskState(String id, String name, @Nullable String error, List<Interrupt> interrupts,
                   @Nullable Object result, @Nullable StateSnapshot state, List<Object> path) {
    this(id, name, error, interrupts, result, state, path, state == null ? null : state.config());
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
