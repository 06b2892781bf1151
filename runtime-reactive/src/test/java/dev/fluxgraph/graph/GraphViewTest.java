package dev.fluxgraph.graph;

import static dev.fluxgraph.graph.StateGraph.END;
import static dev.fluxgraph.graph.StateGraph.START;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.errors.InvalidGraphException;
import dev.fluxgraph.func.Entrypoint;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * Drawings against the reference: each graph here is the Fluxgraph equivalent of a graph in LangGraph's own tests
 * ({@code tests/test_pregel.py}), and each expected Mermaid text is what LangGraph's {@code get_graph().draw_mermaid()}
 * produced for it there (its snapshots), character for character.
 */
class GraphViewTest {

  private static final String STYLES = "\tclassDef default fill:#f2f0ff,line-height:1.2\n"
      + "\tclassDef first fill-opacity:0\n"
      + "\tclassDef last fill:#bfb6fc\n";
  private static final String FRONT = "---\nconfig:\n  flowchart:\n    curve: linear\n---\ngraph TD;\n";

  private static NodeFunction<Map<String, Object>> noop() {
    return (state, context) -> Mono.just(Map.of());
  }

  private static Mono<String> route(String to) {
    return Mono.just(to);
  }

  /** test_simple_multi_edge: fan-out, a fan-in edge and a finish point. */
  @Test
  void multiEdge() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("up", noop()).addNode("side", noop()).addNode("other", noop()).addNode("down", noop())
        .setEntryPoint("up").addEdge("up", "side").addEdge("up", "other").addEdge(List.of("up", "side"), "down")
        .setFinishPoint("down").compile();
    assertEquals("graph TD;\n"
        + "\t__start__ --> up;\n"
        + "\tside --> down;\n"
        + "\tup --> down;\n"
        + "\tup --> other;\n"
        + "\tup --> side;\n"
        + "\tdown --> __end__;\n"
        + "\tother --> __end__;\n", graph.getGraph(false).toMermaid(false));
  }

  /** test_conditional_state_graph_with_list_edge_inputs: a fan-in edge to END. */
  @Test
  void fanInToEnd() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("A", noop()).addNode("B", noop())
        .addEdge(START, "A").addEdge(START, "B").addEdge(List.of("A", "B"), END).compile();
    GraphView view = graph.getGraph(false);
    assertEquals("graph TD;\n"
        + "\t__start__ --> A;\n"
        + "\t__start__ --> B;\n"
        + "\tA --> __end__;\n"
        + "\tB --> __end__;\n", view.toMermaid(false));
    assertEquals(List.of(
            Map.of("source", "__start__", "target", "A"), Map.of("source", "__start__", "target", "B"),
            Map.of("source", "A", "target", "__end__"), Map.of("source", "B", "target", "__end__")),
        view.toJson().get("edges"));
    assertEquals(List.of("__start__", "A", "B", "__end__"),
        ((List<?>) view.toJson().get("nodes")).stream().map(node -> ((Map<?, ?>) node).get("id")).toList());
    assertEquals(Map.of("id", "__end__"), ((List<?>) view.toJson().get("nodes")).get(3));
  }

  /** test_repeat_condition: path maps with labels, END among them, a self loop, names with spaces. */
  @Test
  void repeatCondition() {
    Map<String, String> researcher = new LinkedHashMap<>();
    researcher.put("redo", "Researcher");
    researcher.put("continue", "Chart Generator");
    researcher.put("call_tool", "Call Tool");
    researcher.put("end", END);
    Map<String, String> chart = new LinkedHashMap<>();
    chart.put("continue", "Researcher");
    chart.put("call_tool", "Call Tool");
    chart.put("end", END);
    Map<String, String> tool = new LinkedHashMap<>();
    tool.put("Researcher", "Researcher");
    tool.put("Chart Generator", "Chart Generator");
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("Researcher", noop()).addNode("Chart Generator", noop()).addNode("Call Tool", noop())
        .addConditionalEdges("Researcher", state -> route("redo"), researcher)
        .addConditionalEdges("Chart Generator", state -> route("end"), chart)
        .addConditionalEdges("Call Tool", state -> route("Researcher"), tool)
        .setEntryPoint("Researcher").compile();
    assertEquals("graph TD;\n"
        + "\tCall\\20Tool -.-> Chart\\20Generator;\n"
        + "\tCall\\20Tool -.-> Researcher;\n"
        + "\tChart\\20Generator -. &nbsp;call_tool&nbsp; .-> Call\\20Tool;\n"
        + "\tChart\\20Generator -. &nbsp;continue&nbsp; .-> Researcher;\n"
        + "\tChart\\20Generator -. &nbsp;end&nbsp; .-> __end__;\n"
        + "\tResearcher -. &nbsp;call_tool&nbsp; .-> Call\\20Tool;\n"
        + "\tResearcher -. &nbsp;continue&nbsp; .-> Chart\\20Generator;\n"
        + "\tResearcher -. &nbsp;end&nbsp; .-> __end__;\n"
        + "\t__start__ --> Researcher;\n"
        + "\tResearcher -. &nbsp;redo&nbsp; .-> Researcher;\n", graph.getGraph(false).toMermaid(false));
  }

  /** test_get_graph_self_loop: Command.goTo destinations (the reference's Command[Literal[...]]) are conditional. */
  @Test
  void destinationsAreConditional() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("worker_node", noop(), NodeOptions.defaults().withDestinations("worker_node", END))
        .addEdge(START, "worker_node").compile();
    assertEquals("graph TD;\n"
        + "\t__start__ --> worker_node;\n"
        + "\tworker_node -.-> __end__;\n"
        + "\tworker_node -.-> worker_node;\n", graph.getGraph(false).toMermaid(false));
  }

  /** test_nested_graph: a subgraph of one node, drawn whole or, with xray, as its node inside a block. */
  @Test
  void nestedGraph() {
    CompiledGraph<Map<String, Object>> inner = StateGraph.ofMap().addNode("up", noop()).setEntryPoint("up")
        .setFinishPoint("up").compile();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap().addNode("inner", inner).addNode("side", noop())
        .setEntryPoint("inner").addEdge("inner", "side").setFinishPoint("side").compile();
    assertEquals("graph TD;\n"
        + "\t__start__ --> inner;\n"
        + "\tinner --> side;\n"
        + "\tside --> __end__;\n", graph.getGraph(false).toMermaid(false));
    assertEquals(FRONT
        + "\t__start__([<p>__start__</p>]):::first\n"
        + "\tside(side)\n"
        + "\t__end__([<p>__end__</p>]):::last\n"
        + "\t__start__ --> inner\\3aup;\n"
        + "\tinner\\3aup --> side;\n"
        + "\tside --> __end__;\n"
        + "\tsubgraph inner\n"
        + "\tinner\\3aup(up)\n"
        + "\tend\n"
        + STYLES, graph.getGraph(true).toMermaid());
  }

  /** test_nested_graph_xray: conditional entry points with a list of targets, in the graph and its subgraph. */
  @Test
  void nestedGraphXray() {
    CompiledGraph<Map<String, Object>> toolTwo = StateGraph.ofMap()
        .addNode("tool_two_slow", noop()).addNode("tool_two_fast", noop())
        .addConditionalEdges(START, state -> route("tool_two_fast"), List.of("tool_two_slow", "tool_two_fast"))
        .compile();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("tool_one", noop()).addNode("tool_two", toolTwo).addNode("tool_three", noop())
        .addConditionalEdges(START, state -> route("tool_one"), List.of("tool_one", "tool_two", "tool_three"))
        .compile();
    GraphView view = graph.getGraph(true);
    assertEquals(FRONT
        + "\t__start__([<p>__start__</p>]):::first\n"
        + "\ttool_one(tool_one)\n"
        + "\ttool_three(tool_three)\n"
        + "\t__end__([<p>__end__</p>]):::last\n"
        + "\t__start__ -.-> tool_one;\n"
        + "\t__start__ -.-> tool_three;\n"
        + "\t__start__ -.-> tool_two\\3a__start__;\n"
        + "\ttool_one --> __end__;\n"
        + "\ttool_three --> __end__;\n"
        + "\ttool_two\\3a__end__ --> __end__;\n"
        + "\tsubgraph tool_two\n"
        + "\ttool_two\\3a__start__(<p>__start__</p>)\n"
        + "\ttool_two\\3atool_two_slow(tool_two_slow)\n"
        + "\ttool_two\\3atool_two_fast(tool_two_fast)\n"
        + "\ttool_two\\3a__end__(<p>__end__</p>)\n"
        + "\ttool_two\\3a__start__ -.-> tool_two\\3atool_two_fast;\n"
        + "\ttool_two\\3a__start__ -.-> tool_two\\3atool_two_slow;\n"
        + "\ttool_two\\3atool_two_fast --> tool_two\\3a__end__;\n"
        + "\ttool_two\\3atool_two_slow --> tool_two\\3a__end__;\n"
        + "\tend\n"
        + STYLES, view.toMermaid());
    // the reference's to_json for the same graph: node order, and edges in the order they were drawn
    assertEquals(List.of("__start__", "tool_one", "tool_three", "__end__", "tool_two:__start__",
            "tool_two:tool_two_slow", "tool_two:tool_two_fast", "tool_two:__end__"),
        ((List<?>) view.toJson().get("nodes")).stream().map(node -> ((Map<?, ?>) node).get("id")).toList());
    assertEquals(List.of(
        Map.of("source", "__start__", "target", "tool_one", "conditional", true),
        Map.of("source", "__start__", "target", "tool_three", "conditional", true),
        Map.of("source", "__start__", "target", "tool_two:__start__", "conditional", true),
        Map.of("source", "tool_one", "target", "__end__"),
        Map.of("source", "tool_three", "target", "__end__"),
        Map.of("source", "tool_two:__end__", "target", "__end__"),
        Map.of("source", "tool_two:__start__", "target", "tool_two:tool_two_fast", "conditional", true),
        Map.of("source", "tool_two:__start__", "target", "tool_two:tool_two_slow", "conditional", true),
        Map.of("source", "tool_two:tool_two_fast", "target", "tool_two:__end__"),
        Map.of("source", "tool_two:tool_two_slow", "target", "tool_two:__end__")), view.toJson().get("edges"));
  }

  /** test_multiple_sinks_subgraphs: a subgraph whose start is trimmed but whose end is not. */
  @Test
  void multipleSinksSubgraph() {
    CompiledGraph<Map<String, Object>> subgraph = StateGraph.ofMap()
        .addNode("one", noop()).addNode("two", noop()).addNode("three", noop())
        .addEdge(START, "one").addConditionalEdges("one", state -> route("two"), List.of("two", "three")).compile();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("uno", noop()).addNode("dos", noop()).addNode("subgraph", subgraph)
        .addEdge(START, "uno").addConditionalEdges("uno", state -> route("dos"), List.of("dos", "subgraph"))
        .compile();
    assertEquals(FRONT
        + "\t__start__([<p>__start__</p>]):::first\n"
        + "\tuno(uno)\n"
        + "\tdos(dos)\n"
        + "\t__end__([<p>__end__</p>]):::last\n"
        + "\t__start__ --> uno;\n"
        + "\tuno -.-> dos;\n"
        + "\tuno -.-> subgraph\\3aone;\n"
        + "\tdos --> __end__;\n"
        + "\tsubgraph\\3a__end__ --> __end__;\n"
        + "\tsubgraph subgraph\n"
        + "\tsubgraph\\3aone(one)\n"
        + "\tsubgraph\\3atwo(two)\n"
        + "\tsubgraph\\3athree(three)\n"
        + "\tsubgraph\\3a__end__(<p>__end__</p>)\n"
        + "\tsubgraph\\3aone -.-> subgraph\\3athree;\n"
        + "\tsubgraph\\3aone -.-> subgraph\\3atwo;\n"
        + "\tsubgraph\\3athree --> subgraph\\3a__end__;\n"
        + "\tsubgraph\\3atwo --> subgraph\\3a__end__;\n"
        + "\tend\n"
        + STYLES, graph.getGraph(true).toMermaid());
  }

  /** test_xray_bool: three levels, each a loop through a labelled conditional edge; xray depth 1 expands one. */
  @Test
  void xrayThreeLevels() {
    CompiledGraph<Map<String, Object>> child = StateGraph.ofMap()
        .addNode("c_one", noop()).addNode("c_two", noop())
        .addEdge(START, "c_one").addEdge("c_two", "c_one")
        .addConditionalEdges("c_one", state -> route("1"), Map.of("0", "c_two", "1", END)).compile();
    CompiledGraph<Map<String, Object>> parent = StateGraph.ofMap()
        .addNode("p_one", noop()).addNode("p_two", child)
        .addEdge(START, "p_one").addEdge("p_two", "p_one")
        .addConditionalEdges("p_one", state -> route("1"), Map.of("0", "p_two", "1", END)).compile();
    CompiledGraph<Map<String, Object>> grandParent = StateGraph.ofMap()
        .addNode("gp_one", noop()).addNode("gp_two", parent)
        .addEdge(START, "gp_one").addEdge("gp_two", "gp_one")
        .addConditionalEdges("gp_one", state -> route("1"), Map.of("0", "gp_two", "1", END)).compile();
    assertEquals(FRONT
        + "\t__start__([<p>__start__</p>]):::first\n"
        + "\tgp_one(gp_one)\n"
        + "\t__end__([<p>__end__</p>]):::last\n"
        + "\t__start__ --> gp_one;\n"
        + "\tgp_one -. &nbsp;1&nbsp; .-> __end__;\n"
        + "\tgp_one -. &nbsp;0&nbsp; .-> gp_two\\3a__start__;\n"
        + "\tgp_two\\3a__end__ --> gp_one;\n"
        + "\tsubgraph gp_two\n"
        + "\tgp_two\\3a__start__(<p>__start__</p>)\n"
        + "\tgp_two\\3ap_one(p_one)\n"
        + "\tgp_two\\3a__end__(<p>__end__</p>)\n"
        + "\tgp_two\\3a__start__ --> gp_two\\3ap_one;\n"
        + "\tgp_two\\3ap_one -. &nbsp;1&nbsp; .-> gp_two\\3a__end__;\n"
        + "\tgp_two\\3ap_one -. &nbsp;0&nbsp; .-> gp_two\\3ap_two\\3a__start__;\n"
        + "\tgp_two\\3ap_two\\3a__end__ --> gp_two\\3ap_one;\n"
        + "\tsubgraph p_two\n"
        + "\tgp_two\\3ap_two\\3a__start__(<p>__start__</p>)\n"
        + "\tgp_two\\3ap_two\\3ac_one(c_one)\n"
        + "\tgp_two\\3ap_two\\3ac_two(c_two)\n"
        + "\tgp_two\\3ap_two\\3a__end__(<p>__end__</p>)\n"
        + "\tgp_two\\3ap_two\\3a__start__ --> gp_two\\3ap_two\\3ac_one;\n"
        + "\tgp_two\\3ap_two\\3ac_one -. &nbsp;1&nbsp; .-> gp_two\\3ap_two\\3a__end__;\n"
        + "\tgp_two\\3ap_two\\3ac_one -. &nbsp;0&nbsp; .-> gp_two\\3ap_two\\3ac_two;\n"
        + "\tgp_two\\3ap_two\\3ac_two --> gp_two\\3ap_two\\3ac_one;\n"
        + "\tend\n"
        + "\tend\n"
        + STYLES, grandParent.getGraph(true).toMermaid());
    // one level: gp_two's own subgraph p_two stays a node
    GraphView oneLevel = grandParent.getGraph(1);
    assertTrue(oneLevel.nodes().stream().anyMatch(node -> node.id().equals("gp_two:p_two")));
    assertTrue(oneLevel.nodes().stream().noneMatch(node -> node.id().startsWith("gp_two:p_two:")));
  }

  /** A router without declared targets may go anywhere: an edge to every other node and to END. */
  @Test
  void routerWithoutTargetsLeadsEverywhere() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("agent", noop()).addNode("tools", noop())
        .setEntryPoint("agent").addConditionalEdges("agent", state -> route(END)).addEdge("tools", "agent")
        .compile();
    assertEquals("graph TD;\n"
        + "\t__start__ --> agent;\n"
        + "\tagent -.-> __end__;\n"
        + "\tagent -.-> tools;\n"
        + "\ttools --> agent;\n", graph.getGraph(false).toMermaid(false));
  }

  /** Breakpoints and deferred nodes show as metadata, under the node's name. */
  @Test
  void metadata() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("ask", noop()).addNode("join", noop(), NodeOptions.deferred())
        .setEntryPoint("ask").addEdge("ask", "join").setFinishPoint("join")
        .compile(CompileOptions.defaults().withInterruptBefore("ask").withInterruptAfter("ask"));
    GraphView view = graph.getGraph(false);
    assertEquals(Map.of("__interrupt", "before,after"), view.nodes().get(1).metadata());
    assertTrue(view.toMermaid().contains("\task(ask<hr/><small><em>__interrupt = before,after</em></small>)\n"),
        view.toMermaid());
    assertTrue(view.toMermaid().contains("\tjoin(join<hr/><small><em>defer = true</em></small>)\n"));
  }

  /** An entrypoint is one node; nested in a graph and expanded, it is that node inside the subgraph's block. */
  @Test
  void entrypointIsOneNode() {
    Entrypoint<String, String> echo = Entrypoint.named("echo").define(String.class, String.class,
        (input, context) -> Mono.just(input));
    assertEquals("graph TD;\n"
        + "\t__start__ --> echo;\n"
        + "\techo --> __end__;\n", echo.getGraph().toMermaid(false));
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap().addNode("call", echo).setEntryPoint("call")
        .compile();
    assertEquals(List.of("__start__", "__end__", "call:echo"),
        graph.getGraph(true).nodes().stream().map(GraphView.Node::id).toList());
    assertEquals(graph.getGraph(false), graph.asEntrypoint().getGraph());
  }

  /** Declared targets are checked when compiling and when the router runs. */
  @Test
  void declaredTargetsAreEnforced() {
    assertThrows(InvalidGraphException.class, () -> StateGraph.ofMap().addNode("a", noop()).setEntryPoint("a")
        .addConditionalEdges("a", state -> route("b"), List.of("b")).compile());
    assertThrows(InvalidGraphException.class, () -> StateGraph.ofMap().addNode("a", noop())
        .addConditionalEdges("a", state -> route(END), List.of()));
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap().addNode("a", noop()).addNode("b", noop())
        .setEntryPoint("a").addConditionalEdges("a", state -> route("b"), List.of(END))
        .addEdge(START, "b").compile();
    StepVerifier.create(graph.invoke(Map.of()))
        .expectErrorSatisfies(error -> assertTrue(error.getMessage().contains("not one of its declared targets"),
            error.toString()))
        .verify();
    CompiledGraph<Map<String, Object>> mapped = StateGraph.ofMap()
        .addNode("a", noop()).addNode("b", (state, context) -> Mono.just(Map.of("b", true)))
        .setEntryPoint("a").addConditionalEdges("a", state -> route("go"), Map.of("go", "b")).compile();
    StepVerifier.create(mapped.invoke(Map.of())).expectNext(Map.of("b", true)).verifyComplete();
  }

  @Test
  void viewRefusesEdgesToUnknownNodes() {
    assertThrows(IllegalArgumentException.class, () -> new GraphView(List.of(new GraphView.Node("a", "a", Map.of())),
        List.of(new GraphView.Edge("a", "b", false, null))));
    assertThrows(IllegalArgumentException.class, () -> StateGraph.ofMap().addNode("a", noop()).setEntryPoint("a")
        .compile().getGraph(-1));
  }
}
