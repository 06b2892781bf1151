package dev.fluxgraph.spring.autoconfigure;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.postgres.PostgresSaver.Retention;
import dev.fluxgraph.postgres.PostgresStore;
import dev.fluxgraph.server.FluxgraphApi;
import dev.fluxgraph.store.Store;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Starts and stops the {@link FluxgraphApi} with the application context: at start the schema (when
 * {@code fluxgraph.persistence.setup-schema}), then the API's run machinery (in PostgreSQL: the worker's lease, the
 * sweeper, the run queue) and, when {@code fluxgraph.retention.checkpoints} says so, the periodic pruning of old
 * checkpoints; at stop a clean stop, whose runs still executing after the shutdown grace are handed over to
 * the other processes. Its phase puts it before the web server at start (no request finds the API unstarted) and
 * after it at stop (the web server's graceful shutdown lets the open requests finish first).
 */
public final class FluxgraphLifecycle implements SmartLifecycle {

  /** Before the web server's start (its phase is {@code DEFAULT_PHASE - 2048}), after its stop. */
  public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;
  private static final Duration START_TIMEOUT = Duration.ofMinutes(2);
  private static final Logger LOG = LoggerFactory.getLogger(FluxgraphLifecycle.class);

  private final FluxgraphApi api;
  private final boolean setupSchema;
  private final @Nullable CheckpointSaver checkpointer;
  private final @Nullable Store store;
  private final FluxgraphProperties.Checkpoints retention;
  private volatile boolean running;
  private volatile @Nullable Disposable pruning;

  FluxgraphLifecycle(FluxgraphApi api, boolean setupSchema, @Nullable CheckpointSaver checkpointer,
                     @Nullable Store store, FluxgraphProperties.Checkpoints retention) {
    this.api = api;
    this.setupSchema = setupSchema;
    this.checkpointer = checkpointer;
    this.store = store;
    this.retention = retention;
  }

  @Override
  public void start() {
    Mono<Void> schema = Mono.empty();
    if (setupSchema && checkpointer instanceof PostgresSaver postgres) {
      schema = schema.then(postgres.setup());
    }
    if (setupSchema && store instanceof PostgresStore postgres) {
      schema = schema.then(postgres.setup());
    }
    // Lifecycle.start is synchronous: the context is started (and the web server starts) once the API is
    schema.then(api.start()).block(START_TIMEOUT);
    running = true;
    startPruning();
    LOG.info("Fluxgraph started: graphs {}, {}{}", api.graphIds().stream().sorted().toList(),
        api.sharesDatabase() ? "in PostgreSQL" : "in memory",
        api.workerId().map(id -> ", worker " + id).orElse(""));
  }

  @Override
  public void stop() {
    stop(() -> { });
  }

  /** Prunes old checkpoints every interval, when a rule is set and they are in PostgreSQL. */
  private void startPruning() {
    Retention rule = retention.keepLatest() != null ? Retention.keepLatest(retention.keepLatest())
        : retention.olderThan() != null ? Retention.olderThan(retention.olderThan()) : null;
    if (rule == null || !(checkpointer instanceof PostgresSaver postgres)) {
      return;
    }
    // one pass at a time (a slow pass delays the next), a failed pass is logged and the next one tried
    pruning = Flux.interval(retention.interval(), retention.interval()).onBackpressureDrop()
        .concatMap(tick -> postgres.pruneCounting(rule)
            .doOnNext(deleted -> LOG.debug("pruned {} checkpoints ({})", deleted, rule))
            .onErrorResume(error -> {
              LOG.warn("pruning checkpoints failed, trying again in {}: {}", retention.interval(), error.toString());
              return Mono.empty();
            }), 1)
        .subscribe();
  }

  @Override
  public void stop(Runnable callback) {
    running = false;
    Disposable pass = pruning;
    if (pass != null) {
      pass.dispose();
    }
    api.stop().subscribe(null, error -> {
      LOG.warn("Fluxgraph did not stop cleanly: {}", error.toString());
      callback.run();
    }, callback);
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  @Override
  public int getPhase() {
    return PHASE;
  }
}
