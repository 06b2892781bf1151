package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.InvalidCommandException;
import dev.fluxgraph.errors.InvalidGraphException;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RunConfig;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import reactor.core.publisher.Mono;

/** Compile-time validation and run-time misuse of the Graph API: clear errors naming the problem. */
class StateGraphValidationTest {

  record Point(Integer x, Integer y) {
  }

  private static final NodeFunction<Map<String, Object>> NOOP = (state, context) -> Mono.empty();

  private static <T extends Throwable> void fails(Class<T> type, String expected, Executable action) {
    T error = assertThrows(type, action);
    assertTrue(error.getMessage().contains(expected), () -> "'" + error.getMessage() + "' lacks '" + expected + "'");
  }

  private static StateGraph<Map<String, Object>> oneNode() {
    return StateGraph.ofMap().addNode("a", NOOP);
  }

  @Test
  void reservedDuplicateAndMalformedNodeNames() {
    fails(InvalidGraphException.class, "'__start__' is reserved", () -> StateGraph.ofMap().addNode("__start__", NOOP));
    fails(InvalidGraphException.class, "'__end__' is reserved", () -> StateGraph.ofMap().addNode("__end__", NOOP));
    fails(InvalidGraphException.class, "'__x__' is reserved", () -> StateGraph.ofMap().addNode("__x__", NOOP));
    fails(InvalidGraphException.class, "must not contain ':'", () -> StateGraph.ofMap().addNode("a:b", NOOP));
    fails(InvalidGraphException.class, "must not contain ':' or '|'", () -> StateGraph.ofMap().addNode("a|b", NOOP));
    fails(InvalidGraphException.class, "blank", () -> StateGraph.ofMap().addNode(" ", NOOP));
    fails(InvalidGraphException.class, "'a' is already in the graph", () -> oneNode().addNode("a", NOOP));
  }

  @Test
  void edgesMustConnectKnownNodes() {
    fails(InvalidGraphException.class, "'b' is not a node",
        () -> oneNode().setEntryPoint("a").addEdge("a", "b").compile());
    fails(InvalidGraphException.class, "'zz' is not a node",
        () -> oneNode().setEntryPoint("a").addEdge("zz", "a").compile());
    fails(InvalidGraphException.class, "START cannot be the target",
        () -> oneNode().setEntryPoint("a").addEdge("a", StateGraph.START).compile());
    fails(InvalidGraphException.class, "END has no outgoing edges",
        () -> oneNode().setEntryPoint("a").addEdge(StateGraph.END, "a").compile());
    fails(InvalidGraphException.class, "'ghost' is not a node",
        () -> oneNode().setEntryPoint("a").addEdge(List.of("a", "ghost"), StateGraph.END).compile());
    fails(InvalidGraphException.class, "'nowhere' is not a node",
        () -> oneNode().setEntryPoint("a").addConditionalEdges("nowhere", state -> Mono.just("a")).compile());
    fails(InvalidGraphException.class, "at least one source", () -> oneNode().addEdge(List.of(), "a"));
  }

  @Test
  void aGraphNeedsNodesAnEntryAndReachableNodes() {
    fails(InvalidGraphException.class, "has no nodes", () -> StateGraph.ofMap().compile());
    fails(InvalidGraphException.class, "no entry point", () -> oneNode().compile());
    fails(InvalidGraphException.class, "'b' is not reachable",
        () -> oneNode().addNode("b", NOOP).setEntryPoint("a").compile());
    // reachable through a declared Command.goTo destination, or through any conditional edge
    oneNode().addNode("b", NOOP, NodeOptions.defaults()).addNode("c", NOOP)
        .setEntryPoint("a").addEdge("a", "c").addNode("d", NOOP, NodeOptions.defaults().withDestinations("b"))
        .addEdge("c", "d").compile();
    oneNode().addNode("b", NOOP).setEntryPoint("a").addConditionalEdges("a", state -> Mono.just("b")).compile();
  }

  @Test
  void optionsAndReducersNameRealNodesAndKeys() {
    Supplier<StateGraph<Map<String, Object>>> graph = () -> oneNode().setEntryPoint("a");
    fails(InvalidGraphException.class, "interruptBefore names 'b'",
        () -> graph.get().compile(CompileOptions.defaults().withInterruptBefore("b")));
    fails(InvalidGraphException.class, "interruptAfter names 'b'",
        () -> graph.get().compile(CompileOptions.defaults().withInterruptAfter("b")));
    fails(InvalidGraphException.class, "has no such property",
        () -> StateGraph.of(Point.class).reducer("z", Reducers.append()));
    fails(InvalidGraphException.class, "ofMap()", () -> StateGraph.of(java.util.HashMap.class));
    fails(IllegalArgumentException.class, "at least 1", () -> CompileOptions.defaults().withRecursionLimit(0));
    fails(IllegalArgumentException.class, "must be positive",
        () -> NodeOptions.defaults().withTimeout(java.time.Duration.ZERO));
  }

  @Test
  void nodesReturningTheWrongThingFailTheRunNamingTheNode() {
    CompiledGraph<Map<String, Object>> wrongType = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(42)).setEntryPoint("a").compile();
    fails(IllegalArgumentException.class, "the result of node 'a' is a java.lang.Integer",
        () -> wrongType.invoke(Map.of(), RunConfig.none()).block());
    CompiledGraph<Point> unknownKey = StateGraph.of(Point.class)
        .addNode("a", (state, context) -> Mono.just(Map.of("z", 1))).setEntryPoint("a").compile();
    fails(IllegalArgumentException.class, "writes 'z', which is not a field of Point",
        () -> unknownKey.invoke(new Point(1, 2), RunConfig.none()).block());
    CompiledGraph<Map<String, Object>> nullMono = StateGraph.ofMap()
        .addNode("a", (state, context) -> null).setEntryPoint("a").compile();
    fails(NullPointerException.class, "node 'a'", () -> nullMono.invoke(Map.of(), RunConfig.none()).block());
    CompiledGraph<Map<String, Object>> badRoute = StateGraph.ofMap().addNode("a", NOOP).setEntryPoint("a")
        .addConditionalEdges("a", state -> Mono.just("nope")).compile();
    fails(IllegalArgumentException.class, "the conditional edge from 'a' named 'nope', which is not a node",
        () -> badRoute.invoke(Map.of(), RunConfig.none()).block());
    CompiledGraph<Map<String, Object>> badGoTo = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Command.goTo("nope"))).setEntryPoint("a").compile();
    fails(IllegalArgumentException.class, "Command.goTo in node 'a' named 'nope'",
        () -> badGoTo.invoke(Map.of(), RunConfig.none()).block());
    CompiledGraph<Map<String, Object>> resumeFromNode = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Command.resume(1))).setEntryPoint("a").compile();
    fails(IllegalArgumentException.class, "resume value", () -> resumeFromNode.invoke(Map.of(), RunConfig.none()).block());
  }

  @Test
  void runMisuse() {
    CompiledGraph<Map<String, Object>> graph = oneNode().setEntryPoint("a")
        .compile(CompileOptions.defaults().withCheckpointer(new InMemorySaver()));
    fails(IllegalArgumentException.class, "needs a thread id", () -> graph.invoke(Map.of(), RunConfig.none()).block());
    RunConfig thread = RunConfig.thread("validation");
    graph.invoke(Map.of(), thread).block();
    fails(InvalidCommandException.class, "nothing to resume", () -> graph.invoke(Command.resume(1), thread).block());
    fails(InvalidCommandException.class, "updateState", () -> graph.invoke(Command.goTo("a"), thread).block());
    fails(IllegalArgumentException.class, "'zz' is not a node",
        () -> graph.updateState(thread, Map.of("k", 1), "zz").block());
    fails(InvalidCommandException.class, "no checkpointer",
        () -> oneNode().setEntryPoint("a").compile().invoke(Command.resume(1), thread).block());
  }
}
