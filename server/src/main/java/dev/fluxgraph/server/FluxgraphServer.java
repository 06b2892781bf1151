package dev.fluxgraph.server;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.internal.server.Durations;
import dev.fluxgraph.internal.server.GraphDefaults;
import dev.fluxgraph.internal.server.api.Cors;
import dev.fluxgraph.internal.server.api.ReactorNettyHost;
import dev.fluxgraph.internal.server.runs.FencedSaver;
import dev.fluxgraph.internal.server.runs.Sweeper;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.postgres.PostgresStore;
import dev.fluxgraph.store.InMemoryStore;
import dev.fluxgraph.store.Store;
import dev.fluxgraph.types.Durability;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * An HTTP server speaking the LangGraph Server API over Reactor Netty, so that the official
 * {@code @langchain/langgraph-sdk} client can drive Fluxgraph workflows (entrypoints, and graphs through
 * {@code CompiledGraph.asEntrypoint()}). Threads, run records and runs' events live in PostgreSQL when the
 * checkpointer is a {@code PostgresSaver}, shared by every server process of that database (see
 * {@code ../shared/DISTRIBUTED.md} and docs/design.md), in memory otherwise; see the README's feature table.
 */
public final class FluxgraphServer {

  static final Duration DEFAULT_LEASE_TTL = Duration.ofSeconds(30);
  static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(5);
  static final long MIN_LEASE_TTL_MILLIS = 1000;
  static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(30);
  static final Duration DEFAULT_EVENTS_RETENTION = Duration.ofHours(1);
  private static final Pattern WORKER_PREFIX = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  private final Builder settings;
  private final FluxgraphApi api;
  private volatile @Nullable DisposableServer server;

  private FluxgraphServer(Builder settings, FluxgraphApi api) {
    this.settings = settings;
    this.api = api;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts the server with the graphs found on the class path: {@code --host} (127.0.0.1), {@code --port} (2024),
   * {@code --database-url <r2dbc url>}, {@code --data-dir <dir>} (embedded PostgreSQL, the default storage),
   * {@code --in-memory}, {@code --api-key <key>} (or env {@code FLUXGRAPH_API_KEY}), {@code --log-level <level>} (or
   * env {@code FLUXGRAPH_LOG_LEVEL}), {@code --cors-allow-origin <origin>} (repeatable or comma-separated),
   * {@code --lease-ttl <duration>} (30s), {@code --heartbeat-interval <duration>} (5s), {@code --worker-id-prefix},
   * {@code --max-attempts <n>} (3) and {@code --events-retention <duration>} (1h) (PostgreSQL only), and
   * {@code --shutdown-grace <duration>} (30s);
   * {@code --help} lists them. Logs one line per event on standard output. A
   * problem at start is one line on standard error naming it and the fix, and the exit code is 1 (2 for bad options).
   */
  public static void main(String[] args) {
    System.exit(ServerCommand.run(args));
  }

  /** Binds the port and serves; emits this server once it listens. Cold. */
  public Mono<FluxgraphServer> start() {
    return Mono.defer(() -> api.start()
        .then(HttpServer.create().host(settings.host).port(settings.port)
            .handle((request, response) -> api.handle(ReactorNettyHost.request(request),
                ReactorNettyHost.response(response)))
            .bind())
        .map(bound -> {
          server = bound;
          return this;
        })
        .onErrorResume(error -> api.release().then(Mono.error(error))));
  }

  /** The port the server listens on (useful with port 0). @throws IllegalStateException before start */
  public int port() {
    DisposableServer bound = server;
    if (bound == null) {
      throw new IllegalStateException("the server is not started");
    }
    return bound.port();
  }

  /** The worker id this process's runs are recorded with (PostgreSQL only). @throws IllegalStateException else */
  public String workerId() {
    return api.workerId().orElseThrow(() -> new IllegalStateException(
        "the server is not started, or keeps its runs in memory (no workers)"));
  }

  /**
   * A clean stop: no new run is accepted (503) and, in PostgreSQL, none is claimed; the runs executing here get the
   * shutdown grace period to finish, then those left are handed over to the other processes (they continue from their
   * checkpoints there) or, in memory, cancelled; then the port is closed with its connections, and in PostgreSQL the
   * worker stops heartbeating (only now: a process that stopped heartbeating while it drained would have its live runs
   * taken from it) and removes its row.
   */
  public Mono<Void> stop() {
    return Mono.defer(() -> api.drain().then(Mono.defer(() -> {
      DisposableServer bound = server;
      if (bound == null) {
        return api.release();
      }
      bound.dispose();
      return bound.onDispose().then(api.release());
    })));
  }

  /** How long {@link #stop} lets the runs executing here finish before it hands them over. */
  public Duration shutdownGrace() {
    return settings.shutdownGrace;
  }

  /** Configures a server; graphs registered here and those of {@link GraphProvider}s on the class path. */
  public static final class Builder {
    final Map<String, Entrypoint<?, ?>> graphs = new LinkedHashMap<>();
    final Map<String, GraphFactory> factories = new LinkedHashMap<>();
    CheckpointSaver checkpointer = new InMemorySaver();
    /** Null: in memory, or with a {@link PostgresSaver} a {@link PostgresStore} on its database. */
    @Nullable Store store;
    String host = "127.0.0.1";
    int port = 2024;
    @Nullable String apiKey;
    @Nullable Cors cors;
    boolean serviceLoader = true;
    Duration leaseTtl = DEFAULT_LEASE_TTL;
    @Nullable Duration heartbeatInterval;
    String workerIdPrefix = "fluxgraph-" + ProcessHandle.current().pid();
    int maxAttempts = Sweeper.DEFAULT_MAX_ATTEMPTS;
    Duration shutdownGrace = DEFAULT_SHUTDOWN_GRACE;
    Duration eventsRetention = DEFAULT_EVENTS_RETENTION;
    @Nullable Durability durability;
    boolean setupSchema = true;
    boolean truncate;
    final Map<String, Map<String, Object>> graphConfigs = new LinkedHashMap<>();
    private final Map<String, Entrypoint<?, ?>> onServerPersistence = new LinkedHashMap<>();

    private Builder() {
    }

    /**
     * How long a server process's lease on its runs lasts without a heartbeat (PostgreSQL only): a process that
     * stopped is detected, and its runs ended by another one, about this long after its last heartbeat. At least
     * 1 s. Default 30 s.
     */
    public Builder leaseTtl(Duration ttl) {
      Objects.requireNonNull(ttl, "leaseTtl must not be null");
      if (ttl.toMillis() < MIN_LEASE_TTL_MILLIS) {
        throw new IllegalArgumentException("the lease TTL must be at least "
            + Durations.format(Duration.ofMillis(MIN_LEASE_TTL_MILLIS)) + ", was " + Durations.format(ttl));
      }
      this.leaseTtl = ttl;
      return this;
    }

    /**
     * How often the lease is renewed, and the sweeper's period (PostgreSQL only): positive and at most a third of the
     * lease TTL (checked by {@link #build}). Default: 5 s, or a third of a lease TTL shorter than 15 s.
     */
    public Builder heartbeatInterval(Duration interval) {
      Objects.requireNonNull(interval, "heartbeatInterval must not be null");
      if (interval.toMillis() <= 0) {
        throw new IllegalArgumentException("the heartbeat interval must be positive, was "
            + Durations.format(interval));
      }
      this.heartbeatInterval = interval;
      return this;
    }

    /**
     * The start of this process's worker id, which a random part completes at each start (letters, digits, '.', '_'
     * and '-', at most 64). Default {@code fluxgraph-<pid>}.
     */
    public Builder workerIdPrefix(String prefix) {
      Objects.requireNonNull(prefix, "workerIdPrefix must not be null");
      if (!WORKER_PREFIX.matcher(prefix).matches()) {
        throw new IllegalArgumentException("the worker id prefix must be 1 to 64 letters, digits, '.', '_' or '-',"
            + " was '" + prefix + "'");
      }
      this.workerIdPrefix = prefix;
      return this;
    }

    /**
     * How many executions a run gets (PostgreSQL only): a run whose process stopped is resumed by another one, and
     * after this many it ends {@code error} instead, so that a run that kills its process cannot take every process
     * down in turn. 1 to 100; default 3.
     */
    public Builder maxAttempts(int attempts) {
      if (attempts < 1 || attempts > 100) {
        throw new IllegalArgumentException("max attempts must be between 1 and 100, was " + attempts);
      }
      this.maxAttempts = attempts;
      return this;
    }

    /**
     * How long a stopping server lets the runs executing in it finish (no new ones are accepted meanwhile) before it
     * hands them over to the other processes (PostgreSQL) or cancels them (in memory). 0 to 1 hour; default 30 s.
     */
    public Builder shutdownGrace(Duration grace) {
      Objects.requireNonNull(grace, "shutdownGrace must not be null");
      if (grace.isNegative() || grace.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException("the shutdown grace period must be between 0s and 1h, was "
            + Durations.format(grace));
      }
      this.shutdownGrace = grace;
      return this;
    }

    /**
     * How long a run's events are kept in the database after it ended, for joinStream from any process and after a
     * restart (PostgreSQL only). At least 1 s; default 1 h.
     */
    public Builder eventsRetention(Duration retention) {
      Objects.requireNonNull(retention, "eventsRetention must not be null");
      if (retention.toMillis() < 1000) {
        throw new IllegalArgumentException("the events retention must be at least 1s, was "
            + Durations.format(retention));
      }
      this.eventsRetention = retention;
      return this;
    }

    Duration heartbeat() {
      Duration interval = heartbeatInterval;
      if (interval != null) {
        return interval;
      }
      Duration third = leaseTtl.dividedBy(3);
      return third.compareTo(DEFAULT_HEARTBEAT) < 0 ? third : DEFAULT_HEARTBEAT;
    }

    public Builder graph(String graphId, Entrypoint<?, ?> graph) {
      Objects.requireNonNull(graphId, "graphId must not be null");
      if (graphId.isBlank()) {
        throw new IllegalArgumentException("graphId must not be blank");
      }
      graphs.put(graphId, Objects.requireNonNull(graph, "graph must not be null"));
      factories.remove(graphId);
      return this;
    }

    /**
     * Serves a graph built per run from the run's configurable values ({@code config.configurable} of the request),
     * as the reference's graph-making functions: see {@link GraphFactory} for what it is called with and how its
     * graphs are cached. Replaces a graph or factory registered under the same id.
     */
    public Builder graph(String graphId, GraphFactory factory) {
      Objects.requireNonNull(graphId, "graphId must not be null");
      if (graphId.isBlank()) {
        throw new IllegalArgumentException("graphId must not be blank");
      }
      factories.put(graphId, Objects.requireNonNull(factory, "factory must not be null"));
      graphs.remove(graphId);
      return this;
    }

    /**
     * Registers a graph that runs on this server's checkpointer and store where it has none of its own: a graph
     * without a checkpointer, or whose checkpointer is this builder's {@link #checkpointer}, gets the server's (with
     * PostgreSQL, one that stops writing a run this process lost), and one without a store gets {@link #store}. The
     * graph given is not changed: the server serves a copy.
     */
    public Builder graphOnServerPersistence(String graphId, Entrypoint<?, ?> graph) {
      Objects.requireNonNull(graphId, "graphId must not be null");
      if (graphId.isBlank()) {
        throw new IllegalArgumentException("graphId must not be blank");
      }
      onServerPersistence.put(graphId, Objects.requireNonNull(graph, "graph must not be null"));
      return this;
    }

    /**
     * Whether {@link #start} creates or upgrades the server's tables (threads, runs, workers, events; PostgreSQL only,
     * idempotent). Default true; off when the schema is managed elsewhere, and then the tables must exist.
     */
    public Builder setupSchema(boolean setup) {
      this.setupSchema = setup;
      return this;
    }

    /** The durability of runs whose request names none. Default: each graph's own ({@code async} unless set). */
    public Builder durability(Durability durability) {
      this.durability = Objects.requireNonNull(durability, "durability must not be null");
      return this;
    }

    /**
     * The checkpointer given to {@link GraphProvider}s. With a {@code PostgresSaver}, the server keeps its threads
     * in the same database (table {@code fluxgraph_threads}); otherwise in memory. Default: in memory.
     */
    public Builder checkpointer(CheckpointSaver checkpointer) {
      this.checkpointer = Objects.requireNonNull(checkpointer, "checkpointer must not be null");
      return this;
    }

    /**
     * The store given to {@link GraphProvider}s and served by the store API ({@code /store/...}). Default: with a
     * {@code PostgresSaver} checkpointer, a {@code PostgresStore} on its database (its table set up at start, unless
     * {@link #setupSchema} is off), shared by every server process of the database; otherwise in memory.
     */
    public Builder store(Store store) {
      this.store = Objects.requireNonNull(store, "store must not be null");
      return this;
    }

    public Builder host(String host) {
      this.host = Objects.requireNonNull(host, "host must not be null");
      return this;
    }

    /** The port; 0 picks a free one (see {@link FluxgraphServer#port()}). Default 2024. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be between 0 and 65535, was " + port);
      }
      this.port = port;
      return this;
    }

    /**
     * Requires this key in the {@code x-api-key} header of every request but {@code GET /ok}, {@code GET /info} and
     * CORS preflights.
     */
    public Builder apiKey(@Nullable String apiKey) {
      this.apiKey = apiKey == null || apiKey.isBlank() ? null : apiKey;
      return this;
    }

    /**
     * The browser origins whose pages may call the server (CORS): {@code "*"} for any, else exact origins such as
     * {@code http://localhost:3000}; none for an empty list. Requests from other origins are refused with 403;
     * requests without an {@code Origin} header (non-browser clients) are not affected. Default: any origin when no
     * API key is set, none when one is.
     *
     * @throws IllegalArgumentException when an entry is neither {@code *} nor {@code scheme://host[:port]}
     */
    public Builder corsAllowOrigins(List<String> origins) {
      this.cors = Cors.allowing(Objects.requireNonNull(origins, "origins must not be null"));
      return this;
    }

    /**
     * No CORS policy of Fluxgraph's own: every request, preflights included, goes to the routes as it came, for a
     * host that applies its own (a Spring WebFlux application's CORS configuration). Replaces
     * {@link #corsAllowOrigins(List)}.
     */
    public Builder corsByHost() {
      this.cors = Cors.HOST;
      return this;
    }

    /** See {@link #corsAllowOrigins(List)}. */
    public Builder corsAllowOrigins(String... origins) {
      return corsAllowOrigins(Arrays.asList(Objects.requireNonNull(origins, "origins must not be null")));
    }

    /**
     * Whether {@code POST /internal/truncate} is served (default false): the reference dev server's reset between
     * test suites, which deletes every thread (with its runs and checkpoints), the assistants created through the
     * API and every store item, as its body's booleans {@code threads}, {@code assistants}, {@code store} ask. For
     * test suites against a throwaway server only: it needs no more than the API key, if any.
     */
    public Builder truncateEndpoint(boolean enabled) {
      this.truncate = enabled;
      return this;
    }

    /**
     * The config of a graph's own assistant (the one whose id is the graph's), as the reference's per-graph config
     * ({@code LANGGRAPH_CONFIG}): a run config ({@code configurable}, {@code recursion_limit}, {@code tags},
     * {@code run_name}, {@code metadata}) whose {@code context} entry, if any, becomes the assistant's context. Runs
     * of that assistant get them as defaults under their own values. Applied when the assistant is first registered:
     * one already kept in PostgreSQL keeps its config (patch it through the API). {@link #build} fails for a graph
     * that is not served, {@code start} for a config an assistant could not have (naming the graph and the field).
     */
    public Builder graphConfig(String graphId, Map<String, Object> config) {
      Objects.requireNonNull(graphId, "graphId must not be null");
      Objects.requireNonNull(config, "config must not be null");
      graphConfigs.put(graphId, new LinkedHashMap<>(config));
      return this;
    }

    /** Whether graphs of {@link GraphProvider}s on the class path are added (default true). */
    public Builder discoverGraphs(boolean discover) {
      this.serviceLoader = discover;
      return this;
    }

    /** @throws IllegalArgumentException when the heartbeat interval is more than a third of the lease TTL */
    void checkLeases() {
      if (heartbeat().multipliedBy(3).compareTo(leaseTtl) > 0) {
        throw new IllegalArgumentException("the heartbeat interval (" + Durations.format(heartbeat()) + ") must be at"
            + " most a third of the lease TTL (" + Durations.format(leaseTtl) + "), so that one late heartbeat does"
            + " not lose the lease");
      }
    }

    public FluxgraphServer build() {
      return new FluxgraphServer(this, buildApi());
    }

    /**
     * The API these settings describe without a socket of its own (host and port are not used), for a host that
     * serves it: see {@link FluxgraphApi}.
     *
     * @throws IllegalStateException when there is no graph
     * @throws IllegalArgumentException when the heartbeat interval is more than a third of the lease TTL
     */
    public FluxgraphApi buildApi() {
      checkLeases();
      Map<String, Entrypoint<?, ?>> all = new LinkedHashMap<>();
      Map<String, GraphFactory> allFactories = new LinkedHashMap<>();
      // with a shared database, the graphs' checkpoints of runs this process lost are not saved (see FencedSaver)
      FencedSaver fenced = checkpointer instanceof PostgresSaver ? new FencedSaver(checkpointer) : null;
      Store store = this.store != null ? this.store : checkpointer instanceof PostgresSaver postgres
          ? PostgresStore.using(postgres.connectionFactory()) : new InMemoryStore();
      boolean setupStore = this.store == null && store instanceof PostgresStore;
      CheckpointSaver forGraphs = fenced != null ? fenced : checkpointer;
      if (serviceLoader) {
        for (GraphProvider provider : ServiceLoader.load(GraphProvider.class)) {
          provider.graphs(forGraphs, store).forEach(all::putIfAbsent);
          provider.graphFactories(forGraphs, store).forEach((id, factory) -> {
            if (!all.containsKey(id)) {
              allFactories.putIfAbsent(id, factory);
            }
          });
        }
      }
      onServerPersistence.forEach((id, graph) -> all.put(id, GraphDefaults.apply(graph, forGraphs, checkpointer,
          store)));
      // the builder's registrations win over the providers'
      graphs.keySet().forEach(allFactories::remove);
      onServerPersistence.keySet().forEach(allFactories::remove);
      factories.keySet().forEach(all::remove);
      // a graph registered with the server's own saver is fenced too
      graphs.forEach((id, graph) -> all.put(id, fenced == null ? graph : GraphDefaults.fence(graph, fenced,
          checkpointer)));
      allFactories.putAll(factories);
      if (all.isEmpty() && allFactories.isEmpty()) {
        throw new IllegalStateException("no graphs: register one with graph(id, entrypoint) or put a GraphProvider "
            + "on the class path");
      }
      for (String graphId : graphConfigs.keySet()) {
        if (!all.containsKey(graphId) && !allFactories.containsKey(graphId)) {
          Set<String> served = new TreeSet<>(all.keySet());
          served.addAll(allFactories.keySet());
          throw new IllegalArgumentException("the graph config names graph '" + graphId + "', which is not served "
              + "(served: " + served + ")");
        }
      }
      return new FluxgraphApi(this, Map.copyOf(all), Map.copyOf(allFactories), fenced, store, setupStore);
    }
  }
}
