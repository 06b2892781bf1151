package dev.fluxgraph.internal.server.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.internal.server.ServedAssistants;
import dev.fluxgraph.internal.server.ServedGraphs;
import dev.fluxgraph.internal.server.runs.CronScheduler;
import dev.fluxgraph.internal.server.runs.Ownership;
import dev.fluxgraph.internal.server.runs.RunLifecycle;
import dev.fluxgraph.internal.server.runs.SharedRuns;
import dev.fluxgraph.internal.server.storage.AssistantStore;
import dev.fluxgraph.internal.server.storage.InMemoryAssistantStore;
import dev.fluxgraph.internal.server.storage.PostgresAssistantStore;
import dev.fluxgraph.internal.server.runs.ThreadReaper;
import dev.fluxgraph.internal.server.storage.CronStore;
import dev.fluxgraph.internal.server.storage.InMemoryCronStore;
import dev.fluxgraph.internal.server.storage.RunStore;
import dev.fluxgraph.internal.server.storage.ThreadStore;
import dev.fluxgraph.server.ApiRequest;
import dev.fluxgraph.server.ApiResponse;
import dev.fluxgraph.store.InMemoryStore;
import dev.fluxgraph.store.Store;
import dev.fluxgraph.types.Durability;
import dev.fluxgraph.types.FluxgraphJson;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The HTTP endpoints of the LangGraph Server API (../shared/SERVER.md), one route class per resource: assistants,
 * threads, thread state and history, runs, the store, crons, and health, capabilities and the OpenAPI document. Every
 * handler answers JSON; refused requests get {@code {"detail": ...}} with a 4xx status and never a stack trace (see
 * {@link Http}).
 */
public final class ServerApi {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();

  private final Http http;
  private final Cors cors;
  private final AssistantRoutes assistants;
  private final GraphRoutes drawings;
  private final ThreadRoutes threads;
  private final StateRoutes state;
  private final RunRoutes runs;
  private final StoreRoutes store;
  private final CronRoutes crons;
  private final CronScheduler cronScheduler;
  private final ThreadReaper reaper;
  private final RunLifecycle lifecycle;
  private final ServedAssistants served;
  private final TruncateRoutes truncate;
  private final Routes routes;

  public ServerApi(Map<String, Entrypoint<?, ?>> graphs, ThreadStore threads, RunStore runStore,
                   CheckpointSaver checkpointer, @Nullable String apiKey, Cors cors) {
    this(graphs, threads, runStore, checkpointer, apiKey, cors, Ownership.NONE);
  }

  /** With {@code ownership}: the worker whose lease the runs of this process are written under. */
  public ServerApi(Map<String, Entrypoint<?, ?>> graphs, ThreadStore threads, RunStore runStore,
                   CheckpointSaver checkpointer, @Nullable String apiKey, Cors cors, Ownership ownership) {
    this(graphs, threads, runStore, checkpointer, apiKey, cors, ownership, null);
  }

  /**
   * With {@code shared}: the runs go through the run queue of the database, shared with the other server processes
   * ({@link SharedRuns}).
   */
  public ServerApi(Map<String, Entrypoint<?, ?>> graphs, ThreadStore threads, RunStore runStore,
                   CheckpointSaver checkpointer, @Nullable String apiKey, Cors cors, Ownership ownership,
                   @Nullable SharedRuns shared) {
    this(new ServedGraphs(graphs), threads, runStore, checkpointer, apiKey, cors, ownership, shared, null);
  }

  /**
   * With graph factories among the graphs ({@link ServedGraphs}) and {@code durability}: that of runs whose request
   * names none (null: each graph's own).
   */
  public ServerApi(ServedGraphs served, ThreadStore threads, RunStore runStore,
                   CheckpointSaver checkpointer, @Nullable String apiKey, Cors cors, Ownership ownership,
                   @Nullable SharedRuns shared, @Nullable Durability durability) {
    this(served, threads, runStore, new InMemoryAssistantStore(), checkpointer, apiKey, cors, ownership, shared,
        durability, new InMemoryStore(), new InMemoryCronStore());
  }

  /**
   * With {@code assistantStore}, where the assistants are kept (in memory, or in PostgreSQL); {@code store}, the store
   * of the store API (the one the graphs get); and {@code crons}, where the crons are kept (in PostgreSQL: fired
   * through the run queue, see {@link CronScheduler}).
   */
  public ServerApi(ServedGraphs served, ThreadStore threads, RunStore runStore, AssistantStore assistantStore,
                   CheckpointSaver checkpointer, @Nullable String apiKey, Cors cors, Ownership ownership,
                   @Nullable SharedRuns shared, @Nullable Durability durability, Store store, CronStore crons) {
    RunLifecycle lifecycle = new RunLifecycle(served, threads, runStore, checkpointer, ownership);
    ServedAssistants assistants = new ServedAssistants(assistantStore, served, Clock.systemUTC());
    RunRequests requests = new RunRequests(served, assistants, durability);
    if (shared != null) {
      lifecycle.share(shared, requests::parse);
      if (assistantStore instanceof PostgresAssistantStore) {
        assistants.cacheForRuns(); // the shared queue's record checks the assistant's version in the same database
      }
    }
    this.lifecycle = lifecycle;
    this.http = new Http(apiKey);
    this.cors = cors;
    this.assistants = new AssistantRoutes(http, assistants, threads, lifecycle, Clock.systemUTC());
    this.drawings = new GraphRoutes(http, served, assistants);
    this.threads = new ThreadRoutes(http, served, threads, lifecycle, crons);
    this.state = new StateRoutes(http, served, threads);
    this.runs = new RunRoutes(http, threads, lifecycle, requests);
    this.store = new StoreRoutes(http, store);
    this.crons = new CronRoutes(http, crons, threads, requests::parseNew, Clock.systemUTC());
    this.cronScheduler = new CronScheduler(crons, threads, requests::parseNew, lifecycle, Clock.systemUTC(),
        CronScheduler.DEFAULT_PERIOD);
    this.reaper = new ThreadReaper(threads, crons, lifecycle, Clock.systemUTC(), ThreadReaper.DEFAULT_PERIOD);
    this.served = assistants;
    this.truncate = new TruncateRoutes(http, threads, lifecycle, crons, assistantStore, store);
    this.routes = routes();
  }

  /**
   * Starts firing the crons that are due ({@link CronScheduler}) and deleting the threads whose time to live passed
   * ({@link ThreadReaper}); once, after the run machinery started.
   */
  public void startCrons() {
    cronScheduler.start();
    reaper.start();
  }

  /** Serves {@code POST /internal/truncate} (see {@link TruncateRoutes}); before the first request. */
  public void enableTruncate() {
    truncate.enable();
  }

  /**
   * The config of the graphs' own assistants, by graph id, as the reference's per-graph config: a run config
   * ({@code configurable}, {@code recursion_limit}, {@code tags}, {@code run_name}, {@code metadata}) whose
   * {@code context} field, if any, is the assistant's context. Before the first request.
   *
   * @throws IllegalArgumentException naming the graph and the problem, for a graph not served here or a config an
   *                                  assistant could not have
   */
  public void graphConfigs(Map<String, Map<String, Object>> byGraph) {
    Map<String, ServedAssistants.Defaults> defaults = new LinkedHashMap<>();
    byGraph.forEach((graphId, given) -> {
      Map<String, Object> config = new LinkedHashMap<>(given);
      Object context = config.remove("context");
      if (context != null && !(context instanceof Map<?, ?>)) {
        throw new IllegalArgumentException("the config of graph '" + graphId + "': context must be an object");
      }
      try {
        RunRequests.settings(JSON.valueToTree(config), "config");
      } catch (HttpProblem problem) {
        throw new IllegalArgumentException("the config of graph '" + graphId + "': " + problem.getMessage(), problem);
      }
      Map<String, Object> contextValues = new LinkedHashMap<>();
      if (context != null) {
        ((Map<?, ?>) context).forEach((key, value) -> contextValues.put(String.valueOf(key), value));
      }
      defaults.put(graphId, new ServedAssistants.Defaults(config, contextValues));
    });
    served.defaults(defaults);
  }

  /** Stops firing crons and deleting expired threads. */
  public void stopCrons() {
    cronScheduler.stop();
    reaper.stop();
  }

  /** Whether this process may still write the run with that id (its checkpoints): see {@link RunLifecycle#mayWrite}. */
  public boolean mayWrite(String runId) {
    return lifecycle.mayWrite(runId);
  }

  /** Whether this process may still write the thread's task results: see {@link RunLifecycle#mayWriteThread}. */
  public boolean mayWriteThread(String threadId) {
    return lifecycle.mayWriteThread(threadId);
  }

  /** A clean stop: see {@link RunLifecycle#drain}. */
  public Mono<Integer> drain(Duration grace) {
    return lifecycle.drain(grace);
  }

  /**
   * Answers one request, in any host: the CORS policy first (it answers preflights, before authentication), then the
   * routes. {@code request.uri()} is relative to where the API is mounted.
   */
  public Mono<Void> handle(ApiRequest request, ApiResponse response) {
    return cors.filter(new Request(request, Map.of()), response, (passed, answer) -> routes.handle(request, answer));
  }

  /** {@link #handle} on Reactor Netty: the handler of {@code FluxgraphServer}'s {@code HttpServer}. */
  public BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> handler() {
    return (request, response) -> handle(ReactorNettyHost.request(request), ReactorNettyHost.response(response));
  }

  private Routes routes() {
    Routes routes = new Routes();
    // Routes are tried in order, each a whole-path template match (no two overlap): the hot ones first.
    runs.register(routes);
    threads.register(routes);
    state.register(routes);
    MetaRoutes.register(routes);
    assistants.register(routes);
    drawings.register(routes);
    store.register(routes);
    crons.register(routes);
    truncate.register(routes);
    // anything else: a JSON 404 rather than the host's empty one
    return routes.route(request -> true, (request, response) -> http.guarded(request, response, body -> Mono.error(
        HttpProblem.notFound("route " + request.method() + " " + request.path()))));
  }
}
