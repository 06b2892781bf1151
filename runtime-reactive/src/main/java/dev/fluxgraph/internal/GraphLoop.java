package dev.fluxgraph.internal;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.checkpoint.Checkpoint;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.errors.GraphRecursionException;
import dev.fluxgraph.errors.InvalidUpdateException;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamMode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BinaryOperator;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The superstep loop of a graph: the body of a graph's {@link EntrypointSpec}, so a graph run is an ordinary
 * run of the engine ({@link RunLoop}) and a graph nested in another run is an ordinary nested call.
 *
 * <p>A superstep runs the scheduled nodes concurrently, each as a task call whose id comes from the run, the node
 * and the step (so a resumed step replays its finished nodes and re-runs the others), then reduces their
 * updates into the state in node order, schedules the next nodes (plain edges, fan-in edges whose sources have all
 * finished, conditional edges and {@code Command.goTo}, the last two decided inside the node's task so that they
 * replay with it) and, in a root run, saves a checkpoint holding the state and the next nodes. Breakpoints
 * ({@code interruptBefore/After}) end a root run where a continuation picks it up; in a nested graph they are
 * interrupts of the graph's scope that are not reported as interrupts and that every continuation answers
 * ({@link RunLoop#breakpoint}).
 */
public final class GraphLoop {

  /** What a node's task records: its update (plain JSON values) and where it sends the run. */
  public record NodeOutcome(@Nullable Map<String, Object> update, List<String> goTo) {
  }

  /** A root run stopped at a breakpoint; {@code state} is what the run returns. */
  record Breakpoint(@Nullable Object state) {
  }

  private static final JavaType OUTCOME = Json.type(NodeOutcome.class);

  private final GraphDefinition graph;
  private final String name;
  private final Map<String, TaskSpec> nodeSpecs = new HashMap<>();
  private final Map<String, Integer> order = new HashMap<>();

  public GraphLoop(GraphDefinition graph, String name) {
    this.graph = graph;
    this.name = name;
    for (GraphDefinition.Node node : graph.nodes().values()) {
      order.put(node.name(), order.size());
      ScopeBody body = (state, scope) -> runNode(node, state, scope, null);
      nodeSpecs.put(node.name(), new TaskSpec(node.name(), OUTCOME, body, node.retry(), node.timeout(),
          node.cachePolicy(), null, outcome -> outcome == null ? null : ((NodeOutcome) outcome).update()));
    }
  }

  /** The body of the graph's entrypoint spec. */
  public ScopeBody body() {
    return (input, scope) -> new Execution(scope).start(input);
  }

  // ---------------------------------------------------------------- one execution of the loop

  /** Where the loop is: the state, the nodes of the next superstep and the fan-in progress. */
  private record Cursor(Map<String, Object> state, List<String> next, Map<String, List<String>> barriers, int step,
                        int executed, boolean checkBefore, boolean done, @Nullable Object result) {
    Cursor finish(@Nullable Object value) {
      return new Cursor(state, next, barriers, step, executed, checkBefore, true, value);
    }

    Cursor withCheckBefore(boolean check) {
      return new Cursor(state, next, barriers, step, executed, check, false, null);
    }
  }

  private final class Execution {
    private final Scope scope;
    private final RunLoop run;
    private final boolean root;

    Execution(Scope scope) {
      this.scope = scope;
      this.run = scope.run();
      this.root = run.isRoot(scope);
    }

    Mono<Object> start(@Nullable Object input) {
      Mono<Cursor> first;
      if (root && !run.writes().base().values().containsKey(CheckpointFormat.START)) {
        Checkpoint base = run.writes().base(); // continuing a pending superstep: no breakpoint before it
        first = Mono.just(new Cursor(stateOf(base), CheckpointFormat.next(base), barriersOf(base),
            CheckpointFormat.superstep(base), 0, false, false, null));
      } else {
        Map<String, Object> state = root ? stateOf(run.writes().base()) : new LinkedHashMap<>();
        int step = root ? CheckpointFormat.step(run.writes().base()) + 1 : 0;
        Map<String, Object> update = inputUpdate(input);
        Map<String, Object> reduced = reduce(state, List.of(Map.entry(GraphDefinition.START, optional(update))));
        Map<String, List<String>> barriers = new LinkedHashMap<>();
        first = route(GraphDefinition.START, reduced)
            .map(routed -> new Cursor(reduced, schedule(List.of(GraphDefinition.START), List.of(routed), barriers),
                barriers, step, 0, true, false, null))
            .flatMap(cursor -> saved(cursor).thenReturn(cursor));
      }
      return first
          .flatMapMany(cursor -> Mono.just(cursor).expand(c -> c.done() ? Mono.empty() : superstep(c)))
          .last()
          .mapNotNull(Cursor::result);
    }

    private Mono<Cursor> superstep(Cursor c) {
      if (c.next().isEmpty()) {
        return Mono.just(c.finish(outputValue(c.state(), scope)));
      }
      if (c.checkBefore() && intersects(c.next(), graph.interruptBefore())) {
        return breakpoint(c, "before", c.next()).map(ignored -> c.withCheckBefore(false));
      }
      if (c.executed() >= graph.recursionLimit()) {
        return Mono.error(new GraphRecursionException("graph '" + name + "' ran " + graph.recursionLimit()
            + " supersteps without reaching END (next: " + c.next() + "); if it is meant to run longer, raise the "
            + "limit with CompileOptions.withRecursionLimit(n)", graph.recursionLimit()));
      }
      Object view = stateValue(c.state());
      if (root) { // should the step pause at a nested graph's breakpoint only, the run returns the state so far
        run.pausedState(() -> outputValue(c.state(), scope));
      }
      List<Mono<NodeOutcome>> calls = new ArrayList<>(c.next().size());
      for (String node : c.next()) {
        GraphDefinition.NodeInput reads = graph.schemas().nodeInputs().get(node);
        TaskSpec spec = reads == null ? nodeSpecs.get(node) : readingSpec(graph.nodes().get(node), c.state());
        Object input = reads == null ? view : nodeView(reads, c.state());
        calls.add(TaskCall.<NodeOutcome>call(scope, spec, input, nodeId(scope.id(), node, c.step())));
      }
      return Mono.zip(calls, results -> {
        List<Map.Entry<String, Optional<Map<String, Object>>>> updates = new ArrayList<>(results.length);
        List<List<String>> sent = new ArrayList<>(results.length);
        for (int i = 0; i < results.length; i++) {
          NodeOutcome outcome = (NodeOutcome) results[i];
          updates.add(Map.entry(c.next().get(i), Optional.ofNullable(outcome.update())));
          sent.add(outcome.goTo());
        }
        Map<String, List<String>> barriers = copy(c.barriers());
        Map<String, Object> state = reduce(c.state(), updates);
        List<String> next = schedule(c.next(), sent, barriers);
        return new Cursor(state, next, barriers, c.step() + 1, c.executed() + 1, true, false, null);
      }).flatMap(n -> saved(n).then(Mono.defer(() -> {
        if (!n.next().isEmpty() && intersects(c.next(), graph.interruptAfter())) {
          return breakpoint(n, "after", c.next()).thenReturn(n);
        }
        return Mono.just(n);
      })));
    }

    /**
     * Root runs: saves the checkpoint after a superstep (or the input); nested runs: records their state; every run:
     * emits the state.
     */
    private Mono<Void> saved(Cursor c) {
      // The state as the user's type only for chunks that show it (a copy of the whole state: skipped otherwise).
      Output output = run.output();
      boolean shown = output.wants(StreamMode.VALUES, scope.namespace())
          || root && (output.wants(StreamMode.CHECKPOINTS, List.of()) || output.wants(StreamMode.DEBUG, List.of()));
      Object state = shown ? stateValue(c.state()) : null;
      Mono<Void> checkpoint = Mono.empty();
      if (root) {
        Checkpoint base = run.writes().base();
        Checkpoint next = CheckpointFormat.graph(base.threadId(), base, "loop", CheckpointFormat.runId(base), c.step(),
            Json.toTree(c.state(),
                () -> "the state of graph '" + name + "'"), c.next(), Json.toTree(c.barriers(), () -> "barriers"),
            run.config().metadata(), scope.owner().clock());
        checkpoint = run.advance(next, state, c.next(), tasks(scope.id(), c.next(), c.step()));
      } else { // a nested graph's state is a write of the calling run: what getState shows of it while it is paused
        checkpoint = run.writes().record(CheckpointFormat.subgraphWrite(scope, name, c.step(),
            Json.toTree(c.state(), () -> "the state of graph '" + name + "'"), c.next(), scope.owner().clock()));
      }
      return checkpoint.then(run.emitValues(scope.namespace(), state));
    }

    /**
     * Root runs stop (the continuation starts at the saved checkpoint); nested graphs raise an interrupt in their
     * scope, answered by any resume value.
     */
    private Mono<Object> breakpoint(Cursor c, String when, List<String> nodes) {
      if (root) {
        return Mono.just(new Breakpoint(outputValue(c.state(), scope))).flatMap(stop -> {
          run.stopAt(stop);
          return Mono.never();
        });
      }
      Map<String, Object> value = new LinkedHashMap<>();
      value.put("breakpoint", when);
      value.put("nodes", nodes);
      return run.breakpoint(scope, value);
    }
  }

  // ---------------------------------------------------------------- a node

  /**
   * Runs a node's body on {@code state}; its conditional edges read {@code whole} with the update applied (the
   * whole state when the node reads only part of it, else null: the state it read).
   */
  private Mono<NodeOutcome> runNode(GraphDefinition.Node node, @Nullable Object state, Scope scope,
                                    @Nullable Map<String, Object> whole) {
    Mono<?> result = node.body().apply(state, scope);
    if (result == null) {
      return Mono.error(new NullPointerException("node '" + node.name() + "' of graph '" + name
          + "' returned null instead of a Mono"));
    }
    return result.map(Optional::<Object>of).defaultIfEmpty(Optional.empty()).flatMap(returned -> {
      Object value = returned.orElse(null);
      List<String> goTo = new ArrayList<>();
      Map<String, Object> update;
      if (value instanceof Command command) {
        if (command.kind() != Command.Kind.PROCEED) {
          return Mono.error(new IllegalArgumentException("node '" + node.name() + "' returned a Command with a resume"
              + " value; a node returns Command.goTo(..) and/or Command.update(..), resume values go to run(...)"));
        }
        if (command.goTo() != null) {
          goTo.add(checkTarget(command.goTo(), "Command.goTo in node '" + node.name() + "'"));
        }
        update = toUpdate(command.update().isEmpty() ? null : command.update(), node.name(),
            "the update of node '" + node.name() + "'");
      } else {
        update = toUpdate(value, node.name(), "the result of node '" + node.name() + "'");
      }
      if (graph.routers().getOrDefault(node.name(), List.of()).isEmpty()) { // no need for the state it leaves
        return Mono.just(new NodeOutcome(update, List.copyOf(goTo)));
      }
      Map<String, Object> local = reduce(whole != null ? whole : plainOf(state),
          List.of(Map.entry(node.name(), optional(update))));
      return route(node.name(), local).map(routed -> {
        goTo.addAll(routed);
        return new NodeOutcome(update, List.copyOf(goTo));
      });
    });
  }

  /** The conditional edges of {@code from}, evaluated on {@code state}, in the order they were added. */
  private Mono<List<String>> route(String from, Map<String, Object> state) {
    List<GraphDefinition.Router> routers = graph.routers().getOrDefault(from, List.of());
    if (routers.isEmpty()) {
      return Mono.just(List.of());
    }
    Object view = stateValue(state);
    return Flux.fromIterable(routers)
        .concatMap(router -> {
          var targets = router.route(view);
          return targets == null ? Mono.error(new NullPointerException("the conditional edge from '" + from
              + "' returned null instead of a Publisher")) : Flux.from(targets);
        })
        .map(target -> checkTarget(target, "the conditional edge from '" + from + "'"))
        .collectList();
  }

  private String checkTarget(@Nullable String target, String what) {
    if (target == null || !(graph.nodes().containsKey(target) || target.equals(GraphDefinition.END))) {
      throw new IllegalArgumentException(what + " named '" + target + "', which is not a node of graph '" + name
          + "' (nodes: " + graph.nodes().keySet() + ", or END)");
    }
    return target;
  }

  /**
   * The nodes of the next superstep, in the order nodes were added: plain edges from the nodes that ran, where
   * they sent the run, and fan-in targets whose sources have now all finished ({@code barriers} is updated).
   */
  private List<String> schedule(List<String> ran, List<List<String>> sent, Map<String, List<String>> barriers) {
    Set<String> next = new LinkedHashSet<>();
    for (int i = 0; i < ran.size(); i++) {
      next.addAll(graph.edges().getOrDefault(ran.get(i), List.of()));
      next.addAll(sent.get(i));
    }
    for (GraphDefinition.Join join : graph.joins()) {
      List<String> seen = new ArrayList<>(barriers.getOrDefault(join.key(), List.of()));
      boolean touched = false;
      for (String node : ran) {
        if (join.from().contains(node) && !seen.contains(node)) {
          seen.add(node);
          touched = true;
        }
      }
      if (seen.containsAll(join.from())) {
        next.add(join.to());
        barriers.remove(join.key());
      } else if (touched) {
        barriers.put(join.key(), seen);
      }
    }
    next.remove(GraphDefinition.END);
    List<String> ordered = new ArrayList<>(next);
    ordered.sort((a, b) -> Integer.compare(order.get(a), order.get(b)));
    return ordered;
  }

  // ---------------------------------------------------------------- state

  /**
   * Applies the updates in order: keys with a reducer combine, the others take the written value; two writers of
   * such a key in one superstep are an error, since which one wins would depend on timing.
   */
  private Map<String, Object> reduce(Map<String, Object> state,
                                     List<Map.Entry<String, Optional<Map<String, Object>>>> updates) {
    Map<String, Object> result = new LinkedHashMap<>(state);
    Map<String, String> writers = new HashMap<>();
    for (Map.Entry<String, Optional<Map<String, Object>>> entry : updates) {
      if (entry.getValue().isEmpty()) {
        continue;
      }
      for (Map.Entry<String, Object> write : entry.getValue().get().entrySet()) {
        String key = write.getKey();
        BinaryOperator<Object> reducer = graph.reducers().get(key);
        if (reducer == null) {
          String other = writers.put(key, entry.getKey());
          if (other != null) {
            throw new InvalidUpdateException("nodes '" + other + "' and '" + entry.getKey() + "' both wrote '" + key
                + "' in the same superstep of graph '" + name + "'; give '" + key + "' a reducer "
                + "(StateGraph.reducer) to combine their values");
          }
          result.put(key, write.getValue());
        } else {
          result.put(key, reducer.apply(result.get(key), write.getValue()));
        }
      }
    }
    return plainOf(Json.toTree(result, () -> "the state of graph '" + name + "'"));
  }

  /** A node result or input as a partial update of plain JSON values; null for none. */
  private @Nullable Map<String, Object> toUpdate(@Nullable Object value, String writer, String what) {
    if (value == null) {
      return null;
    }
    boolean stateInstance = graph.state().getRawClass().isInstance(value) && !(value instanceof Map<?, ?>);
    if (!(value instanceof Map<?, ?>) && !stateInstance) {
      throw new IllegalArgumentException(what + " is a " + value.getClass().getName() + "; return a Map of state "
          + "updates, a Command, an instance of " + graph.state().getRawClass().getSimpleName() + " or nothing");
    }
    Map<String, Object> update = plainOf(Json.toTree(value, () -> what));
    if (stateInstance) {
      update.values().removeIf(java.util.Objects::isNull); // an instance updates only the fields it sets
    }
    if (!graph.channels().isEmpty()) {
      for (String key : update.keySet()) {
        if (!graph.channels().contains(key)) {
          throw new IllegalArgumentException(what + " writes '" + key + "', which is not a field of "
              + graph.state().getRawClass().getSimpleName() + " (fields: " + graph.channels() + ")");
        }
      }
    }
    return update;
  }

  /**
   * The run's input as an update: a map, or a record or POJO whose null properties are left out; with an input
   * schema, only its keys. @throws InvalidUpdateException naming a key the input schema does not have
   */
  private @Nullable Map<String, Object> inputUpdate(@Nullable Object input) {
    if (graph.schemas().inputKeys().isEmpty() || input == null) {
      return toUpdate(input, GraphDefinition.START, "the input of graph '" + name + "'");
    }
    return schemaInput(graph, name, input);
  }

  private static Map<String, Object> schemaInput(GraphDefinition graph, String name, Object input) {
    Set<String> allowed = graph.schemas().inputKeys();
    JsonNode tree = Json.toTree(input, () -> "the input of graph '" + name + "'");
    if (!tree.isObject()) {
      throw new InvalidUpdateException("the input of graph '" + name + "' is a " + input.getClass().getName()
          + "; pass a map or a record or POJO with keys of its input schema " + allowed);
    }
    Map<String, Object> update = plainOf(tree);
    if (!(input instanceof Map<?, ?>)) {
      update.values().removeIf(java.util.Objects::isNull);
    }
    for (String key : update.keySet()) {
      if (!allowed.contains(key)) {
        throw new InvalidUpdateException("the input of graph '" + name + "' has key '" + key + "', which is not in "
            + "its input schema (keys: " + allowed + ")");
      }
    }
    return update;
  }

  /** Refuses, before the run saves anything, an input that the input schema of {@code spec}'s graph refuses. */
  static void checkInput(EntrypointSpec spec, Object input) {
    GraphDefinition graph = java.util.Objects.requireNonNull(spec.graph(), "a graph spec");
    if (!graph.schemas().inputKeys().isEmpty()) {
      schemaInput(graph, spec.name(), input);
    }
  }

  /** What a run returns: the output schema's keys of the state, as the type the running spec returns. */
  private @Nullable Object outputValue(Map<String, Object> state, Scope scope) {
    return Json.fromTree(output(graph, Json.toTree(state, () -> "the state of graph '" + name + "'")),
        scope.owner().output(), () -> "the output of graph '" + name + "'");
  }

  /** The saved state of a finished graph as its output: the output schema's keys (all without one). */
  static JsonNode output(GraphDefinition graph, JsonNode state) {
    if (graph.schemas().outputKeys().isEmpty() || !(state instanceof ObjectNode object)) {
      return state;
    }
    ObjectNode kept = object.deepCopy();
    kept.properties().removeIf(entry -> !graph.schemas().outputKeys().contains(entry.getKey()));
    return kept;
  }

  /** The state a node with its own input type reads: the values of that type's keys, as that type. */
  private @Nullable Object nodeView(GraphDefinition.NodeInput reads, Map<String, Object> state) {
    Map<String, Object> view = new LinkedHashMap<>();
    for (String key : reads.keys()) {
      if (state.containsKey(key)) {
        view.put(key, state.get(key));
      }
    }
    return Json.fromTree(Json.toTree(view, () -> "the state of graph '" + name + "'"), reads.type(),
        () -> "the state read by a node of graph '" + name + "' as " + reads.type().getRawClass().getSimpleName());
  }

  /** The task of a node reading part of the state: its conditional edges still see the whole state. */
  private TaskSpec readingSpec(GraphDefinition.Node node, Map<String, Object> state) {
    TaskSpec shared = nodeSpecs.get(node.name());
    ScopeBody body = (input, scope) -> runNode(node, input, scope, state);
    return new TaskSpec(shared.name(), shared.output(), body, shared.retry(), shared.timeout(), shared.cachePolicy(),
        null, shared.shown());
  }

  private @Nullable Object stateValue(Map<String, Object> state) {
    return Json.fromTree(Json.toTree(state, () -> "the state of graph '" + name + "'"), graph.state(),
        () -> "the state of graph '" + name + "'");
  }

  private static Map<String, Object> stateOf(Checkpoint checkpoint) {
    JsonNode state = checkpoint.values().get(CheckpointFormat.STATE);
    return state == null ? new LinkedHashMap<>() : plainOf(state);
  }

  private static Map<String, Object> plainOf(@Nullable Object value) {
    Object plain = Json.toPlain(value instanceof JsonNode node ? node : Json.toTree(value, () -> "the state"));
    return plain instanceof Map<?, ?> map ? plainMap(map) : new LinkedHashMap<>();
  }

  private static Map<String, List<String>> barriersOf(Checkpoint checkpoint) {
    JsonNode barriers = checkpoint.values().get(CheckpointFormat.BARRIERS);
    Map<String, List<String>> result = new LinkedHashMap<>();
    if (barriers != null) {
      for (Map.Entry<String, JsonNode> entry : barriers.properties()) {
        List<String> seen = new ArrayList<>();
        entry.getValue().forEach(node -> seen.add(node.asText()));
        result.put(entry.getKey(), seen);
      }
    }
    return result;
  }

  private static Map<String, Object> plainMap(Map<?, ?> map) {
    Map<String, Object> result = new LinkedHashMap<>();
    map.forEach((key, value) -> result.put(String.valueOf(key), value));
    return result;
  }

  private static Map<String, List<String>> copy(Map<String, List<String>> barriers) {
    Map<String, List<String>> copy = new LinkedHashMap<>();
    barriers.forEach((key, value) -> copy.put(key, new ArrayList<>(value)));
    return copy;
  }

  private static Optional<Map<String, Object>> optional(@Nullable Map<String, Object> update) {
    return Optional.ofNullable(update);
  }

  private static boolean intersects(Collection<String> nodes, Set<String> breakpoints) {
    for (String node : nodes) {
      if (breakpoints.contains(node)) {
        return true;
      }
    }
    return false;
  }

  static String nodeId(String graphScopeId, String node, int step) {
    return Ids.derive(graphScopeId, node, "step", Integer.toString(step));
  }

  private static List<Map<String, Object>> tasks(String graphScopeId, List<String> next, int step) {
    List<Map<String, Object>> tasks = new ArrayList<>(next.size());
    for (String node : next) {
      Map<String, Object> task = new LinkedHashMap<>();
      task.put("id", nodeId(graphScopeId, node, step));
      task.put("name", node);
      task.put("interrupts", List.of());
      tasks.add(task);
    }
    return tasks;
  }

  // ---------------------------------------------------------------- Command.update / goTo as run input

  /**
   * The checkpoint a {@code Command} with {@code update}/{@code goTo} continues from: a child of {@code from} with
   * the update applied through the reducers and the goTo node added to the next nodes, keeping the run id and the
   * superstep so that the pending superstep's nodes and interrupts keep their ids.
   */
  static Checkpoint steer(EntrypointSpec spec, Checkpoint from, Command command, Map<String, Object> userMetadata) {
    GraphDefinition graph = java.util.Objects.requireNonNull(spec.graph(), "a graph spec");
    GraphLoop loop = new GraphLoop(graph, spec.name());
    if (from.values().containsKey(CheckpointFormat.START)) {
      throw new dev.fluxgraph.errors.InvalidCommandException("the input of the pending run of graph '" + spec.name()
          + "' has not been applied yet; continue it with Command.proceed() before sending Command.update/goTo");
    }
    List<String> next = new ArrayList<>(CheckpointFormat.next(from));
    if (command.goTo() != null) {
      if (!graph.nodes().containsKey(command.goTo())) {
        throw new dev.fluxgraph.errors.InvalidCommandException("Command.goTo names '" + command.goTo()
            + "', which is not a node of graph '" + spec.name() + "' (nodes: " + graph.nodes().keySet() + ")");
      }
      if (!next.contains(command.goTo())) {
        next.add(command.goTo());
        next.sort((a, b) -> Integer.compare(loop.order.get(a), loop.order.get(b)));
      }
    }
    Map<String, Object> update = loop.toUpdate(command.update().isEmpty() ? null : command.update(), "Command",
        "the update of the Command");
    Map<String, Object> state = loop.reduce(stateOf(from), List.of(Map.entry("Command", optional(update))));
    return CheckpointFormat.graph(from.threadId(), from, "input", CheckpointFormat.runId(from),
        CheckpointFormat.superstep(from), Json.toTree(state, () -> "the state"), next,
        Json.toTree(barriersOf(from), () -> "barriers"), userMetadata, spec.clock());
  }

  // ---------------------------------------------------------------- updateState

  /**
   * Saves an {@code update} checkpoint after the config's checkpoint (or the latest): {@code values} applied as
   * if node {@code asNode} had written them, and the next nodes those of {@code asNode}'s edges; with no
   * {@code asNode}, the next nodes stay as they were. A run pending at the old checkpoint is abandoned (its
   * continuation from the new checkpoint runs the next nodes afresh).
   */
  public static Mono<RunConfig> update(EntrypointSpec spec, RunConfig config, @Nullable Object values,
                                       @Nullable String asNode) {
    GraphDefinition graph = java.util.Objects.requireNonNull(spec.graph(), "a graph spec");
    GraphLoop loop = new GraphLoop(graph, spec.name());
    return Mono.defer(() -> {
      ThreadState.refuseNested(spec, config);
      if (asNode != null && !asNode.equals(GraphDefinition.START) && !graph.nodes().containsKey(asNode)) {
        return Mono.error(new IllegalArgumentException("updateState asNode '" + asNode + "' is not a node of graph '"
            + spec.name() + "' (nodes: " + graph.nodes().keySet() + ")"));
      }
      CheckpointSaver saver = ThreadState.saver(spec, "updateState");
      String threadId = ThreadState.threadOf(spec, config, "updateState");
      String checkpointId = config.checkpointId().orElse(null);
      Mono<Optional<Checkpoint>> parent = saver.get(threadId, CheckpointFormat.ROOT_NAMESPACE, checkpointId)
          .map(tuple -> Optional.of(tuple.checkpoint()));
      if (checkpointId != null) {
        parent = parent.switchIfEmpty(Mono.error(() -> new IllegalArgumentException(
            "checkpoint " + checkpointId + " not found on thread '" + threadId + "'")));
      }
      return parent.defaultIfEmpty(Optional.empty()).flatMap(found -> {
        Checkpoint previous = found.orElse(null);
        Map<String, Object> state = previous == null ? new LinkedHashMap<>() : stateOf(previous);
        String writer = asNode == null ? "updateState" : asNode;
        Map<String, Object> update = loop.toUpdate(values, writer, "the values passed to updateState");
        Map<String, Object> reduced = loop.reduce(state, List.of(Map.entry(writer, optional(update))));
        Map<String, List<String>> barriers = previous == null ? new LinkedHashMap<>() : barriersOf(previous);
        Mono<List<String>> next = asNode == null
            ? Mono.just(previous == null ? List.of() : CheckpointFormat.next(previous))
            : loop.route(asNode, reduced).map(routed -> loop.schedule(List.of(asNode), List.of(routed), barriers));
        return next.flatMap(nodes -> {
          Checkpoint saved = CheckpointFormat.graph(threadId, previous, "update", Ids.timeOrdered(spec.clock()),
              previous == null ? 0 : CheckpointFormat.step(previous) + 1, Json.toTree(reduced, () -> "the state"),
              nodes, Json.toTree(barriers, () -> "barriers"), config.metadata(), spec.clock());
          return saver.put(saved).thenReturn(CheckpointFormat.config(saved));
        });
      });
    });
  }
}
