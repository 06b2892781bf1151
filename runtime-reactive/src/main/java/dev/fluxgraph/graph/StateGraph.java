package dev.fluxgraph.graph;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.errors.InvalidGraphException;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.internal.EntrypointAccess;
import dev.fluxgraph.internal.EntrypointSpec;
import dev.fluxgraph.internal.GraphDefinition;
import dev.fluxgraph.internal.GraphLoop;
import dev.fluxgraph.internal.Json;
import dev.fluxgraph.internal.TaskCalls;
import dev.fluxgraph.internal.TaskSpec;
import dev.fluxgraph.types.Command;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BinaryOperator;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Builds a graph of nodes over a shared state; {@link #compile} freezes it into a {@link CompiledGraph} that runs
 * on the same engine as entrypoints (same checkpointers, stream modes, interrupts, policies and store).
 *
 * <p>A run is a sequence of supersteps. The input is applied to the state as an update; the nodes that
 * {@link #START} leads to form the first superstep. The nodes of a superstep run concurrently, each on the state
 * as it was when the superstep began; their updates are then applied in the order the nodes were added, and the
 * nodes they lead to (plain edges, conditional edges, {@code Command.goTo}, fan-in edges whose sources have all
 * finished) form the next superstep, together with one task per {@link Send} emitted (map-reduce: each runs its node
 * with its own input; their updates apply after the other nodes', in the order the Sends were emitted). A
 * {@linkplain NodeOptions#deferred() deferred} node waits until nothing else is scheduled. With a checkpointer, every
 * superstep ends in a checkpoint. The run ends when a superstep leads nowhere (or only to {@link #END}) and returns
 * the state.
 *
 * <p>The state is a {@code Map<String, Object>} ({@link #ofMap()}, any key; {@link #ofMap(Collection)}, declared
 * keys) or a record or POJO ({@link #of(Class)}), whose properties are the keys. Each key keeps the last value
 * written unless it has a {@linkplain #reducer reducer};
 * two nodes writing a key without a reducer in the same superstep is an error. State values are stored as JSON.
 *
 * <p>Schemas, as the reference's {@code input_schema}/{@code output_schema}: {@link #withInput} restricts what a
 * run accepts as input, {@link #withOutput} what it returns, and a node added with its own input type
 * ({@link #addNode(String, Class, NodeFunction)}) reads only that subset of the state. Their properties are state
 * keys too, so a key that only a node's input type declares is a private channel: nodes may write and read it, but
 * it is neither input nor output.
 *
 * <p>Not thread-safe; the compiled graph is.
 *
 * @param <S> the state type
 */
public final class StateGraph<S> {

  /** The virtual node a graph starts from. */
  public static final String START = GraphDefinition.START;
  /** The virtual node a graph ends at. */
  public static final String END = GraphDefinition.END;

  private final JavaType stateType;
  /**
   * The keys nodes may write: the state's, the schemas' and the node input types'; empty for a map state without
   * declared keys (any key).
   */
  private final Set<String> channels;
  private final boolean mapState;
  /** Whether any key may be written: a map state without declared keys. */
  private final boolean openKeys;
  private Set<String> inputKeys = Set.of();
  private Set<String> outputKeys = Set.of();
  private @Nullable JavaType inputType;
  private @Nullable JavaType outputType;
  private @Nullable JavaType contextType;
  private final Map<String, GraphDefinition.NodeInput> nodeInputs = new LinkedHashMap<>();
  private final Map<String, BinaryOperator<Object>> reducers = new LinkedHashMap<>();
  private final Map<String, Object> initial = new LinkedHashMap<>();
  private final Map<String, GraphDefinition.Node> nodes = new LinkedHashMap<>();
  private final Map<String, List<String>> destinations = new LinkedHashMap<>();
  private final List<String[]> edges = new ArrayList<>();
  private final List<GraphDefinition.Join> joins = new ArrayList<>();
  private final Map<String, List<GraphDefinition.Router>> routers = new LinkedHashMap<>();
  /** Per source, the targets each conditional edge declared (empty: none declared), in the order of routers. */
  private final Map<String, List<Map<String, String>>> routerTargets = new LinkedHashMap<>();
  private final Map<String, EntrypointSpec> subgraphs = new LinkedHashMap<>();

  private StateGraph(JavaType stateType, Set<String> channels) {
    this.stateType = stateType;
    this.mapState = Map.class.isAssignableFrom(stateType.getRawClass());
    this.openKeys = channels.isEmpty();
    this.channels = new LinkedHashSet<>(channels);
  }

  /** A graph whose state is a map; any key may be written, and a run's input may have any key. */
  public static StateGraph<Map<String, Object>> ofMap() {
    return new StateGraph<>(mapType(), Set.of());
  }

  /**
   * A graph whose state is a map with the given keys, as the reference's state declared by its channels: nodes may
   * write only these keys (and those of an input or output schema or of a node's input type declared later), a key
   * with a {@linkplain #reducer reducer} must be one of them, and a run's input keeps only its declared keys (others
   * are dropped, as the reference's input mapping does). Values may be null, as in any map state.
   *
   * @throws InvalidGraphException if {@code keys} is empty or has a blank key
   */
  public static StateGraph<Map<String, Object>> ofMap(Collection<String> keys) {
    Objects.requireNonNull(keys, "keys must not be null");
    if (keys.isEmpty()) {
      throw new InvalidGraphException("a map state declared by its keys needs at least one key; use "
          + "StateGraph.ofMap() for a map state with any key");
    }
    for (String key : keys) {
      if (Objects.requireNonNull(key, "a key must not be null").isBlank()) {
        throw new InvalidGraphException("a state key must not be blank (keys: " + keys + ")");
      }
    }
    return new StateGraph<>(mapType(), new LinkedHashSet<>(keys));
  }

  private static JavaType mapType() {
    return Json.mapper().getTypeFactory().constructMapType(LinkedHashMap.class, String.class, Object.class);
  }

  /** A graph whose state is a record or POJO; its JSON properties are the keys nodes may write. */
  public static <S> StateGraph<S> of(Class<S> stateType) {
    Objects.requireNonNull(stateType, "stateType must not be null");
    if (Map.class.isAssignableFrom(stateType)) {
      throw new InvalidGraphException("use StateGraph.ofMap() for a map state, not of(" + stateType.getSimpleName()
          + ")");
    }
    return new StateGraph<>(Json.type(stateType), properties(stateType, "the graph state"));
  }

  /**
   * Declares the graph's input schema: a run's input may only have keys that are properties of {@code inputSchema}
   * (others are refused with {@code InvalidUpdateException} before anything is saved), given as a map or as an
   * instance of any record or POJO (its null properties are not part of the input). Its properties become state
   * keys. Without it, the input is any subset of the state.
   *
   * @throws InvalidGraphException if the type has no properties, or is a map
   */
  public StateGraph<S> withInput(Class<?> inputSchema) {
    Objects.requireNonNull(inputSchema, "inputSchema must not be null");
    inputKeys = Set.copyOf(schema(inputSchema, "the input schema"));
    inputType = Json.type(inputSchema);
    return this;
  }

  /**
   * Declares the graph's output schema: a run returns only the keys that are properties of {@code outputSchema};
   * streams ({@code values}, {@code updates}) and {@code getState} still show the whole state, as the reference's do.
   * Its properties become state keys. As a {@link CompiledGraph} speaks the state type, use
   * {@link CompiledGraph#asEntrypoint(Class, Class)} for a view typed by the schemas.
   *
   * @throws InvalidGraphException if the type has no properties, or is a map
   */
  public StateGraph<S> withOutput(Class<?> outputSchema) {
    Objects.requireNonNull(outputSchema, "outputSchema must not be null");
    outputKeys = Set.copyOf(schema(outputSchema, "the output schema"));
    outputType = Json.type(outputSchema);
    return this;
  }

  /**
   * Declares the type of the run context ({@code RunConfig.withContext}) that nodes read with
   * {@code TaskContext.context(contextType)}, as the reference's {@code context_schema}: the server describes it in
   * the graph's schemas ({@code context_schema}), for clients such as Studio to build the context from. A run's
   * context is read as this type only where a node asks for it: {@code context(contextType)} answers a context given
   * as a map (as a server run's JSON is) read as {@code contextType}, as the reference coerces the context into its
   * {@code context_schema}.
   */
  public StateGraph<S> withContext(Class<?> contextType) {
    Objects.requireNonNull(contextType, "contextType must not be null");
    this.contextType = Json.type(contextType);
    return this;
  }

  /** The properties of a schema type, added to the state's keys. */
  private Set<String> schema(Class<?> type, String what) {
    if (Map.class.isAssignableFrom(type)) {
      throw new InvalidGraphException(what + " must be a record or POJO whose properties are state keys, not "
          + type.getSimpleName());
    }
    Set<String> keys = properties(type, what);
    if (!openKeys) {
      channels.addAll(keys);
    }
    return keys;
  }

  private static Set<String> properties(Class<?> type, String what) {
    Set<String> keys = new LinkedHashSet<>();
    for (BeanPropertyDefinition property : Json.mapper().getDeserializationConfig().introspect(Json.type(type))
        .findProperties()) {
      keys.add(property.getName());
    }
    if (keys.isEmpty()) {
      throw new InvalidGraphException(type.getName() + " has no properties for " + what + "; use a record "
          + "or a class with getters/setters or public fields");
    }
    return keys;
  }

  /** How {@code key} combines updates (e.g. {@link Reducers#append()}); without one, the last write wins. */
  public StateGraph<S> reducer(String key, BinaryOperator<Object> reducer) {
    Objects.requireNonNull(key, "key must not be null");
    Objects.requireNonNull(reducer, "reducer must not be null");
    if (!openKeys && !channels.contains(key)) {
      String state = mapState ? "the state declares no such key" : stateType.getRawClass().getSimpleName()
          + " has no such property";
      throw new InvalidGraphException("reducer for '" + key + "': " + state + " (keys: " + channels + "); a key of "
          + "an input or output schema or of a node's input type can have a reducer once that is declared");
    }
    reducers.put(key, reducer);
    return this;
  }

  /**
   * As {@link #reducer(String, BinaryOperator)}, and {@code key} starts as {@code initial} (e.g. {@code List.of()}
   * for a list of messages): nodes, snapshots and streams see that value until something writes the key, from the
   * thread's first checkpoint on, as the reference's channel {@code default} does. The value is stored as JSON.
   *
   * @throws InvalidGraphException if {@code initial} cannot be written as JSON
   */
  public StateGraph<S> reducer(String key, BinaryOperator<Object> reducer, Object initial) {
    Objects.requireNonNull(initial, "initial must not be null");
    reducer(key, reducer);
    Object plain;
    try {
      plain = Json.toPlain(Json.toTree(initial, () -> "the initial value of '" + key + "'"));
    } catch (RuntimeException e) {
      throw new InvalidGraphException("the initial value of '" + key + "' cannot be stored as JSON: "
          + e.getMessage());
    }
    this.initial.put(key, Objects.requireNonNull(plain, "initial"));
    return this;
  }

  /** Adds a node. */
  public StateGraph<S> addNode(String name, NodeFunction<S> node) {
    return addNode(name, node, NodeOptions.defaults());
  }

  /** Adds a node with its own retry, timeout and cache policies. */
  @SuppressWarnings("unchecked")
  public StateGraph<S> addNode(String name, NodeFunction<S> node, NodeOptions options) {
    Objects.requireNonNull(node, "node must not be null");
    Objects.requireNonNull(options, "options must not be null");
    GraphDefinition.NodeBody body = (state, scope) -> node.apply((S) state, scope);
    return add(name, body, options);
  }

  /**
   * Adds a node that reads only part of the state, as the reference's {@code add_node(..., input_schema=T)}: it
   * receives the state's values for {@code inputType}'s properties, as a {@code T}. Those properties become state
   * keys, so a key only node input types declare is a private channel between nodes. The node's update may write any
   * state key; its conditional edges still read the whole state.
   *
   * @throws InvalidGraphException if the type has no properties, or is a map
   */
  public <T> StateGraph<S> addNode(String name, Class<T> inputType, NodeFunction<T> node) {
    return addNode(name, inputType, node, NodeOptions.defaults());
  }

  /** {@link #addNode(String, Class, NodeFunction)} with the node's own policies. */
  @SuppressWarnings("unchecked")
  public <T> StateGraph<S> addNode(String name, Class<T> inputType, NodeFunction<T> node, NodeOptions options) {
    Objects.requireNonNull(inputType, "inputType must not be null");
    Objects.requireNonNull(node, "node must not be null");
    Objects.requireNonNull(options, "options must not be null");
    Set<String> keys = Set.copyOf(schema(inputType, "the input type of node '" + name + "'"));
    GraphDefinition.NodeBody body = (state, scope) -> node.apply((T) state, scope);
    add(name, body, options);
    nodeInputs.put(name, new GraphDefinition.NodeInput(Json.type(inputType), keys));
    return this;
  }

  /**
   * Adds an entrypoint as a node: it runs nested (its own namespace, its result checkpointed, its interrupts
   * pausing this graph) with the state, read as its input type, and its result is the node's update.
   */
  public StateGraph<S> addNode(String name, Entrypoint<?, ?> subgraph) {
    Objects.requireNonNull(subgraph, "subgraph must not be null");
    EntrypointSpec child = EntrypointAccess.get().spec(subgraph);
    add(name, nested(name, child), NodeOptions.defaults());
    subgraphs.put(name, child);
    return this;
  }

  /**
   * Adds a compiled graph as a node (a subgraph), as the reference does: it receives this graph's state, restricted
   * to the keys its input schema (or state) has, and its result (its output schema's keys, or its state) updates
   * the keys the two states share; its other keys stay its own. Its breakpoints stop this graph as this graph's own
   * do (no interrupt to answer; {@code getState(config, true)} shows where it stopped), and any continuation
   * ({@code Command.proceed()}, a null input) goes on past them.
   */
  public StateGraph<S> addNode(String name, CompiledGraph<?> subgraph) {
    return addNode(name, subgraph, NodeOptions.defaults());
  }

  /**
   * Adds a compiled graph as a node with options: e.g. the nodes of this graph its nodes send the run to with
   * {@code Command.toParent()} ({@link NodeOptions#withDestinations}), or {@link NodeOptions#deferred()}.
   */
  public StateGraph<S> addNode(String name, CompiledGraph<?> subgraph, NodeOptions options) {
    Objects.requireNonNull(subgraph, "subgraph must not be null");
    Objects.requireNonNull(options, "options must not be null");
    add(name, nested(name, subgraph.spec()), options);
    subgraphs.put(name, subgraph.spec());
    return this;
  }

  /** Runs {@code to} after {@code from} (either may be {@link #START} / {@link #END} respectively). */
  public StateGraph<S> addEdge(String from, String to) {
    Objects.requireNonNull(from, "from must not be null");
    Objects.requireNonNull(to, "to must not be null");
    edges.add(new String[] {from, to});
    return this;
  }

  /** Fan-in: runs {@code to} once every node of {@code from} has finished (in the same or different supersteps). */
  public StateGraph<S> addEdge(List<String> from, String to) {
    Objects.requireNonNull(from, "from must not be null");
    Objects.requireNonNull(to, "to must not be null");
    if (from.isEmpty()) {
      throw new InvalidGraphException("a fan-in edge to '" + to + "' needs at least one source node");
    }
    if (from.size() == 1) {
      return addEdge(from.get(0), to);
    }
    joins.add(new GraphDefinition.Join(List.copyOf(new LinkedHashSet<>(from)), to));
    return this;
  }

  /**
   * After {@code from}, runs what {@code router} emits: node names ({@link #END} for none), {@link Send}s (each runs
   * its node with its own input, concurrently with the rest of the next superstep: map-reduce), or collections of
   * either; zero elements run nothing. The router reads the state with {@code from}'s update applied (after a Send
   * task of {@code from}: the graph's state, not the Send's input); it runs inside {@code from}'s task, so its
   * choice is replayed with the node's result. Any other element fails the run with an
   * {@code IllegalArgumentException} naming it.
   */
  public StateGraph<S> addConditionalEdges(String from, Function<S, ? extends Publisher<?>> router) {
    Objects.requireNonNull(from, "from must not be null");
    Objects.requireNonNull(router, "router must not be null");
    routers.computeIfAbsent(from, key -> new ArrayList<>()).add(state -> route(router, state));
    routerTargets.computeIfAbsent(from, key -> new ArrayList<>()).add(Map.of());
    return this;
  }

  /**
   * {@link #addConditionalEdges(String, Function)} with the nodes the router may name (the reference's
   * {@code path_map} as a list): compilation checks that they are nodes (or {@link #END}), only they count as
   * reachable through this edge, {@link CompiledGraph#getGraph} draws an edge to each of them (without the list, a
   * drawing shows an edge to every other node and to END, as the reference does for a router without a path map),
   * and a run whose router names a node outside the list fails with an {@code IllegalArgumentException} naming it.
   * {@link Send}s are not restricted by the list, as in the reference.
   *
   * @throws InvalidGraphException if {@code targets} is empty
   */
  public StateGraph<S> addConditionalEdges(String from, Function<S, ? extends Publisher<?>> router,
                                           List<String> targets) {
    Objects.requireNonNull(targets, "targets must not be null");
    Map<String, String> pathMap = new LinkedHashMap<>();
    targets.forEach(target -> pathMap.put(Objects.requireNonNull(target, "a target must not be null"), target));
    return addConditionalEdges(from, router, pathMap);
  }

  /**
   * {@link #addConditionalEdges(String, Function)} whose router names keys of {@code pathMap} instead of nodes (the
   * reference's {@code path_map} as a dict): each key it emits runs the node (or {@link #END}) the map gives for it,
   * and a drawing labels the edge with the key (when it differs from the node's name). Compilation checks the map's
   * values as for a list of targets; a key the map does not have fails the run with an
   * {@code IllegalArgumentException} naming it. {@link Send}s pass unchanged.
   *
   * @throws InvalidGraphException if {@code pathMap} is empty
   */
  public StateGraph<S> addConditionalEdges(String from, Function<S, ? extends Publisher<?>> router,
                                           Map<String, String> pathMap) {
    Objects.requireNonNull(from, "from must not be null");
    Objects.requireNonNull(router, "router must not be null");
    Objects.requireNonNull(pathMap, "pathMap must not be null");
    if (pathMap.isEmpty()) {
      throw new InvalidGraphException("conditional edge from '" + from + "': no targets are given; leave them out "
          + "when they are not known");
    }
    Map<String, String> declared = Collections.unmodifiableMap(new LinkedHashMap<>(pathMap));
    routers.computeIfAbsent(from, key -> new ArrayList<>())
        .add(state -> Flux.from(route(router, state)).map(element -> mapTargets(from, declared, element)));
    routerTargets.computeIfAbsent(from, key -> new ArrayList<>()).add(declared);
    return this;
  }

  /** A router's element with each name mapped through the path map (a collection stays a collection). */
  private static Object mapTargets(String from, Map<String, String> pathMap, Object element) {
    if (element instanceof Collection<?> collection) {
      List<Object> mapped = new ArrayList<>();
      collection.forEach(target -> mapped.add(mapTarget(from, pathMap, target)));
      return mapped;
    }
    return mapTarget(from, pathMap, element);
  }

  private static Object mapTarget(String from, Map<String, String> pathMap, Object target) {
    if (!(target instanceof String name)) {
      return target; // a Send, or something the graph loop refuses itself
    }
    String node = pathMap.get(name);
    if (node == null) {
      throw new IllegalArgumentException("the conditional edge from '" + from + "' named '" + name + "', which is "
          + "not one of its declared targets " + pathMap.keySet());
    }
    return node;
  }

  /** Same as {@code addEdge(START, node)}. */
  public StateGraph<S> setEntryPoint(String node) {
    return addEdge(START, node);
  }

  /** Same as {@code addEdge(node, END)}. */
  public StateGraph<S> setFinishPoint(String node) {
    return addEdge(node, END);
  }

  /** Compiles with {@link CompileOptions#defaults()}. */
  public CompiledGraph<S> compile() {
    return compile(CompileOptions.defaults());
  }

  /**
   * Validates the graph and freezes it. @throws InvalidGraphException naming the problem: no node, an edge from or
   * to an unknown node, no edge from START, a node nothing leads to, an unknown node in interruptBefore/After
   */
  public CompiledGraph<S> compile(CompileOptions options) {
    Objects.requireNonNull(options, "options must not be null");
    Map<String, List<String>> plain = validate(options);
    GraphDefinition definition = new GraphDefinition(stateType, Set.copyOf(channels), Map.copyOf(reducers),
        Map.copyOf(initial), new LinkedHashMap<>(nodes), plain, List.copyOf(joins), copyRouters(), Set.copyOf(options.interruptBefore()),
        Set.copyOf(options.interruptAfter()), options.recursionLimit(),
        new GraphDefinition.Schemas(inputKeys, outputKeys, Map.copyOf(nodeInputs), inputType, outputType,
            contextType),
        new GraphDefinition.Layout(new LinkedHashMap<>(subgraphs), new LinkedHashMap<>(destinations),
            copyTargets()));
    GraphLoop loop = new GraphLoop(definition, options.name());
    EntrypointSpec spec = new EntrypointSpec(options.name(), stateType, stateType, stateType, false, loop.body(),
        options.checkpointer(), options.store(), options.cache(), List.of(), null, null, options.durability(),
        options.scheduler(), options.clock(), definition, options.instrumentation());
    return new CompiledGraph<>(spec);
  }

  // ---------------------------------------------------------------- building

  private StateGraph<S> add(String name, GraphDefinition.NodeBody body, NodeOptions options) {
    Objects.requireNonNull(name, "name must not be null");
    if (name.isBlank()) {
      throw new InvalidGraphException("node name must not be blank");
    }
    if (name.startsWith("__") && name.endsWith("__")) {
      throw new InvalidGraphException("node name '" + name + "' is reserved (names like __x__ are the engine's, e.g. "
          + START + " and " + END + ")");
    }
    if (name.contains(":") || name.contains("|")) {
      throw new InvalidGraphException("node name '" + name + "' must not contain ':' or '|' (they separate "
          + "namespaces)");
    }
    if (nodes.containsKey(name)) {
      throw new InvalidGraphException("node '" + name + "' is already in the graph");
    }
    nodes.put(name, new GraphDefinition.Node(name, body, options.retry(), options.timeout(), options.cachePolicy(),
        options.defer()));
    destinations.put(name, options.destinations());
    return this;
  }

  /**
   * A node body that runs {@code child} nested, named after the node; its result becomes the update. A nested graph
   * gets the keys it has (an input schema's, or its state's) of the state's set keys, and its result updates only the
   * keys this graph has (the reference's subgraph-as-node state passing); a nested entrypoint gets the state read as
   * its input type, and its result is the update as it is.
   */
  private GraphDefinition.NodeBody nested(String name, EntrypointSpec child) {
    TaskSpec call = TaskSpec.child(name, child);
    GraphDefinition childGraph = child.graph();
    Set<String> childKeys = childGraph == null ? Set.of()
        : childGraph.schemas().inputKeys().isEmpty() ? childGraph.channels() : childGraph.schemas().inputKeys();
    Set<String> shared = channels; // read at run time: schemas and node input types declared later count too
    return (state, scope) -> {
      JsonNode tree = Json.toTree(state, () -> "the state passed to node '" + name + "'");
      Object input;
      if (childGraph != null && tree instanceof ObjectNode object) {
        ObjectNode passed = object.deepCopy();
        // a record or POJO state's unset (null) keys are no values to pass; neither are keys the child does not have
        passed.properties().removeIf(entry -> !childKeys.isEmpty() && !childKeys.contains(entry.getKey())
            || !mapState && entry.getValue().isNull());
        input = Json.toPlain(passed);
      } else {
        input = Json.fromTree(tree, child.input(),
            () -> "the state passed to node '" + name + "' as the input of '" + child.name() + "'");
      }
      return TaskCalls.callSubgraph(call, input).map(result -> {
        if (result instanceof Command || childGraph == null && result instanceof Map<?, ?>) {
          return result;
        }
        JsonNode update = Json.toTree(result, () -> "the result of node '" + name + "'");
        if (childGraph != null && update instanceof ObjectNode object) {
          ObjectNode kept = object.deepCopy();
          boolean typed = !(result instanceof Map<?, ?>);
          kept.properties().removeIf(entry -> !shared.isEmpty() && !shared.contains(entry.getKey())
              || typed && entry.getValue().isNull());
          update = kept;
        }
        return Json.toPlain(update);
      });
    };
  }

  @SuppressWarnings("unchecked")
  private static <S> Publisher<?> route(Function<S, ? extends Publisher<?>> router, Object state) {
    Publisher<?> targets = router.apply((S) state);
    return targets == null ? Mono.error(new NullPointerException("a conditional edge returned null instead of a "
        + "Publisher of node names or Sends")) : targets;
  }

  private Map<String, List<Map<String, String>>> copyTargets() {
    Map<String, List<Map<String, String>>> copy = new LinkedHashMap<>();
    routerTargets.forEach((from, list) -> copy.put(from, List.copyOf(list)));
    return copy;
  }

  private Map<String, List<GraphDefinition.Router>> copyRouters() {
    Map<String, List<GraphDefinition.Router>> copy = new LinkedHashMap<>();
    routers.forEach((from, list) -> copy.put(from, List.copyOf(list)));
    return copy;
  }

  // ---------------------------------------------------------------- validation

  private Map<String, List<String>> validate(CompileOptions options) {
    if (nodes.isEmpty()) {
      throw new InvalidGraphException("graph '" + options.name() + "' has no nodes; add one with addNode");
    }
    Map<String, List<String>> plain = new LinkedHashMap<>();
    for (String[] edge : edges) {
      checkSource(edge[0], "edge " + edge[0] + " -> " + edge[1]);
      checkTarget(edge[1], "edge " + edge[0] + " -> " + edge[1]);
      List<String> targets = plain.computeIfAbsent(edge[0], key -> new ArrayList<>());
      if (!targets.contains(edge[1])) {
        targets.add(edge[1]);
      }
    }
    for (GraphDefinition.Join join : joins) {
      for (String from : join.from()) {
        if (!nodes.containsKey(from)) {
          throw new InvalidGraphException("fan-in edge " + join.from() + " -> " + join.to() + ": '" + from
              + "' is not a node (nodes: " + nodes.keySet() + ")");
        }
      }
      checkTarget(join.to(), "fan-in edge " + join.from() + " -> " + join.to());
    }
    for (String from : routers.keySet()) {
      checkSource(from, "conditional edge from '" + from + "'");
      for (Map<String, String> targets : routerTargets.get(from)) {
        targets.values().forEach(target -> checkTarget(target, "the targets of the conditional edge from '" + from
            + "'"));
      }
    }
    destinations.forEach((node, targets) -> targets.forEach(target -> checkTarget(target,
        "the destinations of node '" + node + "'")));
    if (!plain.containsKey(START) && !routers.containsKey(START)) {
      throw new InvalidGraphException("graph '" + options.name() + "' has no entry point: add an edge from START, "
          + "e.g. addEdge(StateGraph.START, \"" + nodes.keySet().iterator().next() + "\") or setEntryPoint(...)");
    }
    checkReachable(plain);
    for (String node : options.interruptBefore()) {
      checkNode(node, "interruptBefore");
    }
    for (String node : options.interruptAfter()) {
      checkNode(node, "interruptAfter");
    }
    return plain;
  }

  /**
   * Every node must be reachable from START. A conditional edge without declared targets may lead anywhere, so with
   * one reachable, every node counts as reachable; declared targets and {@code Command.goTo} targets declared in
   * {@link NodeOptions} count as edges.
   */
  private void checkReachable(Map<String, List<String>> plain) {
    Set<String> reached = new HashSet<>();
    Deque<String> pending = new ArrayDeque<>(List.of(START));
    while (!pending.isEmpty()) {
      String node = pending.pop();
      if (!reached.add(node)) {
        continue;
      }
      for (Map<String, String> targets : routerTargets.getOrDefault(node, List.of())) {
        if (targets.isEmpty()) {
          return;
        }
        pending.addAll(targets.values());
      }
      pending.addAll(plain.getOrDefault(node, List.of()));
      pending.addAll(destinations.getOrDefault(node, List.of()));
      for (GraphDefinition.Join join : joins) {
        if (join.from().contains(node)) {
          pending.add(join.to());
        }
      }
    }
    for (String node : nodes.keySet()) {
      if (!reached.contains(node)) {
        throw new InvalidGraphException("node '" + node + "' is not reachable from START: add an edge to it, or, if "
            + "a node sends the run there with Command.goTo, declare it with NodeOptions.withDestinations");
      }
    }
  }

  private void checkSource(String from, String what) {
    if (from.equals(END)) {
      throw new InvalidGraphException(what + ": END has no outgoing edges");
    }
    if (!from.equals(START) && !nodes.containsKey(from)) {
      throw new InvalidGraphException(what + ": '" + from + "' is not a node (nodes: " + nodes.keySet() + ")");
    }
  }

  private void checkTarget(String to, String what) {
    if (to.equals(START)) {
      throw new InvalidGraphException(what + ": START cannot be the target of an edge");
    }
    if (!to.equals(END) && !nodes.containsKey(to)) {
      throw new InvalidGraphException(what + ": '" + to + "' is not a node (nodes: " + nodes.keySet() + ")");
    }
  }

  private void checkNode(String node, String option) {
    if (!nodes.containsKey(node)) {
      throw new InvalidGraphException(option + " names '" + node + "', which is not a node (nodes: " + nodes.keySet()
          + ")");
    }
  }
}
