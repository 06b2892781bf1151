package dev.fluxgraph.internal;

import static dev.fluxgraph.internal.CheckpointFormat.strings;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.checkpoint.Checkpoint;
import dev.fluxgraph.checkpoint.CheckpointTuple;
import dev.fluxgraph.checkpoint.PendingWrite;
import dev.fluxgraph.types.Interrupt;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.TaskState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What {@code getState} and {@code getStateHistory} show of a checkpoint (SEMANTICS.md §4): the pending work as
 * tasks, one per node that runs next (for an entrypoint, the entrypoint itself), each with the pending interrupts
 * raised in it or in anything it called, its error and, when asked, the snapshot of the nested graph or
 * entrypoint it ran that is paused or failed.
 *
 * <p>Everything is read from the checkpoint and its writes. Interrupts and the errors of nested calls record the
 * path of scope ids they were raised under and their namespace ({@link CheckpointFormat#interruptValue}); a nested
 * graph records its state after its input and after each superstep ({@link PendingWrite#SUBGRAPH}) as writes of
 * the run that called it, so replay, forks, copies and deletion treat it like any other write. A nested snapshot's
 * values are plain JSON data (maps, lists, strings, numbers, booleans): the nested graph's state type is not known
 * where the thread is read.
 */
final class Snapshots {

  /** Between a checkpoint's id and the number of a nested state it holds, in that state's id. */
  private static final char NESTED_STATE = '#';

  private Snapshots() {
  }

  /** The snapshot of a checkpoint of the thread's own (root) run. */
  static StateSnapshot root(CheckpointTuple tuple, EntrypointSpec spec, boolean subgraphs) {
    Checkpoint checkpoint = tuple.checkpoint();
    boolean pending = CheckpointFormat.pending(checkpoint);
    String rootId = rootId(checkpoint, spec);
    Writes writes = new Writes(tuple, pending, rootId, spec);
    List<String> next = CheckpointFormat.nextOf(checkpoint, spec);
    List<TaskState> tasks = new ArrayList<>(next.size());
    if (spec.graph() == null || checkpoint.values().containsKey(CheckpointFormat.START)) {
      // the entrypoint itself, or the input step of a graph: the run's root call holds everything pending
      for (String name : next) {
        tasks.add(writes.task(rootId, name, List.of(), false, subgraphs, List.of(TaskState.PULL, name), null));
      }
    } else {
      int superstep = CheckpointFormat.superstep(checkpoint);
      List<GraphLoop.Packet> sends = CheckpointFormat.sends(checkpoint);
      for (int i = 0; i < sends.size(); i++) {
        String node = sends.get(i).node();
        tasks.add(writes.task(GraphLoop.pushId(rootId, node, superstep, i), node, List.of(), true, subgraphs,
            List.of(TaskState.PUSH, i), spec));
      }
      for (String node : CheckpointFormat.next(checkpoint)) {
        tasks.add(writes.task(GraphLoop.nodeId(rootId, node, superstep), node, List.of(), true, subgraphs,
            List.of(TaskState.PULL, node), spec));
      }
    }
    return new StateSnapshot(CheckpointFormat.values(checkpoint, spec), next, CheckpointFormat.config(checkpoint),
        checkpoint.metadata(), checkpoint.createdAt(), CheckpointFormat.parentConfig(checkpoint), tasks,
        writes.interruptsUnder(null));
  }

  /**
   * The snapshot, as of this checkpoint of the thread, of the nested graph or entrypoint whose checkpoint namespace
   * is {@code namespace}: any nested graph the checkpoint's run started, or a nested entrypoint that paused or
   * failed in it. Empty when there is none. It is the first of {@link #nestedHistory}.
   */
  static Optional<StateSnapshot> nested(CheckpointTuple tuple, EntrypointSpec spec, String namespace,
                                        boolean subgraphs) {
    return nestedHistory(tuple, spec, namespace, subgraphs).stream().findFirst();
  }

  /**
   * Every recorded state, newest first, as of this checkpoint of the thread, of the nested graph or entrypoint whose
   * checkpoint namespace is {@code namespace}: for a graph, one snapshot per superstep it recorded (and per update made
   * to it), then its input (next {@code __start__}), as the reference's nested checkpoints; for an entrypoint, its one
   * snapshot. Empty when there is none.
   *
   * <p>A nested graph's states are writes of the thread's checkpoint, so each gets an id of its own, derived from the
   * checkpoint's ({@link #nestedStateId}): the newest keeps the checkpoint's id (what a task's config and an update of
   * the nested graph address), the older ones {@code <checkpoint id>#<k>}, k counting from 0 for the input; each names
   * the one before it as its parent.
   */
  static List<StateSnapshot> nestedHistory(CheckpointTuple tuple, EntrypointSpec spec, String namespace,
                                           boolean subgraphs) {
    Checkpoint checkpoint = tuple.checkpoint();
    Writes writes = new Writes(tuple, CheckpointFormat.pending(checkpoint), rootId(checkpoint, spec), spec);
    Nested run = writes.nested.get(namespace);
    return run == null ? List.of() : writes.history(run, subgraphs);
  }

  /**
   * The states of {@link #nestedHistory} older than the one {@code checkpointId} names (the checkpoint's own id: its
   * newest).
   *
   * @throws IllegalArgumentException when {@code checkpointId} is a derived id that names none of them
   */
  static List<StateSnapshot> nestedHistoryBefore(CheckpointTuple tuple, EntrypointSpec spec, String namespace,
                                                 String checkpointId, boolean subgraphs) {
    List<StateSnapshot> history = nestedHistory(tuple, spec, namespace, subgraphs);
    for (int i = 0; i < history.size(); i++) {
      if (history.get(i).config().checkpointId().orElseThrow().equals(checkpointId)) {
        return history.subList(i + 1, history.size());
      }
    }
    if (checkpointId.equals(tuple.checkpoint().id())) {
      return List.of();
    }
    throw unknownNestedState(tuple, namespace, checkpointId);
  }

  /**
   * The one state of {@link #nestedHistory} that {@code checkpointId} names.
   *
   * @throws IllegalArgumentException when it names none of them
   */
  static StateSnapshot nestedState(CheckpointTuple tuple, EntrypointSpec spec, String namespace,
                                   String checkpointId, boolean subgraphs) {
    return nestedHistory(tuple, spec, namespace, subgraphs).stream()
        .filter(state -> state.config().checkpointId().orElseThrow().equals(checkpointId)).findFirst()
        .orElseThrow(() -> unknownNestedState(tuple, namespace, checkpointId));
  }

  /**
   * The id of the thread's checkpoint that holds the nested state {@code checkpointId} names: the id itself, or the
   * part before {@code #} of a derived one.
   */
  static String holderOf(String checkpointId) {
    int mark = checkpointId.lastIndexOf(NESTED_STATE);
    return mark < 0 ? checkpointId : checkpointId.substring(0, mark);
  }

  /** The id of the {@code k}-th recorded state (0: the input) of a nested graph in the checkpoint {@code holder}. */
  static String nestedStateId(String holder, int k) {
    return holder + NESTED_STATE + k;
  }

  private static IllegalArgumentException unknownNestedState(CheckpointTuple tuple, String namespace,
                                                             String checkpointId) {
    return new IllegalArgumentException("checkpoint " + checkpointId + " names no state of the nested graph or "
        + "entrypoint under checkpoint namespace '" + namespace + "' in checkpoint " + tuple.checkpoint().id()
        + " of thread '" + tuple.checkpoint().threadId() + "'");
  }

  /**
   * What an update of a nested graph needs to know of it, as of this checkpoint: its call id, name and namespace, its
   * spec when it is the graph of a subgraph node of the root graph (null otherwise), its latest recorded state (null
   * for an entrypoint), whether it stopped (paused or failed) and the interrupts pending in it.
   */
  record NestedRun(String id, String name, List<String> namespace, @Nullable EntrypointSpec spec,
                   @Nullable JsonNode graphState, boolean stopped, List<Interrupt> interrupts) {
  }

  /** The nested run under {@code namespace} in this checkpoint's writes; empty when there is none. */
  static Optional<NestedRun> nestedRun(CheckpointTuple tuple, EntrypointSpec spec, String namespace) {
    Checkpoint checkpoint = tuple.checkpoint();
    Writes writes = new Writes(tuple, CheckpointFormat.pending(checkpoint), rootId(checkpoint, spec), spec);
    Nested run = writes.nested.get(namespace);
    return run == null ? Optional.empty() : Optional.of(new NestedRun(run.id(), run.name(), run.namespace(),
        writes.specOf(run), run.graphState(), writes.stopped(run), writes.interruptsUnder(run.id())));
  }

  /** The id of the run's root call (the entrypoint's, or the graph's whose node ids derive from it). */
  private static String rootId(Checkpoint checkpoint, EntrypointSpec spec) {
    return Ids.derive(CheckpointFormat.runId(checkpoint), CheckpointFormat.ROOT_NAMESPACE, spec.name());
  }

  /**
   * An interrupt as recorded: where it was raised, its position among the writes, and whether it is a nested graph's
   * breakpoint.
   */
  private record Raised(Interrupt interrupt, List<String> path, int position, boolean breakpoint) {
  }

  /**
   * A nested graph or entrypoint call recorded in the writes: its call id, name, namespace, the scope path down to
   * it, and for a graph its latest recorded state.
   */
  private record Nested(String id, String name, List<String> namespace, List<String> path,
                        @Nullable JsonNode graphState) {
    Nested withGraphState(JsonNode state) {
      return new Nested(id, name, namespace, path, state);
    }
  }

  /** A checkpoint's writes, indexed once for the views above. */
  private static final class Writes {
    private final Checkpoint checkpoint;
    private final EntrypointSpec rootSpec;
    private final Map<String, PendingWrite> results = new HashMap<>();
    private final Map<String, PendingWrite> errors = new HashMap<>();
    private final Map<String, Integer> errorPositions = new HashMap<>();
    private final List<Raised> pending = new ArrayList<>();
    private final Map<String, Nested> nested = new LinkedHashMap<>(); // by checkpoint namespace
    private final Map<String, List<JsonNode>> graphStates = new HashMap<>(); // a nested graph's, by namespace

    /** {@code rootId}: where interrupts recorded without a path (by earlier versions) are attributed from. */
    Writes(CheckpointTuple tuple, boolean pendingRun, String rootId, EntrypointSpec rootSpec) {
      this.checkpoint = tuple.checkpoint();
      this.rootSpec = rootSpec;
      List<PendingWrite> all = tuple.writes();
      Set<String> answered = new HashSet<>();
      for (PendingWrite write : all) {
        if (write.channel().equals(PendingWrite.RESUME)) {
          answered.add(write.taskId());
        }
      }
      for (int i = 0; i < all.size(); i++) {
        PendingWrite write = all.get(i);
        switch (write.channel()) {
          case PendingWrite.RESULT -> results.put(write.taskId(), write);
          case PendingWrite.ERROR -> {
            errors.put(write.taskId(), write);
            errorPositions.put(write.taskId(), i);
            List<String> namespace = strings(write.value().get("namespace"));
            if (!namespace.isEmpty()) { // a nested graph or entrypoint call that failed
              found(namespace, strings(write.value().get("path")));
            }
          }
          case PendingWrite.INTERRUPT -> {
            List<String> path = strings(write.value().get("path"));
            found(strings(write.value().get("namespace")), path);
            if (pendingRun && !answered.contains(write.taskId())) {
              pending.add(new Raised(new Interrupt(write.taskId(), Json.toPlain(write.value().path("value"))),
                  path.isEmpty() ? List.of(rootId, write.value().path("scope").asText()) : path, i,
                  CheckpointFormat.isBreakpoint(write)));
            }
          }
          case PendingWrite.SUBGRAPH -> {
            Nested run = found(strings(write.value().get("namespace")), strings(write.value().get("path")));
            JsonNode latest = run == null ? null : run.graphState();
            if (run != null) {
              graphStates.computeIfAbsent(String.join("|", run.namespace()), key -> new ArrayList<>())
                  .add(write.value());
            }
            if (run != null && (latest == null
                || latest.path("superstep").asInt() <= write.value().path("superstep").asInt())) {
              nested.put(String.join("|", run.namespace()), run.withGraphState(write.value()));
            }
          }
          default -> {
            // other channels carry nothing a state view shows
          }
        }
      }
    }

    /**
     * Registers the nested runs a namespace names (each segment is {@code "<name>:<call id>"}); the path holds the
     * call ids. Returns the innermost.
     */
    private @Nullable Nested found(List<String> namespace, List<String> path) {
      Nested innermost = null;
      for (int depth = 1; depth <= namespace.size(); depth++) {
        String segment = namespace.get(depth - 1);
        int colon = segment.lastIndexOf(':');
        if (colon < 0) {
          return innermost; // not written by this engine
        }
        String id = segment.substring(colon + 1);
        int at = path.indexOf(id);
        List<String> prefix = namespace.subList(0, depth);
        String key = String.join("|", prefix);
        Nested known = nested.get(key);
        if (known == null) {
          known = new Nested(id, segment.substring(0, colon), List.copyOf(prefix),
              at < 0 ? List.of(id) : List.copyOf(path.subList(0, at + 1)), null);
          nested.put(key, known);
        }
        innermost = known;
      }
      return innermost;
    }

    /**
     * The task {@code id} (an entrypoint's or nested entrypoint's call, or a node's call) whose work runs in
     * {@code namespace}, with its path: its pending interrupts, its error, its result (nodes: the update they
     * recorded), the config addressing the nested run it makes (one it recorded, or the one a subgraph node of
     * {@code graph} will make) and, when asked, the snapshot of a nested run of its that is paused or failed.
     * {@code graph}: the graph whose node it is, when known (null for an entrypoint's task, or a graph nested by code).
     */
    TaskState task(String id, String name, List<String> namespace, boolean node, boolean subgraphs,
                   List<Object> taskPath, @Nullable EntrypointSpec graph) {
      List<Interrupt> interrupts = interruptsUnder(id);
      Object result = null;
      PendingWrite recorded = results.get(id);
      if (node && recorded != null) {
        Object outcome = Json.toPlain(recorded.value());
        // a node records its update and where it sent the run
        result = outcome instanceof Map<?, ?> map && map.containsKey("goTo") ? map.get("update") : outcome;
      }
      Nested ran = null;
      for (Nested run : nested.values()) {
        if (run.namespace().size() == namespace.size() + 1 && run.namespace().subList(0, namespace.size())
            .equals(namespace) && run.path().contains(id)) {
          if (stopped(run)) {
            ran = run;
            break;
          }
          ran = ran == null ? run : ran;
        }
      }
      RunConfig address = null;
      if (ran != null) {
        address = config(ran, null);
      } else if (node && graph != null && graph.graph() != null
          && graph.graph().layout().subgraphs().containsKey(name)) {
        // not run yet: the namespace is known before (GraphLoop.subgraphId), the checkpoint id is not
        address = RunConfig.thread(checkpoint.threadId())
            .withCheckpointNamespace(GraphLoop.subgraphNamespace(namespace, id, name));
      }
      StateSnapshot state = subgraphs && ran != null && stopped(ran) ? history(ran, true).get(0) : null;
      return new TaskState(id, name, recorded == null ? error(id) : null, interrupts, result, state, taskPath,
          address);
    }

    /**
     * The config addressing a nested run's state in this checkpoint: its newest ({@code k} null) or its {@code k}-th
     * recorded ({@link #nestedStateId}).
     */
    private RunConfig config(Nested run, @Nullable Integer k) {
      return RunConfig.thread(checkpoint.threadId()).withCheckpointNamespace(String.join("|", run.namespace()))
          .withCheckpointId(k == null ? checkpoint.id() : nestedStateId(checkpoint.id(), k));
    }

    /**
     * The spec of the nested run: found by following its namespace's node names through the subgraphs of the root
     * graph; null for a run nested by code (an entrypoint or graph a node's body invokes).
     */
    private @Nullable EntrypointSpec specOf(Nested run) {
      EntrypointSpec current = rootSpec;
      for (String segment : run.namespace()) {
        GraphDefinition graph = current.graph();
        int colon = segment.lastIndexOf(':');
        current = graph == null || colon < 0 ? null : graph.layout().subgraphs().get(segment.substring(0, colon));
        if (current == null) {
          return null;
        }
      }
      return current;
    }

    /**
     * The error of task {@code id}'s last attempt: its error write, unless an interrupt pending under it came later
     * (a continuation ran it again and it paused).
     */
    private @Nullable String error(String id) {
      PendingWrite error = errors.get(id);
      if (error == null) {
        return null;
      }
      int position = errorPositions.get(id);
      for (Raised raised : pending) {
        if (raised.position() > position && raised.path().contains(id)) {
          return null;
        }
      }
      return error.value().path("message").asText();
    }

    /**
     * The pending interrupts raised under the scope {@code id} (null: all of them), in recorded order; breakpoints
     * of nested graphs are not interrupts to answer, so they are not among them (as the reference shows them).
     */
    List<Interrupt> interruptsUnder(@Nullable String id) {
      List<Interrupt> under = new ArrayList<>();
      for (Raised raised : pending) {
        if ((id == null || raised.path().contains(id)) && !raised.breakpoint()) {
          under.add(raised.interrupt());
        }
      }
      return under;
    }

    /**
     * Whether the nested run is paused (an interrupt or a breakpoint under it is pending) or failed (it has an error,
     * no result).
     */
    private boolean stopped(Nested run) {
      for (Raised raised : pending) {
        if (raised.path().contains(run.id())) {
          return true;
        }
      }
      return errors.containsKey(run.id()) && !results.containsKey(run.id());
    }

    /** {@link Snapshots#nestedHistory} of a nested run of this checkpoint. */
    List<StateSnapshot> history(Nested run, boolean subgraphs) {
      List<JsonNode> states = graphStates.getOrDefault(String.join("|", run.namespace()), List.of());
      if (states.isEmpty()) {
        return List.of(snapshot(run, subgraphs, config(run, null), null));
      }
      // newest first: by superstep, and among equal supersteps the later write first (as the latest is chosen)
      List<JsonNode> newestFirst = new ArrayList<>(states);
      Collections.reverse(newestFirst);
      newestFirst.sort((a, b) -> Integer.compare(b.path("superstep").asInt(), a.path("superstep").asInt()));
      int count = newestFirst.size();
      List<StateSnapshot> history = new ArrayList<>(count + 1);
      for (int i = 0; i < count; i++) {
        int k = count - i; // the input is 0
        history.add(snapshot(run.withGraphState(newestFirst.get(i)), subgraphs && i == 0,
            config(run, i == 0 ? null : k), config(run, k - 1)));
      }
      history.add(inputSnapshot(run, newestFirst.get(count - 1), config(run, 0)));
      return history;
    }

    /**
     * A nested graph's snapshot before its input (the reference's input checkpoint): no values yet, next
     * {@code __start__}; {@code first} is its first recorded state (when its input was applied).
     */
    StateSnapshot inputSnapshot(Nested run, JsonNode first, RunConfig config) {
      Map<String, Object> metadata = new LinkedHashMap<>();
      metadata.put("source", "input");
      metadata.put("step", -1);
      Map<String, Object> parents = new LinkedHashMap<>();
      parents.put(String.join("|", run.namespace().subList(0, run.namespace().size() - 1)), checkpoint.id());
      metadata.put("parents", parents);
      String start = GraphDefinition.START;
      TaskState task = new TaskState(Ids.derive(run.id(), start, "input"), start, null, List.of(), null, null,
          List.of(TaskState.PULL, start), null);
      Instant createdAt = Instant.parse(first.path("created_at").asText(checkpoint.createdAt().toString()));
      return new StateSnapshot(new LinkedHashMap<String, Object>(), List.of(start), config, metadata, createdAt,
          null, List.of(task), List.of());
    }

    /**
     * The nested run's own snapshot: its state and next nodes (a graph) or itself as next (an entrypoint), addressed
     * by {@code config}, after the state {@code parent} addresses (null: none).
     */
    StateSnapshot snapshot(Nested run, boolean subgraphs, RunConfig config, @Nullable RunConfig parent) {
      EntrypointSpec spec = specOf(run);
      Map<String, Object> metadata = new LinkedHashMap<>();
      List<TaskState> tasks = new ArrayList<>();
      JsonNode graph = run.graphState();
      Object values = null;
      List<String> next;
      Instant createdAt = checkpoint.createdAt();
      if (graph != null) {
        int superstep = graph.path("superstep").asInt();
        values = Json.toPlain(graph.path("state"));
        List<String> pulled = strings(graph.get("next"));
        List<String> pushed = strings(graph.get("sends"));
        for (int i = 0; i < pushed.size(); i++) {
          tasks.add(task(GraphLoop.pushId(run.id(), pushed.get(i), superstep, i), pushed.get(i), run.namespace(), true,
              subgraphs, List.of(TaskState.PUSH, i), spec));
        }
        for (String node : pulled) {
          tasks.add(task(GraphLoop.nodeId(run.id(), node, superstep), node, run.namespace(), true, subgraphs,
              List.of(TaskState.PULL, node), spec));
        }
        next = new ArrayList<>(pushed);
        next.addAll(pulled);
        createdAt = Instant.parse(graph.path("created_at").asText(createdAt.toString()));
        metadata.put("source", graph.path("source").asText("loop"));
        metadata.put("step", superstep);
      } else { // an entrypoint: pending until its call has a result, which is then its value
        PendingWrite result = results.get(run.id());
        next = result == null ? List.of(run.name()) : List.of();
        if (result == null) {
          tasks.add(task(run.id(), run.name(), run.namespace(), false, subgraphs, List.of(TaskState.PULL, run.name()),
              null));
        } else {
          values = Json.toPlain(result.value());
        }
        metadata.put("source", result == null ? "input" : "loop");
        metadata.put("step", result == null ? -1 : 0);
      }
      Map<String, Object> parents = new LinkedHashMap<>();
      parents.put(String.join("|", run.namespace().subList(0, run.namespace().size() - 1)), checkpoint.id());
      metadata.put("parents", parents);
      return new StateSnapshot(values, next, config, metadata, createdAt, parent, tasks, interruptsUnder(run.id()));
    }
  }
}
