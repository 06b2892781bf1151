package dev.fluxgraph.internal.server;

import dev.fluxgraph.func.Entrypoint;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** The graphs a server serves, by graph id, and the lookups every resource makes: by assistant id, for a thread. */
public final class ServedGraphs {

  private final Map<String, Entrypoint<?, ?>> graphs;

  public ServedGraphs(Map<String, Entrypoint<?, ?>> graphs) {
    this.graphs = Map.copyOf(graphs);
  }

  /** The graph ids served. */
  public Set<String> ids() {
    return graphs.keySet();
  }

  /** The graph with that id, or null. */
  public @Nullable Entrypoint<?, ?> get(String graphId) {
    return graphs.get(graphId);
  }

  /** The graph named by a graph id or an assistant id; 404 when none is. */
  public Entrypoint<?, ?> byAssistant(String assistantOrGraphId) {
    Entrypoint<?, ?> graph = graphs.get(assistantOrGraphId);
    if (graph != null) {
      return graph;
    }
    for (Map.Entry<String, Entrypoint<?, ?>> entry : graphs.entrySet()) {
      if (Assistants.idOf(entry.getKey()).equals(assistantOrGraphId)) {
        return entry.getValue();
      }
    }
    throw HttpProblem.notFound("assistant " + assistantOrGraphId);
  }

  /** The graph id a served graph is registered under. */
  public String idOf(Entrypoint<?, ?> graph) {
    return graphs.entrySet().stream().filter(entry -> entry.getValue() == graph).map(Map.Entry::getKey)
        .findFirst().orElseThrow();
  }

  /**
   * The graph that ran on the thread; 409 when this server does not serve it (it was renamed or removed since), as
   * its checkpoints cannot be read without it.
   */
  public Entrypoint<?, ?> ofThread(String threadId, @Nullable String graphId) {
    Entrypoint<?, ?> graph = graphId == null ? null : graphs.get(graphId);
    if (graph == null) {
      throw new HttpProblem(409, "thread " + threadId + " ran graph " + graphId + ", which this server does not serve");
    }
    return graph;
  }
}
