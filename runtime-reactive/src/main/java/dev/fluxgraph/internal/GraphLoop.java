package dev.fluxgraph.internal;

import static dev.fluxgraph.internal.CheckpointFormat.strings;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.checkpoint.Checkpoint;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.CheckpointTuple;
import dev.fluxgraph.checkpoint.PendingWrite;
import dev.fluxgraph.errors.GraphRecursionException;
import dev.fluxgraph.errors.InvalidUpdateException;
import dev.fluxgraph.graph.Send;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamMode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;
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
 *
 * <p>{@code Send}s are tasks of their own (push tasks): the next superstep runs each pending Send beside the
 * scheduled nodes, with an id from the run, the step and the Send's index among the superstep's Sends; their updates
 * reduce after the nodes', by index. Deferred nodes wait outside {@code next} until a superstep would have nothing
 * else to run. A node's {@code Command.toParent()} ends its graph with a {@link ParentCommand}, which the node of the
 * parent graph that the signal reaches takes as its result.
 */
public final class GraphLoop {

  /**
   * What a node's task records: its update (plain JSON values), where it sends the run (node names and
   * {@code Send}s), or, for {@code Command.toParent()}, the command for the parent graph instead.
   */
  public record NodeOutcome(@Nullable Map<String, Object> update, List<String> goTo,
                            @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Packet> sends,
                            @JsonInclude(JsonInclude.Include.NON_NULL) @Nullable ParentRoute parent) {
    public NodeOutcome {
      goTo = goTo == null ? List.of() : List.copyOf(goTo); // outcomes recorded before Sends existed lack the field
      sends = sends == null ? List.of() : List.copyOf(sends);
    }

    NodeOutcome(@Nullable Map<String, Object> update, List<String> goTo, List<Packet> sends) {
      this(update, goTo, sends, null);
    }
  }

  /** A {@code Send} as the engine records it: the node and its input as plain JSON data. */
  public record Packet(String node, @Nullable Object arg) {
  }

  /**
   * A {@code Command.toParent()} as its node records it: the update (plain JSON data, checked by the parent graph),
   * the node to go to and the Sends.
   */
  public record ParentRoute(@Nullable Map<String, Object> update, @Nullable String goTo, List<Packet> sends) {
    public ParentRoute {
      sends = sends == null ? List.of() : List.copyOf(sends);
    }
  }

  /** A root run stopped at a breakpoint; {@code state} is what the run returns. */
  record Breakpoint(@Nullable Object state) {
  }

  /** Where a router or a Command sends the run: node names (END removed later) and Sends. */
  private record Routed(List<String> nodes, List<Packet> sends) {
    static final Routed NOWHERE = new Routed(List.of(), List.of());
  }

  /** The work of the next superstep: the nodes edges scheduled, the Sends, and the deferred nodes still waiting. */
  private record Scheduled(List<String> next, List<Packet> sends, List<String> deferred) {
  }

  private static final JavaType OUTCOME = Json.type(NodeOutcome.class);
  private static final UnaryOperator<@Nullable Object> SHOWN =
      outcome -> outcome == null ? null : ((NodeOutcome) outcome).update();

  private final GraphDefinition graph;
  private final String name;
  private final Map<String, Integer> order = new HashMap<>();

  public GraphLoop(GraphDefinition graph, String name) {
    this.graph = graph;
    this.name = name;
    for (GraphDefinition.Node node : graph.nodes().values()) {
      order.put(node.name(), order.size());
    }
  }

  /** The body of the graph's entrypoint spec. */
  public ScopeBody body() {
    return (input, scope) -> new Execution(scope).start(input);
  }

  // ---------------------------------------------------------------- one execution of the loop

  /**
   * Where the loop is: the state, the work of the next superstep (nodes, Sends, deferred nodes waiting), the
   * fan-in progress and the writers of the state (the tasks of the superstep before, {@code __start__} for the input,
   * or an update's node).
   */
  private record Cursor(Map<String, Object> state, List<String> next, List<Packet> sends, List<String> deferred,
                        Map<String, List<String>> barriers, int step, int executed, boolean checkBefore, boolean done,
                        @Nullable Object result, List<String> ran) {
    Cursor finish(@Nullable Object value) {
      return new Cursor(state, next, sends, deferred, barriers, step, executed, checkBefore, true, value, ran);
    }

    Cursor withCheckBefore(boolean check) {
      return new Cursor(state, next, sends, deferred, barriers, step, executed, check, false, null, ran);
    }

    boolean idle() {
      return next.isEmpty() && sends.isEmpty();
    }

    /** The names of the next superstep's tasks: Sends first, then the other nodes (the reference's order). */
    List<String> names() {
      return taskNames(next, sends);
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
        Cursor resumed = new Cursor(graph.initialized(stateOf(base)), CheckpointFormat.next(base),
            CheckpointFormat.sends(base), CheckpointFormat.deferred(base), barriersOf(base),
            CheckpointFormat.superstep(base), 0, false, false, null, List.of());
        Output output = run.output();
        Object shown = output.wants(StreamMode.CHECKPOINTS, List.of()) || output.wants(StreamMode.DEBUG, List.of())
            ? stateValue(resumed.state()) : null;
        first = run.announceResumed(base, shown, resumed.names(), tasks(base.threadId(), scope.id(), resumed.next(),
            resumed.sends(), resumed.step())).thenReturn(resumed);
      } else {
        Map<String, Object> state = graph.initialized(root ? stateOf(run.writes().base()) : new LinkedHashMap<>());
        int step = root ? CheckpointFormat.step(run.writes().base()) + 1 : 0;
        Map<String, Object> update = inputUpdate(input);
        Map<String, Object> reduced = reduce(state, List.of(Map.entry(GraphDefinition.START, optional(update))));
        Map<String, List<String>> barriers = new LinkedHashMap<>();
        first = route(GraphDefinition.START, reduced)
            .map(routed -> {
              Scheduled next = schedule(List.of(GraphDefinition.START), List.of(routed), barriers, List.of());
              return new Cursor(reduced, next.next(), next.sends(), next.deferred(), barriers, step, 0, true, false,
                  null, List.of(GraphDefinition.START));
            })
            .flatMap(cursor -> saved(cursor).thenReturn(cursor));
      }
      return first
          .flatMapMany(cursor -> Mono.just(cursor).expand(c -> c.done() ? Mono.empty() : superstep(c)))
          .last()
          .mapNotNull(Cursor::result);
    }

    private Mono<Cursor> superstep(Cursor c) {
      if (c.idle()) {
        return Mono.just(c.finish(outputValue(c.state(), scope)));
      }
      if (c.checkBefore() && intersects(c.names(), interruptBefore())) {
        return breakpoint(c, "before", c.names()).map(ignored -> c.withCheckBefore(false));
      }
      PendingWrite update = root ? null
          : run.writes().find(CheckpointFormat.nestedUpdateId(scope.id(), c.step()), PendingWrite.UPDATE);
      if (update != null) {
        // updateState edited this nested graph where it stopped (past the breakpoint it stopped at, which the
        // continuation answered just now, as when it stopped): applied again as it was then, and the continuation
        // goes on from it without checking breakpoints before its next nodes, as from any point it continues
        return updated(c, plainOf(update.value().get("values")), update.value().path("as_node").asText())
            .flatMap(n -> saved(n).thenReturn(n));
      }
      // the run's own limit (RunConfig.withRecursionLimit) over the graph's; nested graphs inherit it
      int limit = run.config().recursionLimit().orElse(graph.recursionLimit());
      if (c.executed() >= limit) {
        return Mono.error(new GraphRecursionException("graph '" + name + "' ran " + limit
            + " supersteps without reaching END (next: " + c.names() + "); if it is meant to run longer, raise the "
            + "limit with CompileOptions.withRecursionLimit(n) or RunConfig.withRecursionLimit(n)", limit));
      }
      int remaining = limit - c.executed();
      Object view = stateValue(c.state());
      if (root) { // should the step pause at a nested graph's breakpoint only, the run returns the state so far
        run.pausedState(() -> outputValue(c.state(), scope));
      }
      // the superstep's tasks in the order their updates apply: nodes in the order they were added, then the Sends
      List<String> ran = new ArrayList<>(c.next().size() + c.sends().size());
      List<String> writers = new ArrayList<>(ran.size());
      List<Mono<NodeOutcome>> calls = new ArrayList<>(ran.size());
      for (String node : c.next()) {
        ran.add(node);
        writers.add(node);
        GraphDefinition.NodeInput reads = graph.schemas().nodeInputs().get(node);
        Object input = reads == null ? view : nodeView(reads, c.state());
        calls.add(TaskCall.<NodeOutcome>call(scope, nodeSpec(graph.nodes().get(node), c.state(), remaining), input,
            nodeId(scope.id(), node, c.step())));
      }
      for (int i = 0; i < c.sends().size(); i++) {
        Packet send = c.sends().get(i);
        GraphDefinition.Node node = graph.nodes().get(send.node());
        ran.add(send.node());
        writers.add(send.node() + " (Send " + i + ")");
        calls.add(TaskCall.<NodeOutcome>call(scope, nodeSpec(node, c.state(), remaining), sendInput(send),
            pushId(scope.id(), send.node(), c.step(), i), true));
      }
      return Mono.zip(calls, results -> {
        List<Map.Entry<String, Optional<Map<String, Object>>>> updates = new ArrayList<>(results.length);
        List<Routed> sent = new ArrayList<>(results.length);
        for (int i = 0; i < results.length; i++) {
          NodeOutcome outcome = (NodeOutcome) results[i];
          if (outcome.parent() != null) { // Command.toParent(): this graph stops, its caller's node takes over
            throw new ParentCommand(command(outcome.parent()), ran.get(i), name);
          }
          updates.add(Map.entry(writers.get(i), Optional.ofNullable(outcome.update())));
          sent.add(new Routed(outcome.goTo(), outcome.sends()));
        }
        Map<String, List<String>> barriers = copy(c.barriers());
        Map<String, Object> state = reduce(c.state(), updates);
        Scheduled next = schedule(ran, sent, barriers, c.deferred());
        return new Cursor(state, next.next(), next.sends(), next.deferred(), barriers, c.step() + 1,
            c.executed() + 1, true, false, null, List.copyOf(new LinkedHashSet<>(ran)));
      }).flatMap(n -> saved(n).then(Mono.defer(() -> {
        if (!n.idle() && intersects(c.names(), interruptAfter())) {
          return breakpoint(n, "after", c.names()).thenReturn(n);
        }
        return Mono.just(n);
      })));
    }

    /** The breakpoints before nodes: a root run's own ({@code RunConfig.withInterruptBefore}), else the graph's. */
    private Set<String> interruptBefore() {
      return root ? run.config().interruptBefore().orElse(graph.interruptBefore()) : graph.interruptBefore();
    }

    /** The breakpoints after nodes: a root run's own ({@code RunConfig.withInterruptAfter}), else the graph's. */
    private Set<String> interruptAfter() {
      return root ? run.config().interruptAfter().orElse(graph.interruptAfter()) : graph.interruptAfter();
    }

    /**
     * Root runs: saves the checkpoint after a superstep (or the input); nested runs: records their state; every run:
     * emits the state.
     */
    private Mono<Void> saved(Cursor c) {
      // The state as the user's type only for chunks that show it (a copy of the whole state: skipped otherwise).
      Output output = run.output();
      // a nested graph replayed past this state shows it no more, as a replayed node shows no update: a continuation
      // shows the state where the graph stopped, and what comes after
      boolean replayed = !root && replayedPast(c.step());
      boolean shown = !replayed && output.wants(StreamMode.VALUES, scope.namespace())
          || root && (output.wants(StreamMode.CHECKPOINTS, List.of()) || output.wants(StreamMode.DEBUG, List.of()));
      Object state = shown ? stateValue(c.state()) : null;
      Mono<Void> checkpoint = Mono.empty();
      if (root) {
        Checkpoint base = run.writes().base();
        Checkpoint next = CheckpointFormat.graph(base.threadId(), base, "loop", CheckpointFormat.runId(base), c.step(),
            Json.toTree(c.state(),
                () -> "the state of graph '" + name + "'"), c.next(), c.sends(), c.deferred(),
            Json.toTree(c.barriers(), () -> "barriers"), run.config().metadata(), scope.owner().clock());
        checkpoint = run.advance(next, state, c.names(), tasks(base.threadId(), scope.id(), c.next(), c.sends(),
            c.step()));
      } else { // a nested graph's state is a write of the calling run: what getState shows of it while it is paused
        checkpoint = run.writes().record(CheckpointFormat.subgraphWrite(scope.id(), scope.path(), scope.namespace(),
            name, c.step(), Json.toTree(c.state(), () -> "the state of graph '" + name + "'"), c.next(), c.sends(),
            c.deferred(), Json.toTree(c.barriers(), () -> "barriers"), c.ran(), null, scope.owner().clock()));
      }
      return replayed ? checkpoint : checkpoint.then(run.emitValues(scope.namespace(), state));
    }

    /**
     * Whether a nested graph's state at {@code step} is replayed and the graph went on past it before (its state at the
     * next step is recorded too): a continuation of the run replays the graph up to where it stopped.
     */
    private boolean replayedPast(int step) {
      return run.writes().find(CheckpointFormat.subgraphWriteId(scope.id(), step), PendingWrite.SUBGRAPH) != null
          && run.writes().find(CheckpointFormat.subgraphWriteId(scope.id(), step + 1), PendingWrite.SUBGRAPH) != null;
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
   * The task of {@code node} in a superstep that starts from {@code state}: the node reads its input (the state, or
   * a Send's arg), its conditional edges the state with its update applied; {@code remaining} is what
   * {@code TaskContext.remainingSteps()} tells it.
   */
  private TaskSpec nodeSpec(GraphDefinition.Node node, Map<String, Object> state, int remaining) {
    ScopeBody body = (input, scope) -> {
      scope.remainingSteps(remaining);
      return runNode(node, input, state, scope);
    };
    return new TaskSpec(node.name(), OUTCOME, body, node.retry(), node.timeout(), node.cachePolicy(), null, SHOWN);
  }

  private Mono<NodeOutcome> runNode(GraphDefinition.Node node, @Nullable Object input, Map<String, Object> state,
                                    Scope scope) {
    Mono<?> result = node.body().apply(input, scope);
    if (result == null) {
      return Mono.error(new NullPointerException("node '" + node.name() + "' of graph '" + name
          + "' returned null instead of a Mono"));
    }
    // a graph nested in this node ended with Command.toParent(): its command is this node's result
    Mono<Optional<Object>> returned = result.map(Optional::<Object>of)
        .onErrorResume(ParentCommand.class, command -> Mono.just(Optional.of(command.command())));
    return returned.defaultIfEmpty(Optional.empty()).flatMap(outcome -> {
      Object value = outcome.orElse(null);
      List<String> goTo = new ArrayList<>();
      List<Packet> sends = new ArrayList<>();
      Map<String, Object> update;
      if (value instanceof Command command) {
        String what = "Command.goTo in node '" + node.name() + "'";
        if (command.kind() != Command.Kind.PROCEED) {
          return Mono.error(new IllegalArgumentException("node '" + node.name() + "' returned a Command with a resume"
              + " value; a node returns Command.goTo(..) and/or Command.update(..), resume values go to run(...)"));
        }
        if (command.forParent()) {
          return Mono.fromCallable(() -> new NodeOutcome(null, List.of(), List.of(), parentRoute(node, command,
              scope)));
        }
        if (command.goTo() != null) {
          goTo.add(checkTarget(command.goTo(), what));
        }
        for (Send send : command.sends()) {
          sends.add(packet(send, what));
        }
        update = toUpdate(command.update().isEmpty() ? null : command.update(), node.name(),
            "the update of node '" + node.name() + "'");
      } else {
        update = toUpdate(value, node.name(), "the result of node '" + node.name() + "'");
      }
      prepareMessages(update);
      if (graph.routers().getOrDefault(node.name(), List.of()).isEmpty()) { // no need for the state it leaves
        return Mono.just(new NodeOutcome(update, List.copyOf(goTo), List.copyOf(sends)));
      }
      Map<String, Object> local = reduce(state, List.of(Map.entry(node.name(), optional(update))));
      return route(node.name(), local).map(routed -> {
        goTo.addAll(routed.nodes());
        sends.addAll(routed.sends());
        return new NodeOutcome(update, List.copyOf(goTo), List.copyOf(sends));
      });
    }).flatMap(outcome -> streamMessages(scope, state, outcome.update()).thenReturn(outcome));
  }

  /** Message keys of a node's update in their stored form, with ids, before the update is recorded (so ids replay). */
  private void prepareMessages(@Nullable Map<String, Object> update) {
    if (update == null) {
      return;
    }
    for (Map.Entry<String, Object> write : update.entrySet()) {
      if (graph.reducers().get(write.getKey()) instanceof MessagesReducer messages) {
        write.setValue(messages.prepare(write.getValue()));
      }
    }
  }

  /**
   * {@code messages} mode shows the messages a node writes (a value of its update, or an element of a list value,
   * that is a human, ai, system or tool message), each once: not those already in the node's input state, nor those
   * the run has streamed already (a model client's tokens carry the message's id), as LangGraph's messages handler
   * does on a node's end.
   */
  private Mono<Void> streamMessages(Scope scope, @Nullable Object state, @Nullable Map<String, Object> update) {
    if (update == null || !scope.run().output().wants(StreamMode.MESSAGES, scope.namespace())) {
      return Mono.empty();
    }
    Set<Object> known = new HashSet<>();
    for (Object value : plainOf(state).values()) {
      for (Object message : elements(value)) {
        if (MessageShapes.isMessage(message) && ((Map<?, ?>) message).get("id") != null) {
          known.add(((Map<?, ?>) message).get("id"));
        }
      }
    }
    List<Object> written = new ArrayList<>();
    for (Object value : update.values()) {
      for (Object message : elements(value)) {
        if (MessageShapes.isMessage(message)) {
          Object id = ((Map<?, ?>) message).get("id");
          if (id == null || !known.contains(id) && scope.run().messageStreamed(id)) {
            written.add(message);
          }
        }
      }
    }
    return Flux.fromIterable(written).concatMap(message -> scope.messages().write(message)).then();
  }

  private static List<?> elements(@Nullable Object value) {
    return value instanceof List<?> list ? list : java.util.Collections.singletonList(value);
  }

  /**
   * A {@code Command.toParent()} as recorded: checked here only for a parent graph to go to (the parent checks
   * the rest against its own nodes and keys).
   */
  private ParentRoute parentRoute(GraphDefinition.Node node, Command command, Scope scope) {
    if (!hasParentGraph(scope)) {
      throw new IllegalStateException("node '" + node.name() + "' returned Command.toParent(), but graph '" + name
          + "' has no parent graph: it runs " + (scope.call() != null && scope.call().parent().call() == null
          ? "as the run's root graph" : "inside an entrypoint or task, not as a node of another graph")
          + "; return the Command without toParent() to route within graph '" + name + "'");
    }
    Map<String, Object> update = command.update().isEmpty() ? null
        : plainOf(Json.toTree(command.update(), () -> "the update of node '" + node.name() + "' for the parent graph"));
    List<Packet> sends = new ArrayList<>();
    for (Send send : command.sends()) {
      sends.add(new Packet(send.node(), Json.toPlain(Json.toTree(send.arg(),
          () -> "the arg of the Send to '" + send.node() + "' from node '" + node.name() + "'"))));
    }
    return new ParentRoute(update, command.goTo(), sends);
  }

  /**
   * Whether a graph runs the node's graph (from the node's scope {@code nodeScope}): some scope above the graph's
   * own belongs to a graph, i.e. is one of its nodes or something they called.
   */
  private static boolean hasParentGraph(Scope nodeScope) {
    TaskCall nodeCall = nodeScope.call();
    Scope graphScope = nodeCall == null ? nodeScope : nodeCall.parent();
    for (TaskCall call = graphScope.call(); call != null; call = call.parent().call()) {
      if (call.parent().owner().graph() != null) {
        return true;
      }
    }
    return false;
  }

  /** The command a recorded {@code toParent()} stands for, for the parent graph. */
  private static Command command(ParentRoute route) {
    Command command = route.update() == null ? Command.proceed() : Command.update(route.update());
    if (route.goTo() != null) {
      command = command.withGoTo(route.goTo());
    }
    if (!route.sends().isEmpty()) {
      command = command.withGoTo(route.sends().stream().map(packet -> new Send(packet.node(),
          packet.arg() == null ? Map.of() : packet.arg())).toArray(Send[]::new));
    }
    return command;
  }

  /**
   * The cursor after an {@code updateState} of this (nested) graph at {@code c}: {@code update} (checked, messages
   * with their ids) applied as if node {@code writer} (or {@code __start__}) had written it, the next nodes and Sends
   * those of the writer's edges, one step later; deferred nodes keep waiting; no breakpoint is checked before those
   * nodes (a continuation starts there). The same when the update is made and when the run that the graph is nested
   * in replays it.
   */
  private Mono<Cursor> updated(Cursor c, Map<String, Object> update, String writer) {
    Map<String, Object> reduced = reduce(c.state(), List.of(Map.entry(writer, optional(update))));
    Map<String, List<String>> barriers = copy(c.barriers());
    return route(writer, reduced).map(routed -> {
      Scheduled next = schedule(List.of(writer), List.of(routed), barriers, c.deferred());
      return new Cursor(reduced, next.next(), next.sends(), next.deferred(), barriers, c.step() + 1, c.executed(),
          false, false, null, List.of(writer));
    });
  }

  /** A Send's arg, read as the input type of its node. */
  private @Nullable Object sendInput(Packet send) {
    JavaType type = inputType(send.node());
    return Json.fromTree(Json.toTree(send.arg(), () -> "the arg of a Send to node '" + send.node() + "'"),
        type, () -> "the arg of a Send to node '" + send.node() + "' of graph '" + name + "' (read as "
            + type.getRawClass().getSimpleName() + ", the node's input)");
  }

  /** The type a node reads its input as: its declared input type, else the state type. */
  private JavaType inputType(String node) {
    GraphDefinition.NodeInput reads = graph.schemas().nodeInputs().get(node);
    return reads == null ? graph.state() : reads.type();
  }

  /** The conditional edges of {@code from}, evaluated on {@code state}, in the order they were added. */
  private Mono<Routed> route(String from, Map<String, Object> state) {
    List<GraphDefinition.Router> routers = graph.routers().getOrDefault(from, List.of());
    if (routers.isEmpty()) {
      return Mono.just(Routed.NOWHERE);
    }
    Object view = stateValue(state);
    String what = "the conditional edge from '" + from + "'";
    return Flux.fromIterable(routers)
        .concatMap(router -> {
          var targets = router.route(view);
          return targets == null ? Mono.error(new NullPointerException(what + " returned null instead of a "
              + "Publisher")) : Flux.from(targets);
        })
        .collectList()
        .map(emitted -> {
          List<String> nodes = new ArrayList<>();
          List<Packet> sends = new ArrayList<>();
          for (Object target : emitted) {
            add(target, what, nodes, sends);
          }
          return new Routed(List.copyOf(nodes), List.copyOf(sends));
        });
  }

  /** One element a router emitted: a node name, a Send, or a collection of them. */
  private void add(@Nullable Object target, String what, List<String> nodes, List<Packet> sends) {
    if (target instanceof Send send) {
      sends.add(packet(send, what));
    } else if (target instanceof Iterable<?> many && !(target instanceof Map<?, ?>)) {
      for (Object one : many) {
        add(one, what, nodes, sends);
      }
    } else if (target == null || target instanceof String) {
      nodes.add(checkTarget((String) target, what));
    } else {
      throw new IllegalArgumentException(what + " emitted a " + target.getClass().getName() + " (" + target
          + "); emit node names, Sends, or collections of them");
    }
  }

  /** A Send checked against the graph's nodes, its arg as plain JSON data (so it is checkpointed as is). */
  private Packet packet(Send send, String what) {
    if (!graph.nodes().containsKey(send.node())) {
      throw new IllegalArgumentException(what + " made a Send to '" + send.node() + "', which is not a node of graph '"
          + name + "' (nodes: " + graph.nodes().keySet() + ")");
    }
    return new Packet(send.node(), Json.toPlain(Json.toTree(send.arg(),
        () -> "the arg of the Send to '" + send.node() + "' (" + what + ")")));
  }

  private String checkTarget(@Nullable String target, String what) {
    if (target == null || !(graph.nodes().containsKey(target) || target.equals(GraphDefinition.END))) {
      throw new IllegalArgumentException(what + " named '" + target + "', which is not a node of graph '" + name
          + "' (nodes: " + graph.nodes().keySet() + ", or END)");
    }
    return target;
  }

  /**
   * The work of the next superstep. Nodes, in the order they were added: plain edges from the tasks that ran,
   * where they sent the run, and fan-in targets whose sources have now all finished ({@code barriers} is updated).
   * Sends, in the order the tasks emitted them. Deferred nodes among those nodes join {@code deferred} instead and
   * wait there until the superstep would otherwise have nothing to run.
   */
  private Scheduled schedule(List<String> ran, List<Routed> sent, Map<String, List<String>> barriers,
                             List<String> deferred) {
    Set<String> next = new LinkedHashSet<>();
    List<Packet> sends = new ArrayList<>();
    for (int i = 0; i < ran.size(); i++) {
      next.addAll(graph.edges().getOrDefault(ran.get(i), List.of()));
      next.addAll(sent.get(i).nodes());
      sends.addAll(sent.get(i).sends());
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
    Set<String> waiting = new LinkedHashSet<>(deferred);
    for (Iterator<String> nodes = next.iterator(); nodes.hasNext(); ) {
      String node = nodes.next();
      if (graph.nodes().get(node).deferred()) {
        waiting.add(node);
        nodes.remove();
      }
    }
    if (next.isEmpty() && sends.isEmpty()) { // nothing else to do: the deferred nodes run now
      next.addAll(waiting);
      waiting.clear();
    }
    return new Scheduled(sorted(next), List.copyOf(sends), sorted(waiting));
  }

  private List<String> sorted(Set<String> nodes) {
    List<String> ordered = new ArrayList<>(nodes);
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
          String state = mapState() ? "a key the state of graph '" + name + "' declares (keys: "
              : "a field of " + graph.state().getRawClass().getSimpleName() + " (fields: ";
          throw new IllegalArgumentException(what + " writes '" + key + "', which is not " + state
              + graph.channels() + ")");
        }
      }
    }
    return update;
  }

  /** Whether the state is a map (with declared keys when {@code channels} is not empty). */
  private boolean mapState() {
    return Map.class.isAssignableFrom(graph.state().getRawClass());
  }

  /**
   * The run's input as an update: a map, or a record or POJO whose null properties are left out; with an input
   * schema, only its keys; for a map state with declared keys, only those (the others are dropped, as the
   * reference's input mapping drops keys that are no channel). @throws InvalidUpdateException naming a key the input
   * schema does not have
   */
  private @Nullable Map<String, Object> inputUpdate(@Nullable Object input) {
    if (graph.schemas().inputKeys().isEmpty() || input == null) {
      if (input instanceof Map<?, ?> map && mapState() && !graph.channels().isEmpty()) {
        Map<Object, Object> declared = new LinkedHashMap<>(map);
        declared.keySet().retainAll(graph.channels());
        input = declared;
      }
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
    if (breakpoints.contains("*") && !nodes.isEmpty()) { // the reference's "*": every node
      return true;
    }
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

  /**
   * The id of the {@code index}-th Send of superstep {@code step} (to {@code node}): like a node's id, it depends only
   * on the graph's scope (so on the run's checkpoint), the step and the Send's place among the superstep's Sends,
   * never on timing.
   */
  static String pushId(String graphScopeId, String node, int step, int index) {
    return Ids.derive(graphScopeId, node, "push", Integer.toString(step), Integer.toString(index));
  }

  /** Task names as {@code next} lists them: the Sends' nodes first, then the other nodes. */
  static List<String> taskNames(List<String> next, List<Packet> sends) {
    if (sends.isEmpty()) {
      return next;
    }
    List<String> names = new ArrayList<>(sends.size() + next.size());
    sends.forEach(send -> names.add(send.node()));
    names.addAll(next);
    return List.copyOf(names);
  }

  /**
   * The id of the call of the nested graph or entrypoint that a subgraph node (one added with
   * {@code addNode(name, subgraph)}) makes in its task {@code nodeTaskId}. It depends only on the node's task id, not
   * on the state passed, so the nested run's checkpoint namespace ({@link #subgraphNamespace}) is known before it runs:
   * the task's {@code checkpoint} in a snapshot and in a checkpoint event names it (as the reference's do).
   */
  static String subgraphId(String nodeTaskId, String node) {
    return Ids.derive(nodeTaskId, node, "subgraph");
  }

  /** The checkpoint namespace of the nested run of subgraph node {@code node} in task {@code nodeTaskId}. */
  static String subgraphNamespace(List<String> parentNamespace, String nodeTaskId, String node) {
    String segment = node + ":" + subgraphId(nodeTaskId, node);
    return parentNamespace.isEmpty() ? segment : String.join("|", parentNamespace) + "|" + segment;
  }

  /**
   * A root graph's checkpoint event tasks: {@code id}, {@code name}, {@code interrupts} and {@code state}, for a
   * subgraph node the config addressing its nested run (thread id and checkpoint namespace, as the reference's
   * {@code map_debug_checkpoint} gives), null otherwise.
   */
  private List<Map<String, Object>> tasks(String threadId, String graphScopeId, List<String> next,
                                          List<Packet> sends, int step) {
    List<Map<String, Object>> tasks = new ArrayList<>(next.size() + sends.size());
    for (int i = 0; i < sends.size(); i++) {
      tasks.add(task(threadId, pushId(graphScopeId, sends.get(i).node(), step, i), sends.get(i).node()));
    }
    for (String node : next) {
      tasks.add(task(threadId, nodeId(graphScopeId, node, step), node));
    }
    return tasks;
  }

  private Map<String, Object> task(String threadId, String id, String node) {
    Map<String, Object> task = new LinkedHashMap<>();
    task.put("id", id);
    task.put("name", node);
    task.put("interrupts", List.of());
    task.put("state", !threadId.isBlank() && graph.layout().subgraphs().containsKey(node) // blank: no checkpointer
        ? RunConfig.thread(threadId).withCheckpointNamespace(subgraphNamespace(List.of(), id, node)) : null);
    return task;
  }

  // ---------------------------------------------------------------- Command.update / goTo as run input

  /**
   * The checkpoint a {@code Command} with {@code update}/{@code goTo} continues from: a child of {@code from} with
   * the update applied through the reducers, the goTo node added to the next nodes and its Sends after the pending
   * ones, keeping the run id and the superstep so that the pending superstep's nodes, Sends and interrupts keep
   * their ids.
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
    List<Packet> sends = new ArrayList<>(CheckpointFormat.sends(from));
    for (Send send : command.sends()) {
      if (!graph.nodes().containsKey(send.node())) {
        throw new dev.fluxgraph.errors.InvalidCommandException("Command.goTo has a Send to '" + send.node()
            + "', which is not a node of graph '" + spec.name() + "' (nodes: " + graph.nodes().keySet() + ")");
      }
      sends.add(loop.packet(send, "the Command"));
    }
    Map<String, Object> update = loop.toUpdate(command.update().isEmpty() ? null : command.update(), "Command",
        "the update of the Command");
    Map<String, Object> state = loop.reduce(graph.initialized(stateOf(from)),
        List.of(Map.entry("Command", optional(update))));
    return CheckpointFormat.graph(from.threadId(), from, "input", CheckpointFormat.runId(from),
        CheckpointFormat.superstep(from), Json.toTree(state, () -> "the state"), next, sends,
        CheckpointFormat.deferred(from), Json.toTree(barriersOf(from), () -> "barriers"), userMetadata, spec.clock());
  }

  // ---------------------------------------------------------------- updateState

  /** {@code updateState}'s {@code asNode} for an input: the reference's name for the input writer. */
  public static final String INPUT = "__input__";

  /**
   * Saves an {@code update} checkpoint after the config's checkpoint (or the latest): {@code values} applied as
   * if node {@code asNode} had written them, and the next nodes (and Sends) those of {@code asNode}'s edges; with no
   * {@code asNode}, the next nodes and Sends stay as they were. Deferred nodes still waiting keep waiting. A run
   * pending at the old checkpoint is abandoned (its continuation from the new checkpoint runs the next nodes afresh).
   * With {@code asNode} {@link #INPUT}, saves an {@code input} checkpoint instead: the state as it was, next
   * {@code __start__}, {@code values} the pending input (checked as a run's input) that a continuation applies.
   * With a checkpoint namespace in the config, updates the state of the nested graph under it instead
   * ({@link #updateNested}).
   */
  public static Mono<RunConfig> update(EntrypointSpec spec, RunConfig config, @Nullable Object values,
                                       @Nullable String asNode) {
    GraphDefinition graph = java.util.Objects.requireNonNull(spec.graph(), "a graph spec");
    GraphLoop loop = new GraphLoop(graph, spec.name());
    if (!config.checkpointNamespace().isEmpty()) {
      return updateNested(spec, config, values, asNode);
    }
    return Mono.defer(() -> {
      boolean input = INPUT.equals(asNode);
      if (asNode != null && !input && !asNode.equals(GraphDefinition.START) && !graph.nodes().containsKey(asNode)) {
        return Mono.error(new IllegalArgumentException("updateState asNode '" + asNode + "' is not a node of graph '"
            + spec.name() + "' (nodes: " + graph.nodes().keySet() + ", or " + GraphDefinition.START + ", or " + INPUT
            + " for an input)"));
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
        if (input) { // the checkpoint a run with this input starts from: the state as it was, the input pending
          loop.inputUpdate(values);
          Checkpoint saved = CheckpointFormat.input(threadId, previous,
              Json.toTree(values, () -> "the input passed to updateState"), config.metadata(), spec.clock());
          return saver.put(saved).thenReturn(CheckpointFormat.config(saved));
        }
        Map<String, Object> state = graph.initialized(previous == null ? new LinkedHashMap<>() : stateOf(previous));
        String writer = asNode == null ? "updateState" : asNode;
        Map<String, Object> update = loop.toUpdate(values, writer, "the values passed to updateState");
        Map<String, Object> reduced = loop.reduce(state, List.of(Map.entry(writer, optional(update))));
        Map<String, List<String>> barriers = previous == null ? new LinkedHashMap<>() : barriersOf(previous);
        List<String> deferred = previous == null ? List.of() : CheckpointFormat.deferred(previous);
        Mono<Scheduled> next = asNode == null
            ? Mono.just(previous == null ? new Scheduled(List.of(), List.of(), List.of())
                : new Scheduled(CheckpointFormat.next(previous), CheckpointFormat.sends(previous), deferred))
            : loop.route(asNode, reduced).map(routed -> loop.schedule(List.of(asNode), List.of(routed), barriers,
                deferred));
        return next.flatMap(work -> {
          Checkpoint saved = CheckpointFormat.graph(threadId, previous, "update", Ids.timeOrdered(spec.clock()),
              previous == null ? 0 : CheckpointFormat.step(previous) + 1, Json.toTree(reduced, () -> "the state"),
              work.next(), work.sends(), work.deferred(), Json.toTree(barriers, () -> "barriers"), config.metadata(),
              spec.clock());
          return saver.put(saved).thenReturn(CheckpointFormat.config(saved));
        });
      });
    });
  }

  /**
   * {@code updateState} of a graph nested in the thread's pending run, under {@code config}'s checkpoint namespace: the
   * graph of a subgraph node (at any depth) that stopped there, at a breakpoint or after a failure. Nothing of the
   * thread's own checkpoints changes: the update is recorded against the latest checkpoint as two writes of the run, an
   * {@link PendingWrite#UPDATE} (the values, as applied, and the node they count as written by) and the nested
   * graph's state after it ({@link PendingWrite#SUBGRAPH}, {@code source=update}, what getState and the history
   * show). The values apply as if {@code asNode} had written them, by default as the node that ran last in the nested
   * graph (its input's {@code __start__} before any), so its next nodes are those of that node's edges; when the run
   * continues, the nested graph replays up to the step where it stopped, applies the recorded update there and goes on
   * from it (a breakpoint it stopped at is passed, as any continuation passes it). Returns the config addressing the
   * nested state.
   *
   * @throws InvalidUpdateException (in the Mono) when it cannot be honoured: no pending run, a checkpoint id other than
   *     the latest, no nested graph under the namespace, one that did not stop there or that waits for interrupts to
   *     be answered, a nested entrypoint or a graph nested by code (its definition is not known outside the run), an
   *     {@code asNode} that is not its node, or several nodes that ran last with no {@code asNode} to choose
   */
  static Mono<RunConfig> updateNested(EntrypointSpec spec, RunConfig config, @Nullable Object values,
                                      @Nullable String asNode) {
    return Mono.defer(() -> {
      String namespace = config.checkpointNamespace();
      CheckpointSaver saver = ThreadState.saver(spec, "updateState");
      String threadId = ThreadState.threadOf(spec, config, "updateState");
      String where = "checkpoint namespace '" + namespace + "' of thread '" + threadId + "'";
      return saver.get(threadId, CheckpointFormat.ROOT_NAMESPACE, null)
          .switchIfEmpty(Mono.error(() -> new InvalidUpdateException("updateState under " + where
              + ": the thread has no checkpoint, so no nested graph ran there")))
          .flatMap(tuple -> {
            Checkpoint latest = tuple.checkpoint();
            if (!CheckpointFormat.pending(latest)) {
              throw new InvalidUpdateException("updateState under " + where + ": no run is pending on the thread "
                  + "(its last run completed), so no nested graph is stopped there; update the thread's own state "
                  + "(a config without checkpoint namespace)");
            }
            String checkpointId = config.checkpointId().orElse(latest.id());
            if (!checkpointId.equals(latest.id())) {
              throw new InvalidUpdateException("updateState under " + where + " names checkpoint " + checkpointId
                  + ", which is not the thread's latest (" + latest.id() + "): a nested graph's state is updated where"
                  + " the pending run stopped in it; omit the checkpoint id or pass the latest");
            }
            Snapshots.NestedRun nested = Snapshots.nestedRun(tuple, spec, namespace).orElseThrow(() ->
                new InvalidUpdateException("updateState under " + where + ": no nested graph ran under that "
                    + "namespace in the thread's pending run (a namespace comes from a task's checkpoint in "
                    + "getState)"));
            EntrypointSpec graphSpec = nested.spec();
            if (graphSpec == null || graphSpec.graph() == null || nested.graphState() == null) {
              throw new InvalidUpdateException("updateState under " + where + ": '" + nested.name() + "' is "
                  + (graphSpec != null && graphSpec.graph() == null ? "a nested entrypoint, whose value is its result"
                  : "not the graph of a subgraph node (addNode(name, compiledGraph)), so its definition is not known "
                  + "outside the run") + "; update the thread's own state or resume the run with a Command");
            }
            if (!nested.interrupts().isEmpty()) {
              throw new InvalidUpdateException("updateState under " + where + ": graph '" + nested.name()
                  + "' waits for answers to interrupts " + nested.interrupts().stream().map(i -> i.id()).toList()
                  + "; answer them with Command.resume/resumeById (an update would run the interrupted node afresh "
                  + "and leave them unanswerable)");
            }
            if (!nested.stopped()) {
              throw new InvalidUpdateException("updateState under " + where + ": graph '" + nested.name() + "' is "
                  + "not stopped there (it finished, or the run is still running it); a nested graph's state can be "
                  + "updated while it is paused at a breakpoint or after it failed");
            }
            GraphLoop loop = new GraphLoop(graphSpec.graph(), graphSpec.name());
            return loop.updateRecorded(tuple, nested, values, asNode, spec.clock())
                .flatMap(writes -> saver.putWrites(threadId, CheckpointFormat.ROOT_NAMESPACE, latest.id(), writes))
                .thenReturn(RunConfig.thread(threadId).withCheckpointNamespace(namespace)
                    .withCheckpointId(latest.id()));
          });
    });
  }

  /** The writes of an update of this graph, nested as {@code nested} in the pending run of {@code tuple}. */
  private Mono<List<PendingWrite>> updateRecorded(CheckpointTuple tuple, Snapshots.NestedRun nested,
                                                  @Nullable Object values, @Nullable String asNode,
                                                  java.time.Clock clock) {
    JsonNode recorded = java.util.Objects.requireNonNull(nested.graphState());
    int superstep = recorded.path("superstep").asInt();
    String writer = asNode;
    if (writer == null) {
      List<String> ran = strings(recorded.get("ran"));
      if (ran.isEmpty() && superstep == 0) {
        ran = List.of(GraphDefinition.START);
      }
      if (ran.size() != 1) {
        throw new InvalidUpdateException("updateState of graph '" + name + "' under checkpoint namespace '"
            + String.join("|", nested.namespace()) + "' is ambiguous: " + (ran.isEmpty() ? "it is not known which "
            + "node ran last" : "nodes " + ran + " ran last") + "; pass asNode (as_node) to say which node writes it");
      }
      writer = ran.get(0);
    } else if (!writer.equals(GraphDefinition.START) && !graph.nodes().containsKey(writer)) {
      throw new InvalidUpdateException("updateState asNode '" + writer + "' is not a node of graph '" + name
          + "' (nodes: " + graph.nodes().keySet() + ", or " + GraphDefinition.START + ")");
    }
    Map<String, Object> update = toUpdate(values, writer, "the values passed to updateState");
    prepareMessages(update); // message ids assigned now, so that the replay applies the same update
    Map<String, List<String>> barriers = new LinkedHashMap<>();
    JsonNode recordedBarriers = recorded.get("barriers");
    if (recordedBarriers != null) {
      recordedBarriers.properties().forEach(entry -> barriers.put(entry.getKey(), strings(entry.getValue())));
    }
    Cursor stopped = new Cursor(graph.initialized(plainOf(recorded.get("state"))), strings(recorded.get("next")),
        List.of(), strings(recorded.get("deferred")), barriers, superstep, 0, true, false, null, List.of());
    String scopeId = recorded.path("scope").asText();
    String node = writer;
    return updated(stopped, update, node).map(after -> {
      JsonNode applied = Json.toTree(update, () -> "the values passed to updateState");
      return List.of(CheckpointFormat.nestedUpdateWrite(scopeId, name, superstep, applied, node),
          CheckpointFormat.subgraphWrite(scopeId, strings(recorded.get("path")), nested.namespace(), name,
              after.step(), Json.toTree(after.state(), () -> "the state of graph '" + name + "'"), after.next(),
              after.sends(), after.deferred(), Json.toTree(after.barriers(), () -> "barriers"), after.ran(), "update",
              clock));
    });
  }
}
