package dev.fluxgraph.internal;

import dev.fluxgraph.graph.GraphView;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Draws a graph or an entrypoint as a {@link GraphView}, from its definition alone (nothing runs), following the
 * reference's {@code get_graph}: a node per graph node between {@code __start__} and {@code __end__}; plain and
 * fan-in edges between nodes as plain edges; conditional edges to their declared targets (labelled with their path-map keys), or, when a router declared none, to
 * every other node and {@code __end__}; {@code Command.goTo} destinations as conditional edges; these edges sorted by
 * source, target, conditional and label, the first per (source, target) kept; then a plain edge to {@code __end__}
 * from every node that those edges lead to but none leave (which is how a plain edge to {@code END} shows). With {@code xray}, subgraph nodes are replaced by their own drawing
 * (ids prefixed {@code "<node>:"}), without its {@code __start__}/{@code __end__} where the reference trims them,
 * the edges to and from the node redirected to its first and last node. An entrypoint is one node.
 */
public final class GraphDrawing {

  private static final Comparator<GraphView.Edge> ORDER = Comparator.comparing(GraphView.Edge::source)
      .thenComparing(GraphView.Edge::target)
      .thenComparing(GraphView.Edge::conditional)
      .thenComparing(GraphView.Edge::label, Comparator.nullsFirst(Comparator.naturalOrder()));

  private GraphDrawing() {
  }

  /** The drawing of {@code spec}, with subgraphs expanded {@code xray} levels deep (0: none). */
  public static GraphView of(EntrypointSpec spec, int xray) {
    if (xray < 0) {
      throw new IllegalArgumentException("xray must not be negative, was " + xray);
    }
    GraphDefinition graph = spec.graph();
    return graph == null ? entrypoint(spec.name()) : graph(graph, xray);
  }

  private static GraphView entrypoint(String name) {
    return new GraphView(
        List.of(node(GraphDefinition.START), node(name), node(GraphDefinition.END)),
        List.of(new GraphView.Edge(GraphDefinition.START, name, false, null),
            new GraphView.Edge(name, GraphDefinition.END, false, null)));
  }

  private static GraphView graph(GraphDefinition graph, int xray) {
    Map<String, GraphView.Node> nodes = new LinkedHashMap<>();
    nodes.put(GraphDefinition.START, node(GraphDefinition.START));
    for (String name : graph.nodes().keySet()) {
      nodes.put(name, new GraphView.Node(name, name, metadata(graph, name)));
    }
    // plain edges to END are left out here, as the reference's drawing never sees them: the nodes they leave get their
    // edge to END as termini below (unless they lead elsewhere too)
    Set<GraphView.Edge> found = new TreeSet<>(ORDER);
    graph.edges().forEach((from, targets) -> targets.stream().filter(to -> !to.equals(GraphDefinition.END))
        .forEach(to -> found.add(new GraphView.Edge(from, to, false, null))));
    for (GraphDefinition.Join join : graph.joins()) {
      if (!join.to().equals(GraphDefinition.END)) {
        join.from().forEach(from -> found.add(new GraphView.Edge(from, join.to(), false, null)));
      }
    }
    graph.layout().routerTargets().forEach((from, declared) -> {
      for (Map<String, String> targets : declared) {
        if (targets.isEmpty()) { // a router that names nothing in advance may lead to any other node, or end the run
          graph.nodes().keySet().stream().filter(node -> !node.equals(from))
              .forEach(node -> found.add(new GraphView.Edge(from, node, true, null)));
          found.add(new GraphView.Edge(from, GraphDefinition.END, true, null));
        }
        targets.forEach((label, target) -> found.add(new GraphView.Edge(from, target, true,
            label.equals(target) ? null : label)));
      }
    });
    graph.layout().destinations().forEach((from, targets) -> targets.forEach(target ->
        found.add(new GraphView.Edge(from, target, true, null))));

    List<GraphView.Edge> edges = new ArrayList<>();
    found.forEach(edge -> add(edges, edge));
    Set<String> sources = new LinkedHashSet<>();
    Set<String> termini = new TreeSet<>();
    found.forEach(edge -> sources.add(edge.source()));
    found.forEach(edge -> {
      if (!edge.target().equals(GraphDefinition.END) && !sources.contains(edge.target())) {
        termini.add(edge.target());
      }
    });
    termini.forEach(node -> add(edges, new GraphView.Edge(node, GraphDefinition.END, false, null)));
    if (edges.stream().anyMatch(edge -> edge.target().equals(GraphDefinition.END))) {
      nodes.put(GraphDefinition.END, node(GraphDefinition.END));
    }
    if (xray > 0) {
      graph.layout().subgraphs().forEach((name, child) -> expand(nodes, edges, name,
          of(child, xray == Integer.MAX_VALUE ? xray : xray - 1)));
    }
    return new GraphView(List.copyOf(nodes.values()), edges);
  }

  /** Replaces node {@code name} by {@code subgraph}, as the reference's {@code get_graph(xray=...)} does. */
  private static void expand(Map<String, GraphView.Node> nodes, List<GraphView.Edge> edges, String name,
                             GraphView subgraph) {
    if (subgraph.nodes().size() <= 1 || !nodes.containsKey(name) || subgraph.firstNode() == null
        || subgraph.lastNode() == null) {
      return;
    }
    GraphView trimmed = trimLast(trimFirst(subgraph));
    GraphView.Node first = trimmed.firstNode();
    GraphView.Node last = trimmed.lastNode();
    nodes.remove(name);
    for (GraphView.Node node : trimmed.nodes()) {
      String id = name + ":" + node.id();
      nodes.put(id, new GraphView.Node(id, node.name(), node.metadata()));
    }
    for (int i = 0; i < edges.size(); i++) {
      GraphView.Edge edge = edges.get(i);
      String source = edge.source().equals(name) && last != null ? name + ":" + last.id() : edge.source();
      String target = edge.target().equals(name) && first != null ? name + ":" + first.id() : edge.target();
      edges.set(i, new GraphView.Edge(source, target, edge.conditional(), edge.label()));
    }
    for (GraphView.Edge edge : trimmed.edges()) {
      edges.add(new GraphView.Edge(name + ":" + edge.source(), name + ":" + edge.target(), edge.conditional(),
          edge.label()));
    }
  }

  /** Without its first node, when that has one outgoing edge and the rest still has exactly one first node. */
  private static GraphView trimFirst(GraphView view) {
    GraphView.Node first = view.firstNode();
    if (first == null || view.edges().stream().filter(edge -> edge.source().equals(first.id())).count() != 1) {
      return view;
    }
    GraphView without = without(view, first.id());
    return without.firstNode() == null ? view : without;
  }

  /** Without its last node, when that has one incoming edge and the rest still has exactly one last node. */
  private static GraphView trimLast(GraphView view) {
    GraphView.Node last = view.lastNode();
    if (last == null || view.edges().stream().filter(edge -> edge.target().equals(last.id())).count() != 1) {
      return view;
    }
    GraphView without = without(view, last.id());
    return without.lastNode() == null ? view : without;
  }

  private static GraphView without(GraphView view, String id) {
    return new GraphView(view.nodes().stream().filter(node -> !node.id().equals(id)).toList(),
        view.edges().stream().filter(edge -> !edge.source().equals(id) && !edge.target().equals(id)).toList());
  }

  /** Adds the edge unless one with the same ends is there (the reference keeps the first). */
  private static void add(List<GraphView.Edge> edges, GraphView.Edge edge) {
    for (GraphView.Edge existing : edges) {
      if (existing.source().equals(edge.source()) && existing.target().equals(edge.target())) {
        return;
      }
    }
    edges.add(edge);
  }

  private static Map<String, Object> metadata(GraphDefinition graph, String name) {
    Map<String, Object> metadata = new LinkedHashMap<>();
    if (graph.nodes().get(name).deferred()) {
      metadata.put("defer", true);
    }
    boolean before = graph.interruptBefore().contains(name);
    boolean after = graph.interruptAfter().contains(name);
    @Nullable String interrupt = before && after ? "before,after" : before ? "before" : after ? "after" : null;
    if (interrupt != null) {
      metadata.put("__interrupt", interrupt);
    }
    return metadata;
  }

  private static GraphView.Node node(String name) {
    return new GraphView.Node(name, name, Map.of());
  }
}
