package dev.fluxgraph.server;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.internal.server.api.Cors;
import dev.fluxgraph.internal.server.api.ServerApi;
import dev.fluxgraph.internal.server.storage.InMemoryRunStore;
import dev.fluxgraph.internal.server.storage.InMemoryThreadStore;
import dev.fluxgraph.internal.server.storage.PostgresRunStore;
import dev.fluxgraph.internal.server.storage.PostgresThreadStore;
import dev.fluxgraph.internal.server.storage.RunStore;
import dev.fluxgraph.internal.server.storage.ThreadStore;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.store.InMemoryStore;
import dev.fluxgraph.store.Store;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * An HTTP server speaking the LangGraph Server API over Reactor Netty, so that the official
 * {@code @langchain/langgraph-sdk} client can drive Fluxgraph workflows (entrypoints, and graphs through
 * {@code CompiledGraph.asEntrypoint()}). Threads and run records live in PostgreSQL when the checkpointer is a
 * {@code PostgresSaver}, in memory otherwise; see the README's feature table.
 */
public final class FluxgraphServer {

  private final Builder settings;
  private final Map<String, Entrypoint<?, ?>> graphs;
  private volatile @Nullable DisposableServer server;

  private FluxgraphServer(Builder settings, Map<String, Entrypoint<?, ?>> graphs) {
    this.settings = settings;
    this.graphs = graphs;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts the server with the graphs found on the class path: {@code --host} (127.0.0.1), {@code --port} (2024),
   * {@code --database-url <r2dbc url>}, {@code --data-dir <dir>} (embedded PostgreSQL, the default storage),
   * {@code --in-memory}, {@code --api-key <key>} (or env {@code FLUXGRAPH_API_KEY}), {@code --log-level <level>} (or
   * env {@code FLUXGRAPH_LOG_LEVEL}), {@code --cors-allow-origin <origin>} (repeatable or comma-separated);
   * {@code --help} lists them. Logs one line per event on standard output. A
   * problem at start is one line on standard error naming it and the fix, and the exit code is 1 (2 for bad options).
   */
  public static void main(String[] args) {
    System.exit(ServerCommand.run(args));
  }

  /** Binds the port and serves; emits this server once it listens. Cold. */
  public Mono<FluxgraphServer> start() {
    return Mono.defer(() -> {
      ThreadStore threads;
      RunStore runs;
      Mono<Void> ready = Mono.empty();
      if (settings.checkpointer instanceof PostgresSaver postgres) {
        PostgresThreadStore threadStore = new PostgresThreadStore(postgres.connectionFactory());
        PostgresRunStore runStore = new PostgresRunStore(postgres.connectionFactory());
        threads = threadStore;
        runs = runStore;
        ready = threadStore.setup().then(runStore.setup())
            .then(threadStore.recoverAbandoned()).then(runStore.recoverAbandoned()).then();
      } else {
        threads = new InMemoryThreadStore();
        runs = new InMemoryRunStore();
      }
      Cors cors = settings.cors != null ? settings.cors
          : Cors.allowing(settings.apiKey == null ? List.of("*") : List.of());
      ServerApi api = new ServerApi(graphs, threads, runs, settings.checkpointer, settings.apiKey, cors);
      return ready.then(HttpServer.create().host(settings.host).port(settings.port).handle(api.handler()).bind())
          .map(bound -> {
            server = bound;
            return this;
          });
    });
  }

  /** The port the server listens on (useful with port 0). @throws IllegalStateException before start */
  public int port() {
    DisposableServer bound = server;
    if (bound == null) {
      throw new IllegalStateException("the server is not started");
    }
    return bound.port();
  }

  /** Stops listening and closes open connections. */
  public Mono<Void> stop() {
    return Mono.defer(() -> {
      DisposableServer bound = server;
      if (bound == null) {
        return Mono.empty();
      }
      bound.dispose();
      return bound.onDispose();
    });
  }

  /** Configures a server; graphs registered here and those of {@link GraphProvider}s on the class path. */
  public static final class Builder {
    private final Map<String, Entrypoint<?, ?>> graphs = new LinkedHashMap<>();
    private CheckpointSaver checkpointer = new InMemorySaver();
    private Store store = new InMemoryStore();
    private String host = "127.0.0.1";
    private int port = 2024;
    private @Nullable String apiKey;
    private @Nullable Cors cors;
    private boolean serviceLoader = true;

    private Builder() {
    }

    public Builder graph(String graphId, Entrypoint<?, ?> graph) {
      Objects.requireNonNull(graphId, "graphId must not be null");
      if (graphId.isBlank()) {
        throw new IllegalArgumentException("graphId must not be blank");
      }
      graphs.put(graphId, Objects.requireNonNull(graph, "graph must not be null"));
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

    /** The store given to {@link GraphProvider}s. Default: in memory. */
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

    /** See {@link #corsAllowOrigins(List)}. */
    public Builder corsAllowOrigins(String... origins) {
      return corsAllowOrigins(Arrays.asList(Objects.requireNonNull(origins, "origins must not be null")));
    }

    /** Whether graphs of {@link GraphProvider}s on the class path are added (default true). */
    public Builder discoverGraphs(boolean discover) {
      this.serviceLoader = discover;
      return this;
    }

    public FluxgraphServer build() {
      Map<String, Entrypoint<?, ?>> all = new LinkedHashMap<>();
      if (serviceLoader) {
        for (GraphProvider provider : ServiceLoader.load(GraphProvider.class)) {
          provider.graphs(checkpointer, store).forEach(all::putIfAbsent);
        }
      }
      all.putAll(graphs);
      if (all.isEmpty()) {
        throw new IllegalStateException("no graphs: register one with graph(id, entrypoint) or put a GraphProvider "
            + "on the class path");
      }
      return new FluxgraphServer(this, Map.copyOf(all));
    }
  }
}
