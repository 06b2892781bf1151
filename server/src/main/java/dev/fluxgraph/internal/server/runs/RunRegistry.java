package dev.fluxgraph.internal.server.runs;

import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.internal.server.storage.PostgresEventStore;
import dev.fluxgraph.internal.server.storage.RunStore;
import dev.fluxgraph.postgres.Sql;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The runs of this server process: their live part (execution handle, result for {@code join}, events for
 * {@code joinStream}) in memory, their records in the {@link RunStore} (saved without delaying the run: saves may
 * overtake each other and the store keeps the newest), so that runs of other processes, or of a process that died,
 * are still found.
 *
 * <p>Every run publishes its SSE events here (metadata, one per chunk, error), kept for joinStream: a run keeps its
 * newest {@value #EVENTS_KEPT_PER_RUN} events while it runs; once it ended, its live part (events and result) is kept
 * for the {@value #FINISHED_RUNS_KEPT} runs that finished last, as long as their events add up to at most
 * {@link #FINISHED_EVENT_CHARS_KEPT} characters (64 Mi); older ones are forgotten first. A forgotten run is still
 * listed and joined from its record (joinStream then ends at once, with nothing to replay).
 *
 * <p>A thread has at most one executing run; runs enqueued behind it ({@code multitask_strategy: enqueue}) are
 * {@code pending} until it ends, then start in order. Every status change goes through {@link Run#transition}.
 */
final class RunRegistry {

  private static final Logger LOG = LoggerFactory.getLogger(RunRegistry.class);

  /** How many finished runs keep their live part (result, events) for join and joinStream in this process. */
  static final int FINISHED_RUNS_KEPT = 1_000;
  /**
   * How many characters of events the finished runs keep in all: past it the runs that finished first are forgotten
   * (their records stay in the store), even when fewer than {@link #FINISHED_RUNS_KEPT} finished.
   */
  static final long FINISHED_EVENT_CHARS_KEPT = 64L << 20;
  /** How many events a run keeps for joinStream: a late joiner of a longer run gets the newest ones. */
  static final int EVENTS_KEPT_PER_RUN = 10_000;
  /** How long a multitask strategy waits before it looks again at a thread whose runs are all ending. */
  private static final Duration RETRY_ENDING = Duration.ofMillis(1);

  private final RunStore store;
  private final Ownership ownership;
  /** The adopted runs executing here, by thread (at most one per thread: the database's rule). */
  private final ConcurrentHashMap<String, Run> executing = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Run> runs = new ConcurrentHashMap<>();
  /** Each busy thread's unfinished runs in order: the first has the thread, the others wait (guarded by this). */
  private final HashMap<String, ArrayDeque<Run>> inflight = new HashMap<>();
  /** Finished runs, oldest first, for eviction (guarded by this). */
  private final ArrayDeque<Run> finished = new ArrayDeque<>();
  /** The characters of the events of the runs in {@link #finished} (guarded by this). */
  private long finishedEventChars;

  private final int finishedRunsKept;
  private final long finishedEventCharsKept;

  RunRegistry(RunStore store, Ownership ownership) {
    this(store, ownership, FINISHED_RUNS_KEPT, FINISHED_EVENT_CHARS_KEPT);
  }

  /** A registry with other retention limits than the defaults (tests). */
  RunRegistry(RunStore store, int finishedRunsKept, long finishedEventCharsKept) {
    this(store, Ownership.NONE, finishedRunsKept, finishedEventCharsKept);
  }

  private RunRegistry(RunStore store, Ownership ownership, int finishedRunsKept, long finishedEventCharsKept) {
    this.store = store;
    this.ownership = ownership;
    this.finishedRunsKept = finishedRunsKept;
    this.finishedEventCharsKept = finishedEventCharsKept;
  }

  /**
   * Registers a run on the thread. A run that gets the thread at once starts {@code running} ({@code pending} when
   * {@code delayed}: it becomes running in {@link #running}). When the thread has unfinished runs, the multitask
   * strategy decides: {@code reject} fails with 409 ({@link HttpProblem#busy}), {@code interrupt} cancels them
   * (their finished tasks stay recorded) and starts, {@code rollback} cancels and erases them (their records are
   * deleted, and the new run starts from the thread's state before them: see {@link Run#rolledBack}),
   * {@code enqueue} registers the run {@code pending} behind them (see {@link Run#turn}). Emits the run without
   * waiting for its record to be saved.
   */
  Mono<Run> start(String runId, String threadId, String assistantId, Map<String, Object> metadata,
                  String multitaskStrategy, boolean delayed) {
    HttpProblem unknown = unknownStrategy(multitaskStrategy);
    if (unknown != null) {
      return Mono.error(unknown);
    }
    return Mono.defer(() -> {
      List<Run> ahead;
      synchronized (this) {
        ArrayDeque<Run> queue = inflight.get(threadId);
        if (queue == null || queue.isEmpty() || multitaskStrategy.equals("enqueue")) {
          Run run = new Run(runId, threadId, assistantId, metadata, multitaskStrategy, ownership.owner());
          run.registry = this;
          if (queue == null || queue.isEmpty()) {
            queue = new ArrayDeque<>();
            inflight.put(threadId, queue);
            run.status = delayed ? RunStatus.PENDING : RunStatus.RUNNING;
            run.startedAt = run.createdAt;
            run.turn.tryEmitEmpty();
          }
          queue.addLast(run);
          runs.put(runId, run);
          save(run);
          return Mono.just(run);
        }
        ahead = List.copyOf(queue);
      }
      Run executing = ahead.get(0);
      // the last first: cancelling the executing run first would hand the thread to the next one for a moment
      Runnable cancelAll = () -> {
        for (int i = ahead.size() - 1; i >= 0; i--) {
          ahead.get(i).cancel();
        }
      };
      // runs that ended but are not yet off the thread (their end is being handled on another thread): try again a
      // moment later rather than at once, which would spin (and recurse) until they are
      Mono<Run> again = ahead.stream().allMatch(run -> run.status.finished())
          ? Mono.delay(RETRY_ENDING).then(Mono.defer(() -> start(runId, threadId, assistantId, metadata,
              multitaskStrategy, delayed)))
          : Mono.defer(() -> start(runId, threadId, assistantId, metadata, multitaskStrategy, delayed));
      return switch (multitaskStrategy) {
        case "reject" -> Mono.error(HttpProblem.busy(threadId, executing.runId));
        case "interrupt" -> Mono.fromRunnable(cancelAll).then(again);
        case "rollback" -> Mono.fromRunnable(cancelAll)
            .then(Flux.fromIterable(ahead).concatMap(run -> delete(threadId, run.runId)).then())
            .then(again)
            .doOnNext(run -> run.rolledBack = executing);
        default -> Mono.error(new IllegalStateException("unreachable: " + multitaskStrategy));
      };
    });
  }

  /** The 422 for a multitask strategy that is none of reject, interrupt, rollback and enqueue; null for one of them. */
  static @Nullable HttpProblem unknownStrategy(String multitaskStrategy) {
    return List.of("reject", "interrupt", "enqueue", "rollback").contains(multitaskStrategy) ? null
        : HttpProblem.invalid("multitask_strategy must be reject, interrupt, rollback or enqueue, was '"
            + multitaskStrategy + "'");
  }

  /**
   * The run executes now (its turn came and its delay passed): a pending run becomes running (and is saved). Only
   * runs that were enqueued or delayed pay this extra save.
   */
  void running(Run run) {
    if (run.status == RunStatus.PENDING && run.transition(RunStatus.RUNNING)) {
      save(run);
    }
  }

  /**
   * The thread status to write when {@code ending} ends with {@code outcome} ("idle", "interrupted", "error"):
   * "busy" while other runs of the thread are unfinished (an enqueued run is about to start).
   */
  synchronized String threadStatusAfter(Run ending, String outcome) {
    ArrayDeque<Run> queue = inflight.get(ending.threadId);
    return queue != null && queue.stream().anyMatch(other -> other != ending) ? "busy" : outcome;
  }

  /**
   * Sends the run's record to the store in the background, after the run's earlier saves (so a status never goes
   * back); a failed save is logged and the run goes on. A deleted run is not saved again.
   */
  private Mono<Void> save(Run run) {
    Mono<Void> next;
    synchronized (run) {
      if (run.deleted || !ownership.holds(run.owner)) {
        return Mono.empty(); // a run this process lost (its worker's lease ran out) is written by nobody here
      }
      RunStore.RunRecord record = run.record();
      EventWriter log = run.eventLog;
      Mono<Void> prior = run.saved.onErrorResume(error -> Mono.empty());
      // joiners elsewhere read every event before they see the end: the last ones are kept with it
      Mono<List<PostgresEventStore.StoredEvent>> last = log != null && run.status.finished() ? log.rest()
          : Mono.just(List.of());
      // an update on (run, owner, attempt) is idempotent, its events too: a connection lost mid-statement costs a retry
      String threadStatus = run.status.finished() ? run.threadStatusAtEnd : null;
      next = prior.then(last).flatMap(events -> store.save(record, events, threadStatus)
          .retryWhen(Sql.transientRetry())).cache();
      run.saved = next;
    }
    next.subscribe(null, error -> LOG.warn("could not save run {} of thread {} ({}): {}", run.runId, run.threadId,
        run.status.wire(), error.toString()));
    return next.onErrorResume(error -> Mono.empty());
  }

  /** Sends the run's record once more (its last save did not reach the store). */
  void saveAgain(Run run) {
    save(run);
  }

  /**
   * Registers a run whose thread the database gave it (PostgreSQL: see {@code PostgresRunQueue}), without this
   * process's own queue of the thread's runs.
   */
  void adopt(Run run) {
    run.registry = this;
    runs.put(run.runId, run);
    executing.put(run.threadId, run);
  }

  /** The run the database gave the thread that this process executes (PostgreSQL), if any. */
  Optional<Run> executingOn(String threadId) {
    return Optional.ofNullable(executing.get(threadId));
  }

  /** This process's unfinished runs. */
  List<Run> unfinished() {
    return runs.values().stream().filter(run -> !run.status.finished()).toList();
  }

  /** Completes when the record saves sent so far of every run kept here are done (failed ones included). */
  Mono<Void> saved() {
    return Flux.fromIterable(List.copyOf(runs.values())).concatMap(Run::saves).then();
  }

  /** Stops saving the run and drops its live part (it was handed over to another process, or erased). */
  Mono<Void> forgetLocal(Run run) {
    return Mono.defer(() -> {
      runs.remove(run.runId, run);
      return forget(run);
    });
  }

  /** A run ended: the next enqueued run of its thread gets its turn, the oldest finished runs are forgotten. */
  void finished(Run run) {
    Run next = null;
    executing.remove(run.threadId, run);
    synchronized (this) {
      ArrayDeque<Run> queue = inflight.get(run.threadId);
      if (queue != null) {
        boolean hadTheThread = queue.peekFirst() == run;
        queue.remove(run);
        if (queue.isEmpty()) {
          inflight.remove(run.threadId);
        } else if (hadTheThread) {
          next = queue.peekFirst();
          next.startedAt = Instant.now();
        }
      }
      save(run);
      finished.addLast(run);
      // a run may still publish its last events (the error event, after its end); those few are not counted
      run.countedChars = run.eventChars;
      finishedEventChars += run.countedChars;
      while (finished.size() > finishedRunsKept
          || finishedEventChars > finishedEventCharsKept && finished.size() > 1) {
        Run oldest = finished.removeFirst();
        finishedEventChars -= oldest.countedChars;
        runs.remove(oldest.runId, oldest);
      }
    }
    if (next != null) {
      next.turn.tryEmitEmpty(); // outside the lock: the next run's execution continues on this thread
    }
  }

  /** Whether this process may still write the run (its worker's lease holds): see {@link Worker}. */
  boolean holds(Run run) {
    return ownership.holds(run.owner);
  }

  /**
   * The lease of worker {@code owner} was lost: its unfinished runs here are cancelled, with nothing written for them
   * (their saves are dropped, their executions stopped). All its runs are forgotten here, also those that ended here
   * after the lease ran out (their end was not written): other processes resume them, so get, join and joinStream
   * read them from the database, as in any process that does not run them.
   */
  void fence(String owner) {
    int cancelled = 0;
    for (Run run : runs.values().stream().filter(run -> owner.equals(run.owner)).toList()) {
      cancelled += run.cancel() ? 1 : 0;
      forgetLocal(run).subscribe();
    }
    if (cancelled > 0) {
      LOG.warn("cancelled {} run(s) of worker {} here: its lease was lost", cancelled, owner);
    }
  }

  /** The run's live part by its id alone, if it runs (or recently ran) in this process. */
  Optional<Run> live(String runId) {
    return Optional.ofNullable(runs.get(runId));
  }

  /** The run's live part, if it runs (or recently ran) in this process. */
  Optional<Run> live(String threadId, String runId) {
    Run run = runs.get(runId);
    return run != null && run.threadId.equals(threadId) ? Optional.of(run) : Optional.empty();
  }

  Run requireLive(String threadId, String runId) {
    return live(threadId, runId).orElseThrow(() -> HttpProblem.notFound("run " + runId + " of thread " + threadId
        + " (it is only live in the server process that ran it, until it is forgotten there)"));
  }

  /** The run's record: the live one when it runs here, else the stored one; 404 when neither exists. */
  Mono<RunStore.RunRecord> require(String threadId, String runId) {
    return live(threadId, runId).map(run -> Mono.just(run.record()))
        .orElseGet(() -> store.get(threadId, runId))
        .switchIfEmpty(Mono.error(() -> HttpProblem.notFound("run " + runId + " of thread " + threadId)));
  }

  /** The thread's runs, newest first: stored records, with this process's live runs overriding them. */
  /**
   * The runs whose status is one of {@code statuses}, of the thread (every thread when null): this process's live ones
   * as they are here, the others as stored; oldest first.
   */
  Flux<RunStore.RunRecord> withStatus(@Nullable String threadId, List<String> statuses) {
    List<RunStore.RunRecord> local = runs.values().stream()
        .filter(run -> threadId == null || run.threadId.equals(threadId)).map(Run::record).toList();
    return store.withStatus(threadId, statuses).collectList().flatMapMany(stored -> {
      Map<String, RunStore.RunRecord> merged = new LinkedHashMap<>();
      stored.forEach(record -> merged.put(record.runId(), record));
      local.forEach(record -> merged.put(record.runId(), record));
      return Flux.fromStream(merged.values().stream().filter(record -> statuses.contains(record.status()))
          .sorted(Comparator.comparing(RunStore.RunRecord::createdAt)));
    });
  }

  /**
   * The thread's runs, newest first, with that status when given: the stored ones of that status, this process's live
   * ones as they are here (a live run's status may be ahead of its record's). Enough stored ones are read that the
   * live ones, which may replace as many, leave the page full.
   */
  Flux<RunStore.RunRecord> list(String threadId, @Nullable String status, int limit, int offset) {
    List<Run> local = runs.values().stream().filter(run -> run.threadId.equals(threadId)).toList();
    return store.list(threadId, status, Math.max(0, offset) + Math.max(0, limit) + local.size(), 0).collectList()
        .flatMapMany(stored -> {
          Map<String, RunStore.RunRecord> merged = new LinkedHashMap<>();
          stored.forEach(record -> merged.put(record.runId(), record));
          local.forEach(run -> merged.put(run.runId, run.record()));
          return Flux.fromStream(merged.values().stream()
              .filter(record -> status == null || record.status().equals(status))
              .sorted(Comparator.comparing(RunStore.RunRecord::createdAt).reversed())
              .skip(Math.max(0, offset)).limit(Math.max(0, limit)));
        });
  }

  /**
   * Deletes the run's record (after its pending saves) and its live part; emits whether it existed. An unfinished
   * run is cancelled first.
   */
  Mono<Boolean> delete(String threadId, String runId) {
    return Mono.defer(() -> {
      Optional<Run> run = live(threadId, runId);
      run.ifPresent(Run::cancel);
      boolean local = run.map(found -> runs.remove(runId, found)).orElse(false);
      return run.map(RunRegistry::forget).orElse(Mono.empty())
          .then(store.delete(threadId, runId)).map(stored -> stored || local);
    });
  }

  /** Stops saving the run; completes when its saves sent so far are done. */
  private static Mono<Void> forget(Run run) {
    synchronized (run) {
      run.deleted = true;
      return run.saved.onErrorResume(error -> Mono.empty());
    }
  }

  /** Cancels the thread's unfinished runs and deletes all its runs (the thread is being deleted). */
  Mono<Void> deleteThread(String threadId) {
    return Mono.defer(() -> {
      List<Run> local = new ArrayList<>(runs.values().stream().filter(run -> run.threadId.equals(threadId))
          .toList());
      local.forEach(Run::cancel);
      local.forEach(run -> runs.remove(run.runId, run));
      return Flux.fromIterable(local).concatMap(RunRegistry::forget).then(store.deleteThread(threadId));
    });
  }

  /**
   * Cancels a pending or running run: its tasks are cancelled, it ends interrupted, the thread stays resumable.
   * Emits whether this call cancelled it (false when it had already ended). 404 when it is not live here.
   */
  Mono<Boolean> cancel(String threadId, String runId) {
    return Mono.fromCallable(() -> requireLive(threadId, runId).cancel());
  }
}
