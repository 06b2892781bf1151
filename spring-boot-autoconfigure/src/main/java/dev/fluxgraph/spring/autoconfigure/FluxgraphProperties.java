package dev.fluxgraph.spring.autoconfigure;

import dev.fluxgraph.types.Durability;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.boot.context.properties.bind.Name;

/**
 * Fluxgraph's settings, under {@code fluxgraph}.
 *
 * @param persistence where checkpoints, the store, threads and runs are kept: {@code auto} (PostgreSQL on the
 *                    application's R2DBC ConnectionFactory when there is one, else in memory), {@code postgres}
 *                    (fails at start without a ConnectionFactory) or {@code memory}
 * @param setupSchema whether the tables are created or upgraded at start (idempotent); off when the schema is managed
 *                    elsewhere, and then the tables must exist
 * @param durability  the durability of runs whose request names none ({@code sync}, {@code async} or {@code exit});
 *                    unset: each graph's own ({@code async} unless it set one)
 * @param server      the LangGraph Server API served by the application
 * @param workers     this process's worker: its lease on its runs (PostgreSQL)
 * @param retention   how long what runs leave behind is kept
 */
@ConfigurationProperties("fluxgraph")
public record FluxgraphProperties(@DefaultValue("auto") Persistence persistence,
                                  @Name("persistence.setup-schema") @DefaultValue("true") boolean setupSchema,
                                  @Nullable Durability durability,
                                  @DefaultValue Server server,
                                  @DefaultValue Workers workers,
                                  @DefaultValue Retention retention) {

  public FluxgraphProperties {
    Objects.requireNonNull(persistence, "fluxgraph.persistence must not be null");
  }

  /** Where Fluxgraph keeps its data. */
  public enum Persistence {
    /** PostgreSQL on the application's R2DBC ConnectionFactory when there is one, else in memory (with a warning). */
    AUTO,
    /** PostgreSQL on the application's R2DBC ConnectionFactory; start fails without one. */
    POSTGRES,
    /** In memory: lost at every restart, not shared between processes. */
    MEMORY
  }

  /**
   * The LangGraph Server API served by the application (WebFlux).
   *
   * @param enabled  whether the API's routes are served (when the application is a reactive web application)
   * @param basePath the path the API is served under: the JS client's {@code apiUrl} is
   *                 {@code http://host:port} followed by it
   * @param apiKey   a key every request but {@code GET /ok}, {@code GET /info} and CORS preflights must carry in
   *                 {@code x-api-key}; unset: none (use Spring Security to protect the routes)
   * @param cors     Fluxgraph's own CORS policy for the routes
   */
  public record Server(@DefaultValue("true") boolean enabled, @DefaultValue("/fluxgraph") String basePath,
                       @Nullable String apiKey, @DefaultValue Cors cors) {
    public Server {
      if (!basePath.startsWith("/") || basePath.length() > 1 && basePath.endsWith("/") || basePath.contains("*")
          || basePath.contains("{")) {
        throw new IllegalArgumentException("fluxgraph.server.base-path must start with '/', not end with one and"
            + " hold no pattern, was '" + basePath + "'");
      }
    }
  }

  /**
   * Fluxgraph's own CORS policy for the API's routes (that of the standalone server).
   *
   * @param allowedOrigins the browser origins whose pages may call the API: {@code *} for any, else exact origins
   *                       such as {@code http://localhost:3000}; requests from others are refused with 403. Empty
   *                       (default): Fluxgraph applies no policy of its own, the application's CORS configuration
   *                       (WebFlux, Spring Security) does
   */
  public record Cors(@DefaultValue List<String> allowedOrigins) {
  }

  /**
   * This process's worker: with PostgreSQL, every process of the database runs queued runs under a lease it renews.
   *
   * @param leaseTtl          how long the lease lasts without a heartbeat: a process that stopped has its runs
   *                          taken over by another one about this long after its last heartbeat; at least 1s
   * @param heartbeatInterval how often the lease is renewed (at most a third of the lease TTL); unset: 5s, or a third
   *                          of a lease TTL shorter than 15s
   * @param idPrefix          the start of the worker id, which a random part completes; unset: {@code fluxgraph-<pid>}
   * @param maxAttempts       how many executions a run gets when the processes executing it stop (1 to 100)
   * @param shutdownGrace     how long a stopping application lets the runs executing in it finish before it hands them
   *                          over to the other processes (or, in memory, cancels them)
   */
  public record Workers(@DefaultValue("30s") Duration leaseTtl, @Nullable Duration heartbeatInterval,
                        @Nullable String idPrefix, @DefaultValue("3") int maxAttempts,
                        @DefaultValue("30s") Duration shutdownGrace) {
  }

  /**
   * How long what runs leave behind is kept.
   *
   * @param events      how long a finished run's events are kept in the database, for joinStream from any process and
   *                    after a restart (PostgreSQL); at least 1s
   * @param checkpoints which checkpoints are pruned, and how often (PostgreSQL)
   */
  public record Retention(@DefaultValue("1h") Duration events, @DefaultValue Checkpoints checkpoints) {
  }

  /**
   * Pruning of old checkpoints (PostgreSQL): the newest checkpoint of every thread is always kept, so paused and
   * failed runs can still continue; what goes is history (time travel, {@code getHistory}). Off unless one of
   * {@code keep-latest} and {@code older-than} is set.
   *
   * @param keepLatest how many checkpoints to keep per thread (at least 1)
   * @param olderThan  the age beyond which checkpoints are deleted
   * @param interval   how often the pruning runs, from the start on
   */
  public record Checkpoints(@Nullable Integer keepLatest, @Nullable Duration olderThan,
                            @DefaultValue("1h") Duration interval) {
    public Checkpoints {
      if (keepLatest != null && olderThan != null) {
        throw new IllegalArgumentException("set one of fluxgraph.retention.checkpoints.keep-latest and"
            + " fluxgraph.retention.checkpoints.older-than, not both");
      }
      if (keepLatest != null && keepLatest < 1) {
        throw new IllegalArgumentException("fluxgraph.retention.checkpoints.keep-latest must be at least 1, was "
            + keepLatest);
      }
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("fluxgraph.retention.checkpoints.interval must be positive, was "
            + interval);
      }
    }
  }
}
