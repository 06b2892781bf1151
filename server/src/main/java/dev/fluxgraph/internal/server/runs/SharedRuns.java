package dev.fluxgraph.internal.server.runs;

import dev.fluxgraph.internal.server.Durations;
import dev.fluxgraph.internal.server.sse.Sse;
import dev.fluxgraph.internal.server.storage.PgListener;
import dev.fluxgraph.internal.server.storage.PostgresEventStore;
import dev.fluxgraph.internal.server.storage.PostgresRunQueue;
import dev.fluxgraph.internal.server.storage.RunStore;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The runs of every server process of one PostgreSQL database, seen from this one: the run queue
 * ({@link PostgresRunQueue}), the runs' kept events ({@link PostgresEventStore}), this process's worker and the
 * signals ({@link PgListener}: {@code queued}, {@code cancel:<run>}, {@code end:<run>}, {@code events:<run>},
 * {@code watch:<run>}).
 * It claims queued runs when told some are there, at every tick (the signals' backstop: a notification sent while
 * the listener reconnects is lost) and after a reconnect, and hands each claimed run to {@code execute}; it applies
 * the cancel flags of this worker's runs as they are signalled and at every tick; and it follows, for joiners here,
 * runs that execute elsewhere, asking their owner to write their events as they come ({@code watch:<run>}, sent when a
 * follow starts and at every poll, since a signal can be lost). While draining (a clean stop) it claims nothing.
 */
public final class SharedRuns {

  private static final Logger LOG = LoggerFactory.getLogger(SharedRuns.class);
  /** How often a joiner re-reads a run executing elsewhere when no signal came (the signals' backstop). */
  static final Duration FOLLOW_POLL = Duration.ofMillis(500);

  final PostgresRunQueue queue;
  final PostgresEventStore events;
  final RunStore store;
  private final PgListener listener;
  private final Worker worker;
  private final Duration tick;
  private final Scheduler scheduler = Schedulers.newSingle("fluxgraph-run-queue", true);
  private final Disposable.Composite running = Disposables.composite();
  private final AtomicBoolean claiming = new AtomicBoolean();
  private final AtomicBoolean claimAgain = new AtomicBoolean();
  private volatile boolean draining;
  private volatile Consumer<PostgresRunQueue.Claimed> execute = claimed -> {
  };
  private volatile CancelAction cancel = (runId, action) -> {
  };
  private volatile Predicate<String> executesHere = runId -> true;
  private volatile Consumer<String> watched = runId -> {
  };

  /** Applies the cancel flag ({@code interrupt} or {@code rollback}) of a run of this process. */
  interface CancelAction {
    void apply(String runId, String action);
  }

  public SharedRuns(PostgresRunQueue queue, PostgresEventStore events, RunStore store, PgListener listener,
                    Worker worker, Duration tick) {
    this.queue = queue;
    this.events = events;
    this.store = store;
    this.listener = listener;
    this.worker = worker;
    this.tick = tick;
  }

  void onClaimed(Consumer<PostgresRunQueue.Claimed> action) {
    this.execute = action;
  }

  void onCancel(CancelAction action) {
    this.cancel = action;
  }

  /** What to do when a process follows a run of this one ({@code watch:<run>}): write its events as they come. */
  void onWatched(Consumer<String> action) {
    this.watched = action;
  }

  /** Tells which runs this process executes (the others the database gives it are handed back). */
  void executing(Predicate<String> executes) {
    this.executesHere = executes;
  }

  /** The worker id runs recorded now are owned by. */
  String owner() {
    return worker.id();
  }

  /** Listens, then claims what is queued, and ticks until {@link #stop}. Cold. */
  public Mono<Void> start() {
    return Mono.defer(() -> {
      running.add(listener.payloads().subscribe(this::signalled));
      running.add(listener.reconnects().subscribe(count -> {
        claimSoon();
        checkCancels();
      }));
      return listener.start().doOnSuccess(done -> {
        running.add(Mono.defer(() -> Mono.delay(Durations.jittered(tick), scheduler)).repeat().subscribe(beat -> {
          claimSoon();
          checkCancels();
        }));
        claimSoon();
      });
    });
  }

  private void signalled(String payload) {
    if (payload.equals("queued")) {
      claimSoon();
    } else if (payload.startsWith("watch:")) {
      watched.accept(payload.substring("watch:".length()));
    } else if (payload.startsWith("cancel:")) {
      for (String runId : payload.substring("cancel:".length()).split(",")) {
        queue.cancelAction(runId).subscribe(action -> cancel.apply(runId, action),
            error -> LOG.warn("could not read the cancel of run {}: {}", runId, error.toString()));
      }
    }
  }

  /**
   * Applies the cancel flags of this worker's runs (the backstop of {@code cancel:} signals), and gives back to the
   * queue the runs the database says this worker executes but this process does not: a claim or a recording whose
   * answer was lost with its connection (committed, never seen here). Only those older than two ticks: a claim just
   * made may still be on its way.
   */
  private void checkCancels() {
    String self = worker.id();
    queue.flaggedFor(self).subscribe(flag -> cancel.apply(flag.getKey(), flag.getValue()),
        error -> LOG.warn("could not read the cancels of worker {}: {}", self, error.toString()));
    Instant settled = Instant.now().minus(tick.multipliedBy(2));
    queue.ownedBy(self)
        .filter(owned -> owned.updatedAt().isBefore(settled) && !executesHere.test(owned.runId()))
        .concatMap(owned -> queue.release(owned.runId(), self, owned.attempt(), Instant.now())
            .doOnNext(released -> {
              if (released) {
                LOG.warn("run {} was recorded as executing here but is not (its claim's answer was lost): queued"
                    + " again", owned.runId());
              }
            }))
        .subscribe(null, error -> LOG.warn("could not check the runs of worker {}: {}", self, error.toString()));
  }

  /** Claims queued runs until there is none (one claim loop at a time; a call during one makes it go on). */
  void claimSoon() {
    if (draining) {
      return;
    }
    claimAgain.set(true);
    if (!claiming.compareAndSet(false, true)) {
      return;
    }
    claimAgain.set(false);
    Mono.defer(() -> queue.claim(worker.id(), null, Instant.now()))
        .expand(claimed -> draining ? Mono.empty() : queue.claim(worker.id(), null, Instant.now()))
        .doOnNext(this::execute)
        .onErrorResume(error -> {
          LOG.warn("could not claim queued runs: {}", error.toString());
          return Mono.empty();
        })
        .subscribeOn(scheduler)
        .subscribe(null, null, () -> {
          claiming.set(false);
          if (claimAgain.get()) {
            claimSoon();
          }
        });
  }

  /** Tries a claim once the delay of a run queued here passed (its own process goes first). */
  void claimAfter(Duration delay) {
    Mono.delay(delay, scheduler).subscribe(done -> claimSoon(), error -> {
      // the scheduler was disposed: this process stopped, the run is claimed elsewhere
    });
  }

  private void execute(PostgresRunQueue.Claimed claimed) {
    try {
      execute.accept(claimed);
    } catch (RuntimeException e) {
      LOG.error("could not start claimed run {}: {}", claimed.record().runId(), e.toString(), e);
    }
  }

  /** The signals about one run: its new events and its end. */
  private Flux<String> signalsOf(String runId) {
    return listener.payloads().filter(payload -> PostgresRunQueue.names(payload, "events", runId)
        || PostgresRunQueue.names(payload, "end", runId));
  }

  /**
   * The run's kept events after {@code afterId}, then those it publishes elsewhere until it ends (or is unknown),
   * framed as this process frames its own runs' events.
   */
  Flux<Run.Event> follow(String threadId, String runId, long afterId) {
    Flux<Run.Event> followed = events.follow(runId, afterId, signalsOf(runId),
            () -> store.get(threadId, runId).map(RunStore.RunRecord::finished).defaultIfEmpty(true), FOLLOW_POLL)
        .map(SharedRuns::framed);
    // the owner writes the events of a run nobody follows elsewhere only at its end: ask it for them as they come
    return Flux.using(() -> Flux.interval(Duration.ZERO, FOLLOW_POLL, scheduler)
            .concatMap(tick -> queue.watch(runId).onErrorResume(error -> Mono.empty()))
            .subscribe(), watching -> followed, Disposable::dispose);
  }

  /** The run's events kept in the database after {@code afterId}, framed. */
  Flux<Run.Event> stored(String runId, long afterId) {
    return events.after(runId, afterId).map(SharedRuns::framed);
  }

  /** The data of the run's last kept {@code error} event (its {@code __error__} body's inner object); empty if none. */
  Mono<String> lastError(String runId) {
    return events.after(runId, -1).filter(event -> event.name().equals("error")).takeLast(1).next()
        .map(PostgresEventStore.StoredEvent::data);
  }

  private static Run.Event framed(PostgresEventStore.StoredEvent event) {
    return new Run.Event(event.seq(), event.name(), Sse.frame(event.name(), event.data(), event.seq()));
  }

  /**
   * The run's record once it finished, wherever it executes; empty when it is (or becomes) unknown (deleted, rolled
   * back). Re-read at each signal about it and every {@link #FOLLOW_POLL}.
   */
  Mono<RunStore.RunRecord> awaitEnd(String threadId, String runId) {
    Flux<Object> wakeups = Flux.merge(signalsOf(runId).filter(payload -> payload.startsWith("end:")),
        Flux.interval(FOLLOW_POLL, scheduler)).cast(Object.class);
    return Flux.concat(Mono.just((Object) "now"), wakeups)
        .concatMap(wake -> store.get(threadId, runId).map(record -> new Seen(record, record.finished()))
            .defaultIfEmpty(new Seen(null, true)), 1)
        .filter(Seen::finished)
        .next()
        .flatMap(seen -> Mono.justOrEmpty(seen.record()));
  }

  private record Seen(RunStore.@Nullable RunRecord record, boolean finished) {
  }

  /** Stops claiming queued runs (a clean stop drains what runs here, then hands over the rest). */
  void drain() {
    draining = true;
  }

  /** Stops listening and ticking. */
  public Mono<Void> stop() {
    draining = true;
    running.dispose();
    return listener.stop().doFinally(signal -> scheduler.dispose());
  }
}
