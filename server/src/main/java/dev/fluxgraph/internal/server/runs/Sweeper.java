package dev.fluxgraph.internal.server.runs;

import dev.fluxgraph.internal.server.storage.PostgresWorkerStore;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Ends the runs of server processes that stopped (their worker's lease expired, or their owner is unknown), every
 * {@code period} give or take a quarter (jittered, so that the processes of one database do not sweep in step), on its
 * own scheduler; every process runs one, and the first pass runs at start, before the port is bound. Worker rows whose
 * lease expired more than {@code keepExpired} ago are deleted.
 *
 * <p>The next step (resuming orphaned runs from their checkpoint) replaces "end as error" in
 * {@code PostgresWorkerStore.SWEEP} by a re-queue (owner null, attempt + 1, status pending) and adds the claim.
 */
public final class Sweeper {

  private static final Logger LOG = LoggerFactory.getLogger(Sweeper.class);

  private final PostgresWorkerStore store;
  private final Duration period;
  private final Duration grace;
  private final Duration keepExpired;
  private final Scheduler scheduler = Schedulers.newSingle("fluxgraph-sweeper", true);
  private @Nullable Disposable sweeps;

  /**
   * @param grace how long a thread may be busy with no unfinished run of a live worker before it is repaired (the
   *              lease TTL)
   */
  public Sweeper(PostgresWorkerStore store, Duration period, Duration grace, Duration keepExpired) {
    this.store = store;
    this.period = period;
    this.grace = grace;
    this.keepExpired = keepExpired;
  }

  /** One pass: ends the runs of stopped processes and repairs their threads; emits what it did. */
  public Mono<PostgresWorkerStore.Swept> sweep() {
    return store.sweep(grace).flatMap(swept -> store.deleteExpired(keepExpired).thenReturn(swept))
        .doOnNext(swept -> {
          if (swept.runs() > 0) {
            LOG.info("ended {} run(s) of stopped server processes as error ({} thread(s) repaired)", swept.runs(),
                swept.threads());
          }
        });
  }

  /** Sweeps now, then periodically until {@link #stop}. Cold: completes after the first pass. */
  public Mono<Void> start() {
    return sweep().doOnSuccess(first -> sweeps = Mono.defer(() -> Mono.delay(jittered(), scheduler))
        .then(Mono.defer(this::sweep).onErrorResume(error -> {
          LOG.warn("could not sweep the runs of stopped server processes: {}", error.toString());
          return Mono.empty();
        }))
        .repeat()
        .subscribe()).then();
  }

  private Duration jittered() {
    long millis = period.toMillis();
    return Duration.ofMillis(millis * 3 / 4 + ThreadLocalRandom.current().nextLong(millis / 2 + 1));
  }

  public void stop() {
    Disposable running = sweeps;
    if (running != null) {
      running.dispose();
    }
    scheduler.dispose();
  }
}
