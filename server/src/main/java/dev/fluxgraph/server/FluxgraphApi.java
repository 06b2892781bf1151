package dev.fluxgraph.server;

import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.internal.server.ServedGraphs;
import dev.fluxgraph.internal.server.api.Cors;
import dev.fluxgraph.internal.server.api.ServerApi;
import dev.fluxgraph.internal.server.runs.FencedSaver;
import dev.fluxgraph.internal.server.runs.Ownership;
import dev.fluxgraph.internal.server.runs.SharedRuns;
import dev.fluxgraph.internal.server.runs.Sweeper;
import dev.fluxgraph.internal.server.runs.Worker;
import dev.fluxgraph.internal.server.storage.AssistantStore;
import dev.fluxgraph.internal.server.storage.InMemoryAssistantStore;
import dev.fluxgraph.internal.server.storage.CronStore;
import dev.fluxgraph.internal.server.storage.InMemoryCronStore;
import dev.fluxgraph.internal.server.storage.InMemoryRunStore;
import dev.fluxgraph.internal.server.storage.InMemoryThreadStore;
import dev.fluxgraph.internal.server.storage.PgListener;
import dev.fluxgraph.internal.server.storage.PostgresCronStore;
import dev.fluxgraph.internal.server.storage.PostgresEventStore;
import dev.fluxgraph.internal.server.storage.PostgresProbe;
import dev.fluxgraph.internal.server.storage.PostgresRunQueue;
import dev.fluxgraph.internal.server.storage.PostgresAssistantStore;
import dev.fluxgraph.internal.server.storage.PostgresRunStore;
import dev.fluxgraph.internal.server.storage.PostgresThreadStore;
import dev.fluxgraph.internal.server.storage.PostgresWorkerStore;
import dev.fluxgraph.internal.server.storage.RunStore;
import dev.fluxgraph.internal.server.storage.ThreadStore;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.postgres.PostgresStore;
import dev.fluxgraph.store.Store;
import io.r2dbc.spi.ConnectionFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The LangGraph Server API over a set of graphs, with its run machinery (in PostgreSQL: the worker's lease, the
 * sweeper, the shared run queue and events), but without a socket of its own: a host hands it each request
 * ({@link #handle}). {@link FluxgraphServer} is this API on Reactor Netty; {@code fluxgraph-spring-boot-autoconfigure}
 * mounts it in a Spring WebFlux application. Built by {@link FluxgraphServer.Builder#buildApi()}, with the builder's
 * settings but its host and port.
 */
public final class FluxgraphApi {

  private static final byte[] NOT_STARTED = "{\"detail\":\"the Fluxgraph API is not started\"}"
      .getBytes(StandardCharsets.UTF_8);

  private final FluxgraphServer.Builder settings;
  private final Map<String, Entrypoint<?, ?>> graphs;
  /** Graphs built per run from its config (see {@link GraphFactory}). */
  private final Map<String, GraphFactory> factories;
  /** The checkpointer given to the graphs, fenced by this process's leases; null in memory. */
  private final @Nullable FencedSaver fenced;
  private final @Nullable PostgresProbe probe;
  /** The store of the graphs and of the store API. */
  private final Store store;
  /** Whether {@link #start} sets up the store's table (the default store on the checkpointer's database). */
  private final boolean setupStore;
  private volatile @Nullable Worker worker;
  private volatile @Nullable Sweeper sweeper;
  private volatile @Nullable SharedRuns sharedRuns;
  private volatile @Nullable ServerApi api;

  FluxgraphApi(FluxgraphServer.Builder settings, Map<String, Entrypoint<?, ?>> graphs,
               Map<String, GraphFactory> factories, @Nullable FencedSaver fenced, Store store, boolean setupStore) {
    this.settings = settings;
    this.store = store;
    this.setupStore = setupStore;
    this.graphs = graphs;
    this.factories = factories;
    this.fenced = fenced;
    this.probe = settings.checkpointer instanceof PostgresSaver postgres
        ? new PostgresProbe(postgres.connectionFactory()) : null;
  }

  /**
   * Sets up the server's tables and starts the run machinery: in PostgreSQL this process's worker (registered, then
   * heartbeating), the sweeper and the shared run queue. Emits this API once requests can be handed to it. Cold.
   */
  public Mono<FluxgraphApi> start() {
    return Mono.defer(() -> {
      ThreadStore threads;
      RunStore runs;
      AssistantStore assistants;
      CronStore crons;
      Ownership ownership = Ownership.NONE;
      SharedRuns shared = null;
      Mono<Void> ready = Mono.empty();
      if (settings.checkpointer instanceof PostgresSaver postgres) {
        ConnectionFactory database = postgres.connectionFactory();
        PostgresThreadStore threadStore = new PostgresThreadStore(database);
        PostgresRunStore runStore = new PostgresRunStore(database);
        PostgresAssistantStore assistantStore = new PostgresAssistantStore(database);
        PostgresWorkerStore workerStore = new PostgresWorkerStore(database);
        PostgresEventStore events = new PostgresEventStore(database);
        PostgresCronStore cronStore = new PostgresCronStore(database);
        Worker self = new Worker(workerStore, settings.workerIdPrefix, settings.leaseTtl, settings.heartbeat());
        Sweeper sweeps = new Sweeper(workerStore, settings.heartbeat(), settings.leaseTtl,
            settings.leaseTtl.multipliedBy(10), settings.maxAttempts, events, settings.eventsRetention);
        SharedRuns all = new SharedRuns(new PostgresRunQueue(database), events, runStore,
            new PgListener(database, PostgresRunQueue.CHANNEL), self, settings.heartbeat());
        threads = threadStore;
        runs = runStore;
        assistants = assistantStore;
        crons = cronStore;
        ownership = self;
        shared = all;
        // registered before the first pass of the sweeper, which leaves the runs of live workers alone; claims
        // (what the sweeper queued again, too) once the routes are wired
        Mono<Void> schema = settings.setupSchema ? threadStore.setup().then(runStore.setup())
            .then(assistantStore.setup()).then(cronStore.setup())
            .then(setupStore && store instanceof PostgresStore tables ? tables.setup() : Mono.empty()) : Mono.empty();
        ready = schema.then(self.start())
            .doOnSuccess(done -> worker = self)
            .then(sweeps.start())
            .doOnSuccess(done -> sweeper = sweeps)
            .then(all.start())
            .doOnSuccess(done -> sharedRuns = all);
      } else {
        threads = new InMemoryThreadStore();
        runs = new InMemoryRunStore();
        assistants = new InMemoryAssistantStore();
        crons = new InMemoryCronStore();
      }
      Cors cors = settings.cors != null ? settings.cors
          : Cors.allowing(settings.apiKey == null ? List.of("*") : List.of());
      ServerApi served = new ServerApi(new ServedGraphs(graphs, factories), threads, runs, assistants,
          settings.checkpointer, settings.apiKey, cors, ownership, shared, settings.durability, store, crons);
      served.graphConfigs(settings.graphConfigs);
      if (settings.truncate) {
        served.enableTruncate();
      }
      FencedSaver guarded = fenced;
      if (guarded != null) {
        guarded.guard(served::mayWrite, served::mayWriteThread);
        if (ownership instanceof Worker self) {
          guarded.guardWrites(() -> self.holds(self.id()));
        }
      }
      return ready.doOnSuccess(done -> {
        api = served;
        served.startCrons();
      }).thenReturn(this)
          .onErrorResume(error -> release().then(Mono.error(error)));
    });
  }

  /**
   * Answers one request: {@code request.uri()} is relative to where the API is mounted. Before {@link #start} has
   * completed, a 503. Cold.
   */
  public Mono<Void> handle(ApiRequest request, ApiResponse response) {
    return Mono.defer(() -> {
      ServerApi serving = api;
      if (serving == null) {
        return request.discard().then(response.status(503).header("Content-Type", "application/json")
            .send(NOT_STARTED));
      }
      return serving.handle(request, response);
    });
  }

  /**
   * A clean stop: no new run is accepted (503) and, in PostgreSQL, none is claimed; the runs executing here get the
   * shutdown grace period to finish, then those left are handed over to the other processes (they continue from
   * their checkpoints there) or, in memory, cancelled; then the worker stops heartbeating and removes its row.
   */
  public Mono<Void> stop() {
    return drain().then(release());
  }

  /** The graph ids served (each an assistant). */
  public Set<String> graphIds() {
    Set<String> ids = new java.util.LinkedHashSet<>(graphs.keySet());
    ids.addAll(factories.keySet());
    return ids;
  }

  /** Whether threads, runs and their events are kept in PostgreSQL (shared by every process of the database). */
  public boolean sharesDatabase() {
    return probe != null;
  }

  /** The worker id this process's runs are recorded with, while started in PostgreSQL; empty else. */
  public Optional<String> workerId() {
    Worker self = worker;
    return self == null ? Optional.empty() : Optional.of(self.id());
  }

  /**
   * The API's health: up when it is started and, in PostgreSQL, the database answers and this process's worker holds
   * its lease; the details name the persistence, the worker, whether its lease holds and how many runs wait in the
   * queue. Never errors: a failure is a down health naming it. Cold.
   */
  public Mono<Health> health() {
    return Mono.defer(() -> {
      Map<String, Object> details = new LinkedHashMap<>();
      details.put("persistence", probe == null ? "memory" : "postgres");
      details.put("graphs", graphs.size() + factories.size());
      boolean started = api != null;
      PostgresProbe database = probe;
      if (database == null) {
        return Mono.just(new Health(started, started ? details : withReason(details, "not started")));
      }
      Worker self = worker;
      boolean leased = self != null && self.holds(self.id());
      if (self != null) {
        details.put("workerId", self.id());
      }
      details.put("leaseHeld", leased);
      return database.pendingRuns().timeout(Duration.ofSeconds(5))
          .map(pending -> {
            details.put("database", "reachable");
            details.put("queueDepth", pending);
            boolean up = started && leased;
            return new Health(up, up ? details
                : withReason(details, !started ? "not started" : "this process's worker does not hold its lease"));
          })
          .onErrorResume(error -> {
            details.put("database", "unreachable: " + (error.getMessage() == null ? error.getClass().getSimpleName()
                : error.getMessage()));
            return Mono.just(new Health(false, details));
          });
    });
  }

  private static Map<String, Object> withReason(Map<String, Object> details, String reason) {
    details.put("reason", reason);
    return details;
  }

  /**
   * The health of a {@link FluxgraphApi}.
   *
   * @param up      whether it serves: started and, in PostgreSQL, the database reachable and the lease held
   * @param details what was checked, by name: {@code persistence}, {@code graphs}, and in PostgreSQL
   *                {@code database}, {@code workerId}, {@code leaseHeld}, {@code queueDepth}; {@code reason} when down
   */
  public record Health(boolean up, Map<String, Object> details) {
    public Health {
      details = Map.copyOf(details);
    }
  }

  /** See {@link #stop}: lets the runs executing here finish within the grace period, then hands over the rest. */
  Mono<Integer> drain() {
    return Mono.defer(() -> {
      ServerApi serving = api;
      if (serving != null) {
        serving.stopCrons(); // a stopping process fires no more ticks: the others do
      }
      return serving == null ? Mono.just(0) : serving.drain(settings.shutdownGrace).onErrorResume(error -> Mono.just(0));
    });
  }

  /** Stops the shared runs' signals, the sweeper, then the worker (its lease ends, its row is removed). */
  Mono<Void> release() {
    return Mono.defer(() -> {
      ServerApi serving = api;
      if (serving != null) {
        serving.stopCrons();
      }
      SharedRuns all = sharedRuns;
      sharedRuns = null;
      Mono<Void> signals = all == null ? Mono.empty() : all.stop().onErrorResume(error -> Mono.empty());
      Sweeper sweeps = sweeper;
      sweeper = null;
      if (sweeps != null) {
        sweeps.stop();
      }
      Worker self = worker;
      worker = null;
      return signals.then(self == null ? Mono.empty() : self.stop());
    });
  }
}
