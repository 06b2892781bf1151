package dev.fluxgraph.internal.server.runs;

import dev.fluxgraph.internal.server.Durations;
import dev.fluxgraph.internal.server.storage.PostgresWorkerStore;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * This process as a worker of the shared database: a fresh id per start ({@code <prefix>-<random>}, never reused),
 * registered with a lease of {@code ttl} that a heartbeat renews every {@code heartbeat} on its own scheduler (not the
 * request or event-loop threads), with the database's clock.
 *
 * <p>Fencing: the lease is taken to end {@code ttl} after the renewal that extended it was <em>sent</em> (by this
 * JVM's monotonic clock, which keeps counting while the process is stopped), which is never later than the end the
 * database recorded. Past that point {@link #holds} is false, so no write of the runs it owned is sent (and the
 * database refuses one already in flight: see {@code PostgresRunStore}); at the next tick the worker fences itself:
 * it cancels its runs locally ({@code onFenced}), writing nothing for them, and registers a fresh id for the runs it
 * accepts from then on. A renewal that finds its lease expired (a sweeper may have ended its runs) is never revived.
 */
public final class Worker implements Ownership {

  private static final Logger LOG = LoggerFactory.getLogger(Worker.class);

  private final PostgresWorkerStore store;
  private final String prefix;
  private final Duration ttl;
  private final Duration heartbeat;
  private final Scheduler scheduler;
  private volatile String id;
  /** System.nanoTime() at which the lease of {@link #id} ends by this process's clock; never held before. */
  private volatile long leaseEnd;
  private volatile boolean registered;
  private volatile Consumer<String> onFenced = lost -> {
  };
  private @Nullable Disposable beats;

  public Worker(PostgresWorkerStore store, String prefix, Duration ttl, Duration heartbeat) {
    this.store = Objects.requireNonNull(store);
    this.prefix = prefix;
    this.ttl = ttl;
    this.heartbeat = heartbeat;
    this.scheduler = Schedulers.newSingle("fluxgraph-heartbeat", true);
    this.id = freshId();
  }

  private String freshId() {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 12);
  }

  /** What is done with the runs of a lost lease (given its worker id): the run registry cancels them locally. */
  void onFenced(Consumer<String> action) {
    this.onFenced = action;
  }

  /** The current worker id. */
  public String id() {
    return id;
  }

  public Duration ttl() {
    return ttl;
  }

  public Duration heartbeat() {
    return heartbeat;
  }

  @Override
  public @Nullable String owner() {
    return id;
  }

  @Override
  public boolean holds(@Nullable String owner) {
    return registered && id.equals(owner) && System.nanoTime() - leaseEnd < 0;
  }

  /** Registers the worker, then heartbeats until {@link #stop}. Cold. */
  public Mono<Void> start() {
    return register(id).doOnSuccess(done -> {
      beats = Flux.interval(heartbeat, heartbeat, scheduler).onBackpressureDrop()
          .concatMap(tick -> beat(), 1)
          .subscribe(null, error -> LOG.error("the heartbeat of worker {} stopped: {}", id, error.toString()));
      LOG.info("worker {} registered (lease {}, heartbeat every {})", id, Durations.format(ttl),
          Durations.format(heartbeat));
    });
  }

  private Mono<Void> register(String workerId) {
    return Mono.defer(() -> {
      long sent = System.nanoTime();
      return store.register(workerId, ttl).doOnSuccess(done -> {
        leaseEnd = sent + ttl.toNanos();
        registered = true;
      });
    });
  }

  /** One heartbeat: renews the lease, or fences the worker when it is lost (expired here or in the database). */
  private Mono<Void> beat() {
    String current = id;
    if (!holds(current)) {
      return fence(current, "its lease ran out before it could be renewed");
    }
    long sent = System.nanoTime();
    return store.renew(current, ttl)
        .timeout(ttl, scheduler)
        .flatMap(renewed -> {
          if (!renewed) {
            return fence(current, "the database holds its lease as expired");
          }
          if (current.equals(id)) {
            leaseEnd = sent + ttl.toNanos();
          }
          return Mono.<Void>empty();
        })
        .onErrorResume(error -> {
          LOG.warn("worker {} could not renew its lease: {}", current, error.toString());
          return Mono.empty(); // tried again at the next tick; fenced there when the lease ran out meanwhile
        });
  }

  /** Gives up the runs of {@code lost}, then registers a fresh id for new runs (retried at the next ticks). */
  private Mono<Void> fence(String lost, String why) {
    return Mono.defer(() -> {
      if (lost.equals(id) && registered) {
        registered = false;
        LOG.warn("worker {} lost its lease ({}): its runs are cancelled here and left to the other processes",
            lost, why);
        onFenced.accept(lost);
        id = freshId();
      }
      String next = id;
      return register(next)
          .doOnSuccess(done -> LOG.info("worker {} registered in place of {}", next, lost))
          .onErrorResume(error -> {
            LOG.warn("worker {} could not register: {}", next, error.toString());
            return Mono.empty();
          });
    });
  }

  /** Stops heartbeating and removes the worker's row (a clean stop); a failure to remove it is logged. */
  public Mono<Void> stop() {
    return Mono.defer(() -> {
      Disposable running = beats;
      if (running != null) {
        running.dispose();
      }
      String current = id;
      registered = false;
      return store.deregister(current)
          .doOnSuccess(done -> LOG.info("worker {} deregistered", current))
          .onErrorResume(error -> {
            // its lease runs out by itself: the other processes' sweepers take over its runs
            LOG.warn("worker {} could not deregister: {}", current, error.toString());
            return Mono.empty();
          })
          .doFinally(signal -> scheduler.dispose());
    });
  }
}
