package dev.fluxgraph.internal.server.runs;

import dev.fluxgraph.internal.server.Durations;
import dev.fluxgraph.internal.server.storage.PostgresEventStore;
import dev.fluxgraph.internal.server.storage.PostgresWorkerStore;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Takes back the runs of server processes that stopped (their worker's lease expired, or their owner is unknown) and
 * puts them back in the queue, where a live process claims them and resumes them from their checkpoints (after
 * {@code maxAttempts} executions a run ends {@code error} instead: see {@code PostgresWorkerStore}), every
 * {@code period} give or take a quarter (jittered, so that the processes of one database do not sweep in step), on its
 * own scheduler; every process runs one, and the first pass runs at start, before the port is bound. Worker rows whose
 * lease expired more than {@code keepExpired} ago are deleted, and so are the kept events of runs that ended more than
 * {@code eventsRetention} ago.
 */
public final class Sweeper {

  private static final Logger LOG = LoggerFactory.getLogger(Sweeper.class);

  private final PostgresWorkerStore store;
  private final Duration period;
  private final Duration grace;
  private final Duration keepExpired;
  private final int maxAttempts;
  private final @Nullable PostgresEventStore events;
  private final Duration eventsRetention;
  private final Scheduler scheduler = Schedulers.newSingle("fluxgraph-sweeper", true);
  private @Nullable Disposable sweeps;

  /**
   * @param grace how long a thread may be busy with no unfinished run of a live worker before it is repaired (the
   *              lease TTL)
   */
  public Sweeper(PostgresWorkerStore store, Duration period, Duration grace, Duration keepExpired) {
    this(store, period, grace, keepExpired, DEFAULT_MAX_ATTEMPTS, null, Duration.ofHours(1));
  }

  /**
   * @param maxAttempts     how many executions a run gets before a lost one ends {@code error}
   * @param events          the runs' kept events, deleted {@code eventsRetention} after their run ended; or null
   */
  public Sweeper(PostgresWorkerStore store, Duration period, Duration grace, Duration keepExpired, int maxAttempts,
                 @Nullable PostgresEventStore events, Duration eventsRetention) {
    this.store = store;
    this.period = period;
    this.grace = grace;
    this.keepExpired = keepExpired;
    this.maxAttempts = maxAttempts;
    this.events = events;
    this.eventsRetention = eventsRetention;
  }

  /** The default of max attempts: a run that kills its process three times is not tried a fourth. */
  public static final int DEFAULT_MAX_ATTEMPTS = 3;
  /** The backoff of a re-queued run per earlier attempt beyond the first (the first take-over is immediate). */
  static final Duration BACKOFF = Duration.ofSeconds(1);
  /** How long after a lease's expiry the pass that may take its runs over runs. */
  private static final Duration EXPIRY_MARGIN = Duration.ofMillis(50);

  /**
   * One pass: re-queues (or, out of attempts, ends) the runs of stopped processes and repairs their threads, then
   * forgets expired workers and events; emits what it did.
   */
  public Mono<PostgresWorkerStore.Swept> sweep() {
    PostgresEventStore kept = events;
    return store.sweep(grace, maxAttempts, BACKOFF)
        .flatMap(swept -> store.deleteExpired(keepExpired).thenReturn(swept))
        .flatMap(swept -> kept == null ? Mono.just(swept) : kept.deleteExpired(eventsRetention).thenReturn(swept))
        .doOnNext(swept -> {
          if (swept.requeued() > 0) {
            LOG.info("took over {} run(s) of stopped server processes: queued again, to resume from their checkpoints",
                swept.requeued());
          }
          if (swept.ended() > 0) {
            LOG.warn("ended {} run(s) of stopped server processes as error: out of attempts ({} thread(s) repaired)",
                swept.ended(), swept.threads());
          }
        });
  }

  /** Sweeps now, then periodically until {@link #stop}. Cold: completes after the first pass. */
  public Mono<Void> start() {
    return sweep().doOnSuccess(first -> sweeps = Mono.defer(() -> nextPass().flatMap(wait -> Mono.delay(wait,
            scheduler)))
        .then(Mono.defer(this::sweep).onErrorResume(error -> {
          LOG.warn("could not sweep the runs of stopped server processes: {}", error.toString());
          return Mono.empty();
        }))
        .repeat()
        .subscribe()).then();
  }

  /**
   * How long until the next pass: the period (jittered), or sooner, just after the earliest lease of a worker that owns
   * running runs expires (unless it is renewed meanwhile), so that the runs of a process that died are taken over
   * about when its lease ends rather than up to a period later.
   */
  private Mono<Duration> nextPass() {
    Duration periodic = Durations.jittered(period);
    return store.untilEarliestExpiry()
        .map(millis -> {
          Duration soon = Duration.ofMillis(Math.max(0, millis) + EXPIRY_MARGIN.toMillis());
          return soon.compareTo(periodic) < 0 ? soon : periodic;
        })
        .defaultIfEmpty(periodic)
        .onErrorReturn(periodic);
  }

  public void stop() {
    Disposable running = sweeps;
    if (running != null) {
      running.dispose();
    }
    scheduler.dispose();
  }
}
