package dev.fluxgraph.internal.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.internal.server.storage.AssistantStore;
import dev.fluxgraph.internal.server.storage.AssistantStore.AssistantRecord;
import dev.fluxgraph.types.FluxgraphJson;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The assistants a server serves: those it created for its graphs ({@code created_by: system}, id {@code uuid5} of
 * the graph id, see {@link Assistants}), registered in the {@link AssistantStore} before the first use, and those
 * created through {@code POST /assistants}. Resolves what a request names (an assistant id, or a graph id for the
 * graph's own assistant) and lays an assistant's defaults under a run's request.
 */
public final class ServedAssistants {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();

  private final AssistantStore store;
  private final ServedGraphs graphs;
  private final Clock clock;
  /** Whether the graphs' own assistants are registered: once per process, retried until it succeeds. */
  private volatile boolean registered;
  /**
   * Assistants read for runs, when the run queue checks the version a run was made from ({@link #cacheForRuns}):
   * a new run then needs no read before its record. Forgotten all at once past its bound, and one by one when a
   * run's record found it {@linkplain StaleAssistantException stale}.
   */
  private final Map<String, AssistantRecord> forRuns = new ConcurrentHashMap<>();
  private static final int CACHED = 10_000;
  private volatile boolean cacheForRuns;
  /** The config and context of the graphs' own assistants, by graph id (none: empty). */
  private volatile Map<String, Defaults> defaults = Map.of();

  /** What a graph's own assistant starts with: its run config defaults and its context defaults. */
  public record Defaults(Map<String, Object> config, Map<String, Object> context) {
    public Defaults {
      config = Map.copyOf(config);
      context = Map.copyOf(context);
    }
  }

  public ServedAssistants(AssistantStore store, ServedGraphs graphs, Clock clock) {
    this.store = store;
    this.graphs = graphs;
    this.clock = clock;
  }

  public AssistantStore store() {
    return store;
  }

  public ServedGraphs graphs() {
    return graphs;
  }

  /**
   * Sets the config and context the graphs' own assistants are registered with (graph ids of served graphs), as the
   * reference's per-graph config does; before the first request. A graph's assistant already kept in the database
   * keeps its own (patch it through the API).
   */
  public void defaults(Map<String, Defaults> byGraph) {
    for (String graphId : byGraph.keySet()) {
      if (!graphs.ids().contains(graphId)) {
        throw new IllegalArgumentException("the graph config names graph '" + graphId + "', which is not served "
            + "(served: " + graphs.ids().stream().sorted().toList() + ")");
      }
    }
    defaults = Map.copyOf(byGraph);
  }

  /** Registers the graphs' own assistants unless done already (idempotent: existing ones are kept). */
  public Mono<Void> ready() {
    if (registered) {
      return Mono.empty();
    }
    return Mono.defer(() -> {
      Defaults none = new Defaults(Map.of(), Map.of());
      List<AssistantRecord> system = graphs.ids().stream().sorted().map(graphId -> new AssistantRecord(
          Assistants.idOf(graphId), graphId, defaults.getOrDefault(graphId, none).config(),
          defaults.getOrDefault(graphId, none).context(), Map.of("created_by", "system"), graphId, null, 1,
          clock.instant(), clock.instant())).toList();
      return store.registerSystem(system).doOnSuccess(done -> registered = true);
    });
  }

  /**
   * The assistant a request names: a served graph's id names its own assistant. 404 when there is none, or when its
   * graph is not served here.
   */
  public Mono<AssistantRecord> resolve(String assistantOrGraphId) {
    String id = graphs.ids().contains(assistantOrGraphId) ? Assistants.idOf(assistantOrGraphId) : assistantOrGraphId;
    return ready().then(store.get(id))
        .switchIfEmpty(Mono.error(() -> AssistantStore.notFound(assistantOrGraphId)))
        .doOnNext(assistant -> {
          if (!graphs.ids().contains(assistant.graphId())) {
            throw HttpProblem.notFound("graph " + assistant.graphId() + " of assistant " + assistant.assistantId()
                + " (this server does not serve it)");
          }
        });
  }

  /**
   * Lets {@link #resolveForRun} answer from assistants read earlier: only for a run queue that records a run only
   * while the version it was made from is current (PostgreSQL's, see {@code PostgresRunQueue.NewRun}), and that
   * fails the run's start with {@link StaleAssistantException} otherwise.
   */
  public void cacheForRuns() {
    cacheForRuns = true;
  }

  /**
   * The assistant a new run names (as {@link #resolve}), with the {@code updated_at} the run's record must check when
   * it came from an earlier read (null when read now, or when nothing is cached).
   */
  public Mono<Resolved> resolveForRun(String assistantOrGraphId) {
    if (!cacheForRuns) {
      return resolve(assistantOrGraphId).map(assistant -> new Resolved(assistant, null));
    }
    String id = graphs.ids().contains(assistantOrGraphId) ? Assistants.idOf(assistantOrGraphId) : assistantOrGraphId;
    AssistantRecord cached = forRuns.get(id);
    if (cached != null && graphs.ids().contains(cached.graphId())) {
      return Mono.just(new Resolved(cached, cached.updatedAt()));
    }
    return resolve(assistantOrGraphId).map(assistant -> {
      if (forRuns.size() >= CACHED) {
        forRuns.clear();
      }
      forRuns.put(assistant.assistantId(), assistant);
      return new Resolved(assistant, assistant.updatedAt());
    });
  }

  /** Forgets what {@link #resolveForRun} read of the assistant (a run's record found it changed). */
  public void forget(String assistantId) {
    forRuns.remove(assistantId);
  }

  /**
   * An assistant for a new run, and the {@code updated_at} its record must check ({@link #resolveForRun}).
   */
  public record Resolved(AssistantRecord assistant, @Nullable Instant checkedAt) {
  }

  /**
   * A run was not recorded because its assistant changed (patched, its latest version set, deleted) after the read
   * its request was made from: the request is made again from a fresh read.
   */
  public static final class StaleAssistantException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String assistantId;

    public StaleAssistantException(String assistantId) {
      super("assistant " + assistantId + " changed while the run was being recorded", null, false, false);
      this.assistantId = assistantId;
    }

    public String assistantId() {
      return assistantId;
    }
  }

  /**
   * A run's request with its assistant's defaults under it: {@code config.configurable} and {@code context} merged
   * key by key (the request's values win), the other {@code config} fields the request's when it has them; and the
   * assistant named by its id, with its graph id ({@code graph_id}), so the request alone says what to run. A field
   * of the wrong type is kept as it came, for the request's checks to name.
   */
  public static ObjectNode runBody(JsonNode body, AssistantRecord assistant) {
    ObjectNode merged = ((ObjectNode) body).deepCopy();
    JsonNode config = body.path("config");
    if (config.isMissingNode() || config.isNull() || config.isObject()) {
      ObjectNode effective = JSON.valueToTree(assistant.config());
      if (config.isObject()) {
        for (Map.Entry<String, JsonNode> field : config.properties()) {
          JsonNode mine = effective.get(field.getKey());
          effective.set(field.getKey(), field.getKey().equals("configurable") && mine != null && mine.isObject()
              && field.getValue().isObject() ? overlay((ObjectNode) mine, field.getValue()) : field.getValue());
        }
      }
      if (!effective.isEmpty() || config.isObject()) {
        merged.set("config", effective);
      }
    }
    JsonNode context = body.path("context");
    if (!assistant.context().isEmpty() && (context.isMissingNode() || context.isNull() || context.isObject())) {
      ObjectNode defaults = JSON.valueToTree(assistant.context());
      merged.set("context", context.isObject() ? overlay(defaults, context) : defaults);
    }
    merged.put("assistant_id", assistant.assistantId());
    merged.put("graph_id", assistant.graphId());
    return merged;
  }

  private static ObjectNode overlay(ObjectNode base, JsonNode over) {
    ObjectNode result = base.deepCopy();
    over.properties().forEach(field -> result.set(field.getKey(), field.getValue()));
    return result;
  }
}
