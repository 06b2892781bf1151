package dev.fluxgraph.internal.server.runs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.internal.server.storage.CronStore;
import dev.fluxgraph.internal.server.storage.CronStore.CronRecord;
import dev.fluxgraph.internal.server.storage.ThreadStore;
import dev.fluxgraph.types.FluxgraphJson;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BiFunction;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Fires the crons that are due, every {@code period} give or take a quarter, on its own scheduler; every process runs
 * one. Each due cron's tick is fired through {@link CronStore#fire}, a compare-and-set on its next run, so a tick fires
 * once however many processes see it: in PostgreSQL that statement also records the tick's run in the run queue, where
 * any process claims it; in memory the winner starts the run in the background. Ticks missed while no process ran
 * (or while the cron was disabled) fire once, not once each: the next run is the schedule's first time after now.
 * A tick whose run is refused (its graph is gone, its thread is busy under {@code multitask_strategy: reject}) is
 * logged and skipped; the cron goes on.
 */
public final class CronScheduler {

  private static final Logger LOG = LoggerFactory.getLogger(CronScheduler.class);
  /** The default period between looks for due crons: crons are per minute, or per second with six fields. */
  public static final Duration DEFAULT_PERIOD = Duration.ofSeconds(1);
  private static final int BATCH = 100;

  private final CronStore store;
  private final ThreadStore threads;
  private final BiFunction<JsonNode, Boolean, Mono<RunRequest>> requests;
  private final RunLifecycle lifecycle;
  private final Clock clock;
  private final Duration period;
  private final Scheduler scheduler = Schedulers.newSingle("fluxgraph-crons", true);
  private volatile @Nullable Disposable ticks;
  /** Whether the last look failed (its failure was logged). */

  /**
   * @param requests parses a run body (and whether it is stateless) as a new run's request is, its assistant's
   *                 defaults merged in, for the ticks' runs
   */
  public CronScheduler(CronStore store, ThreadStore threads, BiFunction<JsonNode, Boolean, Mono<RunRequest>> requests,
                       RunLifecycle lifecycle, Clock clock, Duration period) {
    this.store = store;
    this.threads = threads;
    this.requests = requests;
    this.lifecycle = lifecycle;
    this.clock = clock;
    this.period = period;
  }

  /** Looks for due crons every period until {@link #stop}. */
  public void start() {
    ticks = Periodic.every(period, scheduler, this::fireDue, LOG, "fire the due crons");
  }

  public void stop() {
    Disposable running = ticks;
    if (running != null) {
      running.dispose();
    }
    scheduler.dispose();
  }

  /** One look: fires every due cron's tick (those another process fires first are skipped); emits how many fired. */
  public Mono<Long> fireDue() {
    return Mono.defer(() -> {
      Instant now = clock.instant();
      return store.due(now, BATCH).concatMap(cron -> fire(cron, now).onErrorResume(error -> {
        LOG.warn("could not fire cron {}: {}", cron.cronId(), error.toString());
        return Mono.just(false);
      })).filter(fired -> fired).count();
    });
  }

  private Mono<Boolean> fire(CronRecord cron, Instant now) {
    String onThread = cron.threadId();
    if (onThread == null) {
      return fireTick(cron, now);
    }
    // a thread deleted by any process (or any way) takes its crons along, at the latest when they are due
    return threads.get(onThread).hasElement().flatMap(exists -> exists ? fireTick(cron, now)
        : store.delete(cron.cronId()).doOnNext(deleted -> LOG.info("deleted cron {}: its thread {} is gone",
            cron.cronId(), onThread)).thenReturn(false));
  }

  /**
   * Fires one tick: its run's request is parsed as a new run's is, so the run gets its assistant's current defaults
   * (config, context, metadata) merged under the cron's; a request refused (422/404) uses the tick up without a run,
   * any other failure (the database) leaves the tick due for the next look.
   */
  private Mono<Boolean> fireTick(CronRecord cron, Instant now) {
    Instant next = CronSchedule.parse(cron.schedule()).nextAfter(now, cron.endTime());
    boolean stateless = cron.threadId() == null;
    JsonNode body = body(cron);
    String threadId = stateless ? UUID.randomUUID().toString() : Objects.requireNonNull(cron.threadId());
    return Mono.defer(() -> requests.apply(body, stateless)).map(Optional::of)
        .onErrorResume(HttpProblem.class, refused -> {
          // the tick is used up all the same: a cron whose request no longer parses must not fire again every second
          LOG.warn("cron {} skipped its run at {}: its request is refused: {}", cron.cronId(), cron.nextRunAt(),
              refused.getMessage());
          return Mono.just(Optional.empty());
        })
        .flatMap(parsed -> parsed.isEmpty() ? store.fire(cron, next, null).thenReturn(false)
            : fireRun(cron, next, threadId, stateless, parsed.get()));
  }

  private Mono<Boolean> fireRun(CronRecord cron, Instant next, String threadId, boolean stateless,
                                RunRequest request) {
    ObjectNode recorded = FluxgraphJson.mapper().createObjectNode();
    recorded.set("body", request.body()); // with the assistant's defaults, as a run request's record keeps it
    recorded.put("stateless", stateless);
    CronStore.TickRun run = new CronStore.TickRun(UUID.randomUUID().toString(), threadId, request.assistantId(),
        request.metadata(), request.multitaskStrategy(), recorded);
    return store.fire(cron, next, run).flatMap(fired -> {
      if (!fired || store.recordsRuns()) {
        return Mono.just(fired);
      }
      return lifecycle.background(threadId, request).thenReturn(true).onErrorResume(error -> {
        LOG.warn("cron {} skipped its run at {}: {}", cron.cronId(), cron.nextRunAt(), error.getMessage());
        return Mono.just(true);
      });
    });
  }

  /** The run body of a tick: the cron's payload, and for a stateless cron what becomes of its thread. */
  static JsonNode body(CronRecord cron) {
    ObjectNode body = cron.payload().deepCopy();
    body.put("assistant_id", cron.assistantId());
    if (cron.threadId() == null) {
      body.put("on_completion", Objects.requireNonNullElse(cron.onRunCompleted(), "delete"));
    }
    return body;
  }
}
