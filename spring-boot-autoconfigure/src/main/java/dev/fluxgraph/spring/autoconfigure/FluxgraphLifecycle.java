package dev.fluxgraph.spring.autoconfigure;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.postgres.PostgresStore;
import dev.fluxgraph.server.FluxgraphApi;
import dev.fluxgraph.store.Store;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import reactor.core.publisher.Mono;

/**
 * Starts and stops the {@link FluxgraphApi} with the application context: at start the schema (when
 * {@code fluxgraph.persistence.setup-schema}), then the API's run machinery (in PostgreSQL: the worker's lease, the
 * sweeper, the run queue); at stop a clean stop, whose runs still executing after the shutdown grace are handed over to
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
  private volatile boolean running;

  FluxgraphLifecycle(FluxgraphApi api, boolean setupSchema, @Nullable CheckpointSaver checkpointer,
                     @Nullable Store store) {
    this.api = api;
    this.setupSchema = setupSchema;
    this.checkpointer = checkpointer;
    this.store = store;
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
    LOG.info("Fluxgraph started: graphs {}, {}{}", api.graphIds().stream().sorted().toList(),
        api.sharesDatabase() ? "in PostgreSQL" : "in memory",
        api.workerId().map(id -> ", worker " + id).orElse(""));
  }

  @Override
  public void stop() {
    stop(() -> { });
  }

  @Override
  public void stop(Runnable callback) {
    running = false;
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
