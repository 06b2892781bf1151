package dev.fluxgraph.internal;

import com.fasterxml.jackson.databind.JavaType;
import dev.fluxgraph.types.CachePolicy;
import dev.fluxgraph.types.RetryPolicy;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BinaryOperator;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/**
 * A compiled graph as the engine sees it: validated, immutable. Built by {@code dev.fluxgraph.graph.StateGraph}.
 *
 * @param state           the state type nodes receive and runs return
 * @param channels        the state's keys, or empty when any key is allowed (map state)
 * @param reducers        per key; keys without one keep the last value written
 * @param initial         per key that has one, its value before anything wrote it (plain JSON data)
 * @param nodes           by name, in the order they were added (which orders each superstep)
 * @param edges           plain edges: from a node (or START) to the nodes it triggers
 * @param joins           fan-in edges: the target runs once every source has finished
 * @param routers         conditional edges, per source node (or START)
 * @param interruptBefore nodes before which a run stops (a breakpoint)
 * @param interruptAfter  nodes after which a run stops
 * @param recursionLimit  the most supersteps one invocation may run
 * @param schemas         what the graph takes as input and returns, and what state individual nodes read
 * @param layout          what only drawing the graph needs (see {@code GraphDrawing})
 */
public record GraphDefinition(JavaType state, Set<String> channels, Map<String, BinaryOperator<Object>> reducers,
                              Map<String, Object> initial, Map<String, Node> nodes, Map<String, List<String>> edges, List<Join> joins,
                              Map<String, List<Router>> routers, Set<String> interruptBefore,
                              Set<String> interruptAfter, int recursionLimit, Schemas schemas, Layout layout) {

  /** Where a graph starts and ends; also reserved words for node names. */
  public static final String START = "__start__";
  public static final String END = "__end__";

  /**
   * {@code state} (the saved state's plain JSON data) with every key that has an initial value and is absent set to
   * that value, as the state nodes, snapshots and streams see it.
   */
  public Map<String, Object> initialized(Map<String, Object> state) {
    if (initial.isEmpty()) {
      return state;
    }
    Map<String, Object> result = new LinkedHashMap<>(state);
    initial.forEach((key, value) -> {
      if (!result.containsKey(key)) {
        result.put(key, Json.toPlain(Json.toTree(value, () -> "the initial value of '" + key + "'")));
      }
    });
    return result;
  }

  /** A node: its body, its own policies (empty/null: none), and whether it waits for the rest of the run. */
  public record Node(String name, NodeBody body, List<RetryPolicy> retry, @Nullable Duration timeout,
                     @Nullable CachePolicy cachePolicy, boolean deferred) {
  }

  /**
   * The graph's input and output schemas and the nodes' own input types. Key sets are the schemas' properties; an
   * empty {@code inputKeys} accepts any key (a map state without an input schema), an empty {@code outputKeys}
   * returns every key.
   *
   * @param nodeInputs  per node that declared one, the subset of the state it reads
   * @param contextType the run context's declared type ({@code StateGraph.withContext}), or null
   */
  public record Schemas(Set<String> inputKeys, Set<String> outputKeys, Map<String, NodeInput> nodeInputs,
                        @Nullable JavaType inputType, @Nullable JavaType outputType, @Nullable JavaType contextType) {
  }

  /**
   * What a drawing of the graph shows beyond its edges, in the order things were added.
   *
   * @param subgraphs     per node that runs a compiled graph or an entrypoint nested, that one's spec
   * @param destinations  per node, the nodes it declared it may send the run to with {@code Command.goTo}
   * @param routerTargets per source, the targets each of its conditional edges declared (in the order of
   *                      {@code routers}), by the key its router names (the node's name for a list of targets); an
   *                      empty map when that edge declared none
   */
  public record Layout(Map<String, EntrypointSpec> subgraphs, Map<String, List<String>> destinations,
                       Map<String, List<Map<String, String>>> routerTargets) {
  }

  /** The state a node reads: its type and the keys it has. */
  public record NodeInput(JavaType type, Set<String> keys) {
  }

  /** A fan-in edge. */
  public record Join(List<String> from, String to) {
    String key() {
      return String.join(",", from) + "->" + to;
    }
  }

  /** A node body: the state (as the state type) in, a partial update, a Command or nothing out. */
  @FunctionalInterface
  public interface NodeBody {
    Mono<?> apply(Object state, Scope scope);
  }

  /**
   * A conditional edge: reads the state, names the next nodes (or END) and/or emits {@code Send}s, each alone or in
   * a collection.
   */
  @FunctionalInterface
  public interface Router {
    Publisher<?> route(Object state);
  }
}
