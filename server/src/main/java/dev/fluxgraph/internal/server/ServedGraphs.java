package dev.fluxgraph.internal.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.internal.server.storage.ThreadStore;
import dev.fluxgraph.server.GraphFactory;
import dev.fluxgraph.types.FluxgraphJson;
import dev.fluxgraph.types.RunConfig;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The graphs a server serves, by graph id, and the lookups every resource makes: by assistant id, for a thread, for
 * a run's configurable values. A graph id names a graph or a {@link GraphFactory}; a factory's graphs are cached per
 * distinct configurable values (at most {@link #CACHED_PER_FACTORY}, least recently used first out).
 */
public final class ServedGraphs {

  /** How many graphs a factory keeps, one per distinct configurable values. */
  public static final int CACHED_PER_FACTORY = 64;

  private static final ObjectWriter CANONICAL = FluxgraphJson.mapper().writer()
      .with(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  private final Map<String, Entrypoint<?, ?>> graphs;
  private final Map<String, Factory> factories;
  /** The graph id of each graph a factory made; weak, so graphs dropped from the caches go. */
  private final Map<Entrypoint<?, ?>, String> made = Collections.synchronizedMap(new WeakHashMap<>());
  /**
   * The graph id of each created assistant a run of this process named (see {@link #rememberAssistant}), so that
   * what reads a run's graph from its assistant id (a rollback) finds it without a lookup. Bounded: forgotten all at
   * once past {@link #REMEMBERED_ASSISTANTS}.
   */
  private final Map<String, String> assistantGraphs = new ConcurrentHashMap<>();
  private static final int REMEMBERED_ASSISTANTS = 10_000;

  public ServedGraphs(Map<String, Entrypoint<?, ?>> graphs) {
    this(graphs, Map.of());
  }

  public ServedGraphs(Map<String, Entrypoint<?, ?>> graphs, Map<String, GraphFactory> factories) {
    this.graphs = Map.copyOf(graphs);
    Map<String, Factory> wrapped = new LinkedHashMap<>();
    factories.forEach((id, factory) -> {
      if (this.graphs.containsKey(id)) {
        throw new IllegalArgumentException("graph id '" + id + "' names both a graph and a graph factory");
      }
      wrapped.put(id, new Factory(id, factory));
    });
    this.factories = Map.copyOf(wrapped);
  }

  /** The graph ids served. */
  public Set<String> ids() {
    Set<String> ids = new LinkedHashSet<>(graphs.keySet());
    ids.addAll(factories.keySet());
    return ids;
  }

  /** The graph with that id (a factory's: built from empty configurable values), or null. */
  public @Nullable Entrypoint<?, ?> get(String graphId) {
    return forRun(graphId, Map.of());
  }

  /**
   * The graph with that id for a run with these configurable values: the graph itself, or the factory's graph for
   * them (built on first use); null when no graph has that id.
   */
  public @Nullable Entrypoint<?, ?> forRun(String graphId, Map<String, Object> configurable) {
    Entrypoint<?, ?> graph = graphs.get(graphId);
    if (graph != null) {
      return graph;
    }
    Factory factory = factories.get(graphId);
    return factory == null ? null : factory.graph(configurable);
  }

  /** Records that the created assistant {@code assistantId} runs graph {@code graphId} (see {@link #byAssistant}). */
  public void rememberAssistant(String assistantId, String graphId) {
    if (assistantGraphs.size() >= REMEMBERED_ASSISTANTS) {
      assistantGraphs.clear();
    }
    assistantGraphs.put(assistantId, graphId);
  }

  /** The graph named by a graph id or an assistant id; 404 when none is. */
  public Entrypoint<?, ?> byAssistant(String assistantOrGraphId) {
    return byAssistant(assistantOrGraphId, Map.of());
  }

  /** {@link #byAssistant(String)} for a run with these configurable values (see {@link #forRun}). */
  public Entrypoint<?, ?> byAssistant(String assistantOrGraphId, Map<String, Object> configurable) {
    Entrypoint<?, ?> graph = forRun(assistantOrGraphId, configurable);
    if (graph != null) {
      return graph;
    }
    String remembered = assistantGraphs.get(assistantOrGraphId);
    if (remembered != null && forRun(remembered, configurable) != null) {
      return Objects.requireNonNull(forRun(remembered, configurable));
    }
    for (Map<String, ?> served : List.of(graphs, factories)) {
      for (String id : served.keySet()) {
        if (Assistants.idOf(id).equals(assistantOrGraphId)) {
          return Objects.requireNonNull(forRun(id, configurable));
        }
      }
    }
    throw HttpProblem.notFound("assistant " + assistantOrGraphId);
  }

  /** The graph id a served graph (or a graph a factory made) is registered under. */
  public String idOf(Entrypoint<?, ?> graph) {
    String made = this.made.get(graph);
    if (made != null) {
      return made;
    }
    return graphs.entrySet().stream().filter(entry -> entry.getValue() == graph).map(Map.Entry::getKey)
        .findFirst().orElseThrow();
  }

  /**
   * The graph that ran on the thread; 409 when this server does not serve it (it was renamed or removed since), as
   * its checkpoints cannot be read without it.
   */
  public Entrypoint<?, ?> ofThread(String threadId, @Nullable String graphId) {
    Entrypoint<?, ?> graph = graphId == null ? null : get(graphId);
    if (graph == null) {
      throw new HttpProblem(409, "thread " + threadId + " ran graph " + graphId + ", which this server does not serve");
    }
    return graph;
  }

  /**
   * {@link #ofThread(String, String)} for a thread record: a factory's graph for the configurable values of the
   * thread's last run, as the reference builds a thread's graph from the thread's config.
   */
  public Entrypoint<?, ?> ofThread(ThreadStore.ThreadRecord thread) {
    Entrypoint<?, ?> graph = thread.graphId() == null ? null : forRun(thread.graphId(), thread.configurable());
    return graph != null ? graph : ofThread(thread.threadId(), thread.graphId());
  }

  /** A factory and its graphs, by the canonical JSON of the configurable values they were built from. */
  private final class Factory {
    private final String graphId;
    private final GraphFactory factory;
    private final Map<String, Entrypoint<?, ?>> cache = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Entrypoint<?, ?>> eldest) {
        return size() > CACHED_PER_FACTORY;
      }
    };

    Factory(String graphId, GraphFactory factory) {
      this.graphId = graphId;
      this.factory = factory;
    }

    synchronized Entrypoint<?, ?> graph(Map<String, Object> configurable) {
      String key;
      try {
        key = CANONICAL.writeValueAsString(configurable);
      } catch (JsonProcessingException e) {
        throw HttpProblem.invalid("config.configurable is not JSON: " + e.getOriginalMessage());
      }
      Entrypoint<?, ?> graph = cache.get(key);
      if (graph == null) {
        try {
          graph = factory.create(RunConfig.none().withConfigurable(configurable));
        } catch (RuntimeException e) {
          // the values are the client's and the factory sees nothing else: they are what it refused
          throw HttpProblem.invalid("the graph factory of '" + graphId + "' failed for configurable " + key + ": "
              + e);
        }
        if (graph == null) {
          throw new IllegalStateException("the graph factory of '" + graphId + "' returned no graph for "
              + "configurable " + key);
        }
        cache.put(key, graph);
        made.put(graph, graphId);
      }
      return graph;
    }
  }
}
