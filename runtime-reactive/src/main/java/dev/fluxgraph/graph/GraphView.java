package dev.fluxgraph.graph;

import dev.fluxgraph.func.Entrypoint;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A drawing of a graph: its nodes and edges, as {@link CompiledGraph#getGraph(boolean)} and
 * {@link Entrypoint#getGraph()} see them, with the reference's conventions ({@code __start__} and {@code __end__}
 * nodes, conditional edges marked). Ids of the nodes of an expanded subgraph are prefixed with the subgraph node's
 * name and {@code ':'} ({@code "inner:step"}). Immutable; building and rendering it does nothing else.
 *
 * @param nodes the nodes, {@code __start__} first
 * @param edges the edges, each between two of the nodes
 */
public record GraphView(List<Node> nodes, List<Edge> edges) {

  /** Mermaid's styles of the reference: ordinary, first and last nodes. */
  private static final List<String> CLASS_DEFS = List.of("classDef default fill:#f2f0ff,line-height:1.2",
      "classDef first fill-opacity:0", "classDef last fill:#bfb6fc");
  /** Characters that would make Mermaid read a node label as Markdown. */
  private static final String MARKDOWN_SPECIAL = "*_`";
  private static final int WRAP_LABEL_WORDS = 9;

  /**
   * A node.
   *
   * @param id       unique in the view ({@code "sub:node"} for a node of an expanded subgraph)
   * @param name     the node's own name (the last part of its id)
   * @param metadata what a drawing shows with it: {@code "__interrupt"} ({@code "before"}, {@code "after"} or
   *                 {@code "before,after"}) for a breakpoint, {@code "defer": true} for a deferred node
   */
  public record Node(String id, String name, Map<String, Object> metadata) {
    public Node {
      Objects.requireNonNull(id, "id must not be null");
      Objects.requireNonNull(name, "name must not be null");
      metadata = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(metadata,
          "metadata must not be null")));
    }
  }

  /**
   * An edge.
   *
   * @param conditional whether the run may or may not take it (a conditional edge's target, or a
   *                    {@code Command.goTo} destination)
   * @param label       what the drawing writes on it, or null
   */
  public record Edge(String source, String target, boolean conditional, @Nullable String label) {
    public Edge {
      Objects.requireNonNull(source, "source must not be null");
      Objects.requireNonNull(target, "target must not be null");
    }
  }

  /** @throws IllegalArgumentException if two nodes share an id or an edge names a node that is not in the view */
  public GraphView {
    nodes = List.copyOf(Objects.requireNonNull(nodes, "nodes must not be null"));
    edges = List.copyOf(Objects.requireNonNull(edges, "edges must not be null"));
    Set<String> ids = new HashSet<>();
    for (Node node : nodes) {
      if (!ids.add(node.id())) {
        throw new IllegalArgumentException("two nodes have the id '" + node.id() + "'");
      }
    }
    for (Edge edge : edges) {
      if (!ids.contains(edge.source()) || !ids.contains(edge.target())) {
        throw new IllegalArgumentException("edge " + edge.source() + " -> " + edge.target() + " names a node that "
            + "is not in the view " + ids);
      }
    }
  }

  /** The one node no edge leads to, or null when there is none or more than one. */
  public @Nullable Node firstNode() {
    Set<String> targets = new HashSet<>();
    edges.forEach(edge -> targets.add(edge.target()));
    return single(nodes.stream().filter(node -> !targets.contains(node.id())).toList());
  }

  /** The one node no edge leaves, or null when there is none or more than one. */
  public @Nullable Node lastNode() {
    Set<String> sources = new HashSet<>();
    edges.forEach(edge -> sources.add(edge.source()));
    return single(nodes.stream().filter(node -> !sources.contains(node.id())).toList());
  }

  private static @Nullable Node single(List<Node> found) {
    return found.size() == 1 ? found.get(0) : null;
  }

  /** {@link #toMermaid(boolean)} with styles, the reference's default. */
  public String toMermaid() {
    return toMermaid(true);
  }

  /**
   * The graph in Mermaid's flowchart syntax ({@code graph TD;}), as the reference's {@code draw_mermaid} writes it:
   * plain edges {@code -->}, conditional ones {@code -.->}, labels between {@code &nbsp;}, ids with characters other
   * than letters, digits, {@code _} and {@code -} escaped as {@code \<hex>}, the nodes of an expanded subgraph in a
   * {@code subgraph <name>} block. With {@code withStyles}: a front matter with the linear curve, the node
   * declarations (the first node {@code ([..]):::first}, the last {@code ([..]):::last}, metadata under a rule) and
   * the reference's class definitions; without, the edges only.
   *
   * @throws IllegalStateException if two subgraph blocks would have the same name (subgraph nodes of the same name
   *                               at different places)
   */
  public String toMermaid(boolean withStyles) {
    return new Mermaid(withStyles).render();
  }

  /**
   * The JSON the LangGraph Server answers for {@code GET /assistants/{id}/graph}: {@code {"nodes": [...],
   * "edges": [...]}}, a node as {@code {"id", "type": "runnable", "data": {"id": [...], "name": <id>}}} (with
   * {@code "metadata"} when it has some; an {@code __end__} node as {@code {"id"}} alone, as the reference's), an
   * edge as {@code {"source", "target"}} with {@code "data"} (its label) and {@code "conditional": true} when they
   * apply. Plain, mutable maps and lists.
   */
  public Map<String, Object> toJson() {
    List<Object> jsonNodes = new ArrayList<>();
    for (Node node : nodes) {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("id", node.id());
      if (!node.name().equals(StateGraph.END)) {
        json.put("type", "runnable");
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("id", new ArrayList<>(List.of("dev", "fluxgraph", "graph", "Node")));
        data.put("name", node.id()); // the reference names a node by its id here
        json.put("data", data);
        if (!node.metadata().isEmpty()) {
          json.put("metadata", new LinkedHashMap<>(node.metadata()));
        }
      }
      jsonNodes.add(json);
    }
    List<Object> jsonEdges = new ArrayList<>();
    for (Edge edge : edges) {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("source", edge.source());
      json.put("target", edge.target());
      if (edge.label() != null) {
        json.put("data", edge.label());
      }
      if (edge.conditional()) {
        json.put("conditional", true);
      }
      jsonEdges.add(json);
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("nodes", jsonNodes);
    json.put("edges", jsonEdges);
    return json;
  }

  /** One rendering: edges grouped by the id parts their ends share, each group a subgraph block. */
  private final class Mermaid {
    private final boolean withStyles;
    private final StringBuilder out = new StringBuilder();
    private final Map<String, List<Node>> subgraphNodes = new LinkedHashMap<>();
    private final Map<String, List<Edge>> edgeGroups = new LinkedHashMap<>();
    private final Set<String> seen = new HashSet<>();
    private final @Nullable String first;
    private final @Nullable String last;

    Mermaid(boolean withStyles) {
      this.withStyles = withStyles;
      Node firstNode = firstNode();
      Node lastNode = lastNode();
      this.first = firstNode == null ? null : firstNode.id();
      this.last = lastNode == null ? null : lastNode.id();
    }

    String render() {
      if (withStyles) {
        out.append("---\nconfig:\n  flowchart:\n    curve: linear\n---\n");
      }
      out.append("graph TD;\n");
      List<Node> regular = new ArrayList<>();
      for (Node node : nodes) {
        int colon = node.id().lastIndexOf(':');
        if (colon < 0) {
          regular.add(node);
        } else {
          subgraphNodes.computeIfAbsent(node.id().substring(0, colon), key -> new ArrayList<>()).add(node);
        }
      }
      if (withStyles) {
        regular.forEach(this::node);
      }
      for (Edge edge : edges) {
        edgeGroups.computeIfAbsent(sharedParts(edge), key -> new ArrayList<>()).add(edge);
      }
      block(edgeGroups.getOrDefault("", List.of()), "");
      edgeGroups.forEach((prefix, group) -> {
        if (!prefix.isEmpty() && !prefix.contains(":")) {
          block(group, prefix);
          seen.add(prefix);
        }
      });
      if (withStyles) {
        subgraphNodes.forEach((prefix, members) -> {
          if (!prefix.contains(":") && seen.add(prefix)) {
            out.append("\tsubgraph ").append(prefix).append('\n');
            members.forEach(this::node);
            out.append("\tend\n");
          }
        });
        CLASS_DEFS.forEach(style -> out.append('\t').append(style).append('\n'));
      }
      return out.toString();
    }

    /** The id parts (split at ':') that are equal at the same position in both ends, joined: the reference's group. */
    private static String sharedParts(Edge edge) {
      String[] source = edge.source().split(":", -1);
      String[] target = edge.target().split(":", -1);
      List<String> shared = new ArrayList<>();
      for (int i = 0; i < Math.min(source.length, target.length); i++) {
        if (source[i].equals(target[i])) {
          shared.add(source[i]);
        }
      }
      return String.join(":", shared);
    }

    private void block(List<Edge> group, String prefix) {
      boolean selfLoop = group.size() == 1 && group.get(0).source().equals(group.get(0).target());
      boolean wrapped = !prefix.isEmpty() && !selfLoop;
      if (wrapped) {
        String name = prefix.substring(prefix.lastIndexOf(':') + 1);
        if (!seen.add(name)) {
          throw new IllegalStateException("two subgraphs are named '" + name + "': give the subgraph nodes unique "
              + "names to draw them");
        }
        out.append("\tsubgraph ").append(name).append('\n');
        if (withStyles) {
          subgraphNodes.getOrDefault(prefix, List.of()).forEach(this::node);
        }
      }
      group.forEach(this::edge);
      edgeGroups.forEach((nested, edges) -> {
        if (nested.startsWith(prefix + ":") && !nested.substring(prefix.length() + 1).contains(":")) {
          block(edges, nested);
        }
      });
      if (wrapped) {
        out.append("\tend\n");
      }
    }

    private void node(Node node) {
      String name = node.name().substring(node.name().lastIndexOf(':') + 1);
      String label = !name.isEmpty() && MARKDOWN_SPECIAL.indexOf(name.charAt(0)) >= 0
          && MARKDOWN_SPECIAL.indexOf(name.charAt(name.length() - 1)) >= 0 ? "<p>" + name + "</p>" : name;
      if (!node.metadata().isEmpty()) {
        List<String> lines = new ArrayList<>();
        node.metadata().forEach((key, value) -> lines.add(key + " = " + value));
        label = label + "<hr/><small><em>" + String.join("\n", lines) + "</em></small>";
      }
      String id = safeId(node.id());
      out.append('\t').append(id);
      if (node.id().equals(first)) {
        out.append("([").append(label).append("]):::first");
      } else if (node.id().equals(last)) {
        out.append("([").append(label).append("]):::last");
      } else {
        out.append('(').append(label).append(')');
      }
      out.append('\n');
    }

    private void edge(Edge edge) {
      String arrow;
      if (edge.label() != null) {
        String[] words = edge.label().trim().split("\\s+");
        String text = edge.label();
        if (words.length > WRAP_LABEL_WORDS) {
          List<String> lines = new ArrayList<>();
          for (int i = 0; i < words.length; i += WRAP_LABEL_WORDS) {
            lines.add(String.join(" ", List.of(words).subList(i, Math.min(words.length, i + WRAP_LABEL_WORDS))));
          }
          text = String.join("&nbsp<br>&nbsp", lines);
        }
        arrow = edge.conditional() ? " -. &nbsp;" + text + "&nbsp; .-> " : " -- &nbsp;" + text + "&nbsp; --> ";
      } else {
        arrow = edge.conditional() ? " -.-> " : " --> ";
      }
      out.append('\t').append(safeId(edge.source())).append(arrow).append(safeId(edge.target())).append(";\n");
    }
  }

  /** Letters, digits, '_' and '-' as they are; any other character as a backslash and its code point in hex. */
  private static String safeId(String id) {
    StringBuilder safe = new StringBuilder();
    id.codePoints().forEach(c -> {
      if (c < 128 && (Character.isLetterOrDigit(c) || c == '_' || c == '-')) {
        safe.appendCodePoint(c);
      } else {
        safe.append('\\').append(Integer.toHexString(c));
      }
    });
    return safe.toString();
  }
}
