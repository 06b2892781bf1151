package dev.fluxgraph.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.fluxgraph.checkpoint.Checkpoint;
import dev.fluxgraph.checkpoint.PendingWrite;
import dev.fluxgraph.types.Interrupt;
import dev.fluxgraph.types.RunConfig;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The checkpoint format of the Functional API, in one place.
 *
 * <p>A thread is a chain of checkpoints. An <em>input</em> checkpoint ({@code source=input}) starts a run: its
 * values carry the run's input ({@code __start__}), the run id ({@code __run__}, the seed of every task id) and,
 * copied from its parent, the last completed run's return value ({@code __end__}) and saved value
 * ({@code __previous__}). Everything the run records (task results and errors, interrupts and their answers, the
 * states of graphs nested in it and the updates made to them) is a {@link PendingWrite} against that checkpoint. A
 * completed run adds a <em>loop</em> checkpoint ({@code source=loop}) holding the new {@code __end__} and
 * {@code __previous__} and no {@code __start__}. So a checkpoint with {@code __start__} means "a run is pending
 * here". {@code update} checkpoints set both values by
 * hand; {@code fork} checkpoints copy a pending run (values and writes) to continue it from an older point.
 */
public final class CheckpointFormat {

  public static final String START = "__start__";
  public static final String END = "__end__";
  public static final String PREVIOUS = "__previous__";
  public static final String RUN = "__run__";
  /** Graph API: the state channels, as one JSON object. */
  public static final String STATE = "__state__";
  /** Graph API: the nodes of the next superstep; a non-empty list means a run is pending here. */
  public static final String NEXT = "__next__";
  /**
   * Graph API: the pending {@code Send}s of the next superstep, in order ({@code [{"node": .., "arg": ..}]}); absent
   * when there are none. A Send's place in this list is its index (task path {@code ["__pregel_push", index]}).
   */
  public static final String SENDS = "__sends__";
  /** Graph API: the deferred nodes scheduled and waiting for the rest of the run; absent when there are none. */
  public static final String DEFERRED = "__deferred__";
  /** Graph API: for each fan-in edge ({@code "a,b->c"}), the sources that have finished since it last fired. */
  public static final String BARRIERS = "__barriers__";
  /**
   * Graph API: the number of the superstep that runs {@code __next__}, part of the node ids. A fork copies it (its
   * metadata step moves on), so the nodes of a forked superstep keep their ids and interrupts their answers.
   */
  public static final String SUPERSTEP = "__superstep__";
  public static final String ROOT_NAMESPACE = "";

  private CheckpointFormat() {
  }

  static Checkpoint input(String threadId, @Nullable Checkpoint parent, JsonNode input, Map<String, Object> userMetadata,
                          Clock clock) {
    String id = Ids.timeOrdered(clock);
    Map<String, JsonNode> values = carried(parent);
    values.put(START, input);
    values.put(RUN, TextNode.valueOf(id));
    return new Checkpoint(threadId, ROOT_NAMESPACE, id, parent == null ? null : parent.id(), clock.instant(),
        metadata(threadId, "input", nextStep(parent), userMetadata), values);
  }

  static Checkpoint loop(Checkpoint base, JsonNode end, JsonNode previous, Map<String, Object> userMetadata,
                         Clock clock) {
    Map<String, JsonNode> values = new LinkedHashMap<>();
    values.put(END, end);
    values.put(PREVIOUS, previous);
    return new Checkpoint(base.threadId(), base.namespace(), Ids.timeOrdered(clock), base.id(), clock.instant(),
        metadata(base.threadId(), "loop", nextStep(base), userMetadata), values);
  }

  static Checkpoint update(String threadId, @Nullable Checkpoint parent, JsonNode value,
                           Map<String, Object> userMetadata, Clock clock) {
    Map<String, JsonNode> values = new LinkedHashMap<>();
    values.put(END, value);
    values.put(PREVIOUS, value);
    return new Checkpoint(threadId, ROOT_NAMESPACE, Ids.timeOrdered(clock), parent == null ? null : parent.id(),
        clock.instant(), metadata(threadId, "update", nextStep(parent), userMetadata), values);
  }

  static Checkpoint fork(Checkpoint pending, Map<String, Object> userMetadata, Clock clock) {
    return new Checkpoint(pending.threadId(), pending.namespace(), Ids.timeOrdered(clock), pending.id(),
        clock.instant(), metadata(pending.threadId(), "fork", nextStep(pending), userMetadata), pending.values());
  }

  /**
   * A graph checkpoint after a superstep, the input, or an update: the reduced state, the nodes and Sends of the next
   * superstep, the deferred nodes waiting, the fan-in progress and the run id that seeds the node ids.
   */
  static Checkpoint graph(String threadId, @Nullable Checkpoint parent, String source, String runId, int superstep,
                          JsonNode state, List<String> next, List<GraphLoop.Packet> sends, List<String> deferred,
                          JsonNode barriers, Map<String, Object> userMetadata, Clock clock) {
    Map<String, JsonNode> values = new LinkedHashMap<>();
    values.put(STATE, state);
    values.put(NEXT, Json.toTree(next, () -> "the next nodes"));
    if (!sends.isEmpty()) {
      values.put(SENDS, Json.toTree(sends, () -> "the pending Sends"));
    }
    if (!deferred.isEmpty()) {
      values.put(DEFERRED, Json.toTree(deferred, () -> "the deferred nodes"));
    }
    if (barriers.size() > 0) {
      values.put(BARRIERS, barriers);
    }
    values.put(RUN, TextNode.valueOf(runId));
    values.put(SUPERSTEP, IntNode.valueOf(superstep));
    return new Checkpoint(threadId, parent == null ? ROOT_NAMESPACE : parent.namespace(), Ids.timeOrdered(clock),
        parent == null ? null : parent.id(), clock.instant(), metadata(threadId, source, nextStep(parent), userMetadata), values);
  }

  /** Whether a run is pending (started, paused or failed, not completed) at this checkpoint. */
  static boolean pending(Checkpoint checkpoint) {
    return checkpoint.values().containsKey(START) || !next(checkpoint).isEmpty()
        || checkpoint.values().containsKey(SENDS);
  }

  /**
   * Graph API: the nodes the checkpoint's next superstep runs because of edges (empty for entrypoint checkpoints);
   * its Sends are {@link #sends}.
   */
  static List<String> next(Checkpoint checkpoint) {
    return strings(checkpoint.values().get(NEXT));
  }

  /** Graph API: the Sends the checkpoint's next superstep runs, in order. */
  static List<GraphLoop.Packet> sends(Checkpoint checkpoint) {
    JsonNode sends = checkpoint.values().get(SENDS);
    if (sends == null || !sends.isArray()) {
      return List.of();
    }
    List<GraphLoop.Packet> packets = new ArrayList<>(sends.size());
    sends.forEach(send -> packets.add(new GraphLoop.Packet(send.path("node").asText(), Json.toPlain(send.get("arg")))));
    return packets;
  }

  /** Graph API: the deferred nodes waiting at the checkpoint. */
  static List<String> deferred(Checkpoint checkpoint) {
    return strings(checkpoint.values().get(DEFERRED));
  }

  /** The texts of a JSON array; empty for null or anything else. */
  static List<String> strings(@Nullable JsonNode array) {
    if (array == null || !array.isArray()) {
      return List.of();
    }
    List<String> strings = new ArrayList<>(array.size());
    array.forEach(node -> strings.add(node.asText()));
    return strings;
  }

  static int step(Checkpoint checkpoint) {
    Object step = checkpoint.metadata().get("step");
    return step instanceof Number number ? number.intValue() : -1;
  }

  /** Graph API: the number of the superstep that runs the checkpoint's next nodes (see {@link #SUPERSTEP}). */
  static int superstep(Checkpoint checkpoint) {
    JsonNode superstep = checkpoint.values().get(SUPERSTEP);
    return superstep != null && superstep.isInt() ? superstep.intValue() : step(checkpoint);
  }

  static String runId(Checkpoint checkpoint) {
    JsonNode run = checkpoint.values().get(RUN);
    return run == null ? checkpoint.id() : run.asText();
  }

  /** The interrupts recorded against the checkpoint that have no answer yet, in recorded order. */
  static List<Interrupt> pendingInterrupts(List<PendingWrite> writes) {
    Set<String> answered = new HashSet<>();
    for (PendingWrite write : writes) {
      if (write.channel().equals(PendingWrite.RESUME)) {
        answered.add(write.taskId());
      }
    }
    List<Interrupt> pending = new ArrayList<>();
    for (PendingWrite write : writes) {
      if (write.channel().equals(PendingWrite.INTERRUPT) && !answered.contains(write.taskId())
          && !isBreakpoint(write)) {
        pending.add(new Interrupt(write.taskId(), Json.toPlain(write.value().path("value"))));
      }
    }
    return pending;
  }

  /** The ids of the unanswered breakpoints of nested graphs among the writes (not shown as interrupts). */
  static List<String> pendingBreakpoints(List<PendingWrite> writes) {
    Set<String> answered = new HashSet<>();
    for (PendingWrite write : writes) {
      if (write.channel().equals(PendingWrite.RESUME)) {
        answered.add(write.taskId());
      }
    }
    List<String> pending = new ArrayList<>();
    for (PendingWrite write : writes) {
      if (write.channel().equals(PendingWrite.INTERRUPT) && isBreakpoint(write) && answered.add(write.taskId())) {
        pending.add(write.taskId());
      }
    }
    return pending;
  }

  /** Every interrupt recorded against the checkpoint, answered or not, in recorded order. */
  static List<Interrupt> recordedInterrupts(List<PendingWrite> writes) {
    List<Interrupt> recorded = new ArrayList<>();
    for (PendingWrite write : writes) {
      if (write.channel().equals(PendingWrite.INTERRUPT) && !isBreakpoint(write)) {
        recorded.add(new Interrupt(write.taskId(), Json.toPlain(write.value().path("value"))));
      }
    }
    return recorded;
  }

  /**
   * An interrupt write's value: the raising scope, the value, and where the scope sits (the ids of the scopes from
   * the root down to it, and its namespace when it runs in a nested graph or entrypoint), so that state views attach
   * it to the node or nested run it was raised in.
   */
  static JsonNode interruptValue(Scope scope, JsonNode value, boolean breakpoint) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("scope", scope.id());
    node.set("value", value);
    if (breakpoint) {
      node.put("breakpoint", true);
    }
    located(node, scope.path(), scope.namespace());
    return node;
  }

  /** Whether an interrupt write is a nested graph's breakpoint (which {@code Command.proceed()} answers). */
  static boolean isBreakpoint(PendingWrite write) {
    return write.value().path("breakpoint").asBoolean(false);
  }

  static JsonNode errorValue(Throwable error) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("type", error.getClass().getName());
    node.put("message", String.valueOf(error.getMessage()));
    return node;
  }

  /** The error write of a nested graph or entrypoint call {@code id} made in {@code caller}, with where it ran. */
  static JsonNode nestedErrorValue(Throwable error, Scope caller, String id, List<String> namespace) {
    ObjectNode node = (ObjectNode) errorValue(error);
    List<String> path = new ArrayList<>(caller.path());
    path.add(id);
    located(node, path, namespace);
    return node;
  }

  /**
   * A {@link PendingWrite#SUBGRAPH} write: the state of the graph nested in the scope {@code scopeId} (its call) once
   * {@code superstep} is next, the nodes it runs (and the nodes of its Sends, in order), the deferred nodes waiting and
   * the fan-in progress (when there are any), the nodes that wrote the state ({@code ran}: the superstep's before,
   * {@code __start__} for the input, an update's node), {@code source=update} for a state an updateState made, and
   * where the nested graph sits ({@code path}: the scope ids from the root down to it). One per superstep, so a
   * replayed superstep writes nothing new.
   */
  static PendingWrite subgraphWrite(String scopeId, List<String> path, List<String> namespace, String graphName,
                                    int superstep, JsonNode state, List<String> next, List<GraphLoop.Packet> sends,
                                    List<String> deferred, JsonNode barriers, List<String> ran,
                                    @Nullable String source, Clock clock) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("scope", scopeId);
    node.put("superstep", superstep);
    node.set("state", state);
    node.set("next", Json.toTree(next, () -> "the next nodes"));
    if (!sends.isEmpty()) {
      ArrayNode pushed = node.putArray("sends");
      sends.forEach(send -> pushed.add(send.node()));
    }
    if (!deferred.isEmpty()) {
      node.set("deferred", Json.toTree(deferred, () -> "the deferred nodes"));
    }
    if (barriers.size() > 0) {
      node.set("barriers", barriers);
    }
    node.set("ran", Json.toTree(ran, () -> "the nodes that ran"));
    if (source != null) {
      node.put("source", source);
    }
    node.put("created_at", clock.instant().toString());
    located(node, path, namespace);
    return new PendingWrite(subgraphWriteId(scopeId, superstep), graphName, PendingWrite.SUBGRAPH, node);
  }

  /** The id of the {@link PendingWrite#SUBGRAPH} write of the graph nested in scope {@code scopeId} at a superstep. */
  static String subgraphWriteId(String scopeId, int superstep) {
    return Ids.derive(scopeId, SUBGRAPH_WRITE, Integer.toString(superstep));
  }

  private static final String SUBGRAPH_WRITE = "subgraph";

  /** The id of the {@link PendingWrite#UPDATE} write of the graph nested in scope {@code scopeId} at a superstep. */
  static String nestedUpdateId(String scopeId, int superstep) {
    return Ids.derive(scopeId, UPDATE_WRITE, Integer.toString(superstep));
  }

  /**
   * A {@link PendingWrite#UPDATE} write: {@code values} (a partial update of plain JSON data, as applied) written as
   * node {@code asNode} into the graph nested in scope {@code scopeId} when it reaches {@code superstep}, where it
   * stopped when the update was made.
   */
  static PendingWrite nestedUpdateWrite(String scopeId, String graphName, int superstep, JsonNode values,
                                        String asNode) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("scope", scopeId);
    node.put("superstep", superstep);
    node.set("values", values);
    node.put("as_node", asNode);
    return new PendingWrite(nestedUpdateId(scopeId, superstep), graphName, PendingWrite.UPDATE, node);
  }

  private static final String UPDATE_WRITE = "update";

  private static void located(ObjectNode node, List<String> path, List<String> namespace) {
    ArrayNode ids = node.putArray("path");
    path.forEach(ids::add);
    if (!namespace.isEmpty()) {
      ArrayNode segments = node.putArray("namespace");
      namespace.forEach(segments::add);
    }
  }

  /**
   * Whether a fork of a graph checkpoint leaves the write behind: node results, errors, nested graphs' states and the
   * updates made to them, since the forked superstep runs its nodes again (interrupts and answers are copied).
   */
  static boolean rerunInGraphFork(PendingWrite write) {
    return write.channel().equals(PendingWrite.RESULT) || write.channel().equals(PendingWrite.ERROR)
        || write.channel().equals(PendingWrite.SUBGRAPH) || write.channel().equals(PendingWrite.UPDATE);
  }

  static RunConfig config(Checkpoint checkpoint) {
    return RunConfig.thread(checkpoint.threadId()).withCheckpointId(checkpoint.id());
  }

  static @Nullable RunConfig parentConfig(Checkpoint checkpoint) {
    return checkpoint.parentId() == null ? null
        : RunConfig.thread(checkpoint.threadId()).withCheckpointId(checkpoint.parentId());
  }

  /**
   * What a checkpoint shows as values: the last returned value (entrypoints), or the state (graphs; the input
   * checkpoint of a thread's first run shows the state before the input: empty, the state type's defaults, the
   * keys' initial values).
   */
  static @Nullable Object values(Checkpoint checkpoint, EntrypointSpec spec) {
    JsonNode saved = checkpoint.values().get(spec.graph() == null ? END : STATE);
    if (saved == null && spec.graph() != null) {
      saved = JsonNodeFactory.instance.objectNode();
    }
    if (spec.graph() != null && !spec.graph().initial().isEmpty() && saved instanceof ObjectNode state) {
      ObjectNode shown = state.deepCopy(); // keys with an initial value that nothing wrote yet show that value
      spec.graph().initial().forEach((key, value) -> {
        if (!shown.has(key)) {
          shown.set(key, Json.toTree(value, () -> "the initial value of '" + key + "'"));
        }
      });
      saved = shown;
    }
    return saved == null ? null : Json.fromTree(saved, spec.graph() == null ? spec.output() : spec.saved(),
        () -> "the value saved in checkpoint " + checkpoint.id() + " of thread '" + checkpoint.threadId() + "'");
  }

  /**
   * What a checkpoint shows as next: the entrypoint while its run is pending, or the names of the graph's next tasks
   * (its Sends' nodes, then the other nodes).
   */
  static List<String> nextOf(Checkpoint checkpoint, EntrypointSpec spec) {
    if (spec.graph() == null) {
      return pending(checkpoint) ? List.of(spec.name()) : List.of();
    }
    return checkpoint.values().containsKey(START) ? List.of(START)
        : GraphLoop.taskNames(next(checkpoint), sends(checkpoint));
  }

  /** The data of a {@code checkpoints} stream chunk. */
  static Map<String, Object> event(Checkpoint checkpoint, @Nullable Object values, List<String> next,
                                   List<Map<String, Object>> tasks) {
    Map<String, Object> event = new LinkedHashMap<>();
    event.put("config", config(checkpoint));
    event.put("parent_config", parentConfig(checkpoint));
    event.put("values", values);
    event.put("metadata", checkpoint.metadata());
    event.put("next", next);
    event.put("tasks", tasks);
    return event;
  }

  private static Map<String, JsonNode> carried(@Nullable Checkpoint parent) {
    Map<String, JsonNode> values = new LinkedHashMap<>();
    if (parent != null) {
      for (String carried : List.of(END, PREVIOUS, STATE)) {
        JsonNode value = parent.values().get(carried);
        if (value != null) {
          values.put(carried, value);
        }
      }
    }
    return values;
  }

  private static int nextStep(@Nullable Checkpoint parent) {
    return parent == null ? -1 : step(parent) + 1;
  }

  /** The run's metadata (the server's {@code run_id}...), the thread's id and the checkpoint's source and step. */
  private static Map<String, Object> metadata(String threadId, String source, int step,
                                              Map<String, Object> userMetadata) {
    Map<String, Object> metadata = new LinkedHashMap<>(userMetadata);
    metadata.putIfAbsent("thread_id", threadId);
    metadata.put("source", source);
    metadata.put("step", step);
    return metadata;
  }
}
