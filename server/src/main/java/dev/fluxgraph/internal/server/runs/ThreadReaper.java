package dev.fluxgraph.internal.server.runs;

import dev.fluxgraph.internal.server.storage.CronStore;
import dev.fluxgraph.internal.server.storage.ThreadStore;
import java.time.Clock;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Deletes the threads whose time to live passed ({@code threads.create} with {@code ttl}), as
 * {@code DELETE /threads/{id}} does (runs, checkpoints, crons), every {@code period} give or take a quarter, on its
 * own scheduler; every process runs one (two deleting one thread is harmless: the second finds nothing). A busy
 * thread waits for its run to end.
 */
public final class ThreadReaper {

  private static final Logger LOG = LoggerFactory.getLogger(ThreadReaper.class);
  /** The default period between looks for expired threads. */
  public static final Duration DEFAULT_PERIOD = Duration.ofSeconds(1);
  private static final int BATCH = 100;

  private final ThreadStore threads;
  private final CronStore crons;
  private final RunLifecycle lifecycle;
  private final Clock clock;
  private final Duration period;
  private final Scheduler scheduler = Schedulers.newSingle("fluxgraph-thread-ttl", true);
  private volatile @Nullable Disposable passes;

  public ThreadReaper(ThreadStore threads, CronStore crons, RunLifecycle lifecycle, Clock clock, Duration period) {
    this.threads = threads;
    this.crons = crons;
    this.lifecycle = lifecycle;
    this.clock = clock;
    this.period = period;
  }

  /** Looks for expired threads every period until {@link #stop}. */
  public void start() {
    passes = Periodic.every(period, scheduler, this::reap, LOG, "delete the expired threads");
  }

  public void stop() {
    Disposable running = passes;
    if (running != null) {
      running.dispose();
    }
    scheduler.dispose();
  }

  /** One pass: deletes the threads whose time to live passed; emits how many. */
  public Mono<Long> reap() {
    return threads.expired(clock.instant(), BATCH)
        .concatMap(threadId -> lifecycle.deleteThread(threadId)
            .flatMap(existed -> crons.deleteThread(threadId).thenReturn(existed)))
        .filter(existed -> existed)
        .count()
        .doOnNext(deleted -> {
          if (deleted > 0) {
            LOG.info("deleted {} thread(s) whose time to live passed", deleted);
          }
        });
  }
}
