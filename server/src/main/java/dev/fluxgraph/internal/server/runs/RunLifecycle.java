package dev.fluxgraph.internal.server.runs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.errors.EmptyInputException;
import dev.fluxgraph.errors.GraphRecursionException;
import dev.fluxgraph.errors.InvalidCommandException;
import dev.fluxgraph.errors.SerializationException;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.internal.server.ServedAssistants;
import dev.fluxgraph.internal.server.ServedGraphs;
import dev.fluxgraph.internal.server.storage.RunStore;
import dev.fluxgraph.internal.server.storage.ThreadStore;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.FluxgraphJson;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.StreamOptions;
import dev.fluxgraph.internal.server.storage.PostgresRunQueue;
import dev.fluxgraph.postgres.Sql;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The run lifecycle, from a parsed request to its end: the run is registered on its thread ({@link #ready}: the
 * multitask strategies, in {@link RunRegistry#start}), waits for its turn and its delay, executes in its stream modes
 * publishing its events ({@link #execute}), and finishes, which records its status and the thread's; cancel, join and
 * delete act on it meanwhile or afterwards. Every way of starting a run ({@link #streamed}, {@link #waited},
 * {@link #background}) takes the same execution path; the routes only shape the answer.
 */
public final class RunLifecycle {

  private static final Logger LOG = LoggerFactory.getLogger(RunLifecycle.class);
  private static final ObjectMapper JSON = FluxgraphJson.mapper();
  /** The checkpoint metadata key naming the run that wrote the checkpoint. */
  static final String RUN_ID = "run_id";
  /** How often a draining process looks whether its runs have finished. */
  private static final Duration DRAIN_POLL = Duration.ofMillis(100);

  private final ServedGraphs graphs;
  private final ThreadStore threads;
  private final RunRegistry runs;
  private final CheckpointSaver checkpointer;
  private final Webhooks webhooks = new Webhooks();
  private final ThreadStream threadStreams;
  /** The runs of every process of the database (PostgreSQL), or null in memory. */
  private @Nullable SharedRuns shared;
  /** Set by {@link #drain}: new runs are refused. */
  private volatile boolean draining;
  /** Parses a recorded request ({@code body}, {@code stateless}) again, for a run claimed from the queue. */
  private BiFunction<JsonNode, Boolean, RunRequest> requests = (body, stateless) -> {
    throw new IllegalStateException("no request parser");
  };

  public RunLifecycle(ServedGraphs graphs, ThreadStore threads, RunStore runStore,
                      CheckpointSaver checkpointer) {
    this(graphs, threads, runStore, checkpointer, Ownership.NONE);
  }

  /**
   * With {@code ownership}, a {@link Worker}: the runs are recorded owned by it, and those it loses (its lease ran
   * out) are cancelled here and write nothing final, neither their record nor their thread's status.
   */
  public RunLifecycle(ServedGraphs graphs, ThreadStore threads, RunStore runStore,
                      CheckpointSaver checkpointer, Ownership ownership) {
    this.graphs = graphs;
    this.threads = threads;
    this.runs = new RunRegistry(runStore, ownership);
    if (ownership instanceof Worker worker) {
      worker.onFenced(runs::fence);
    }
    this.checkpointer = checkpointer;
    this.threadStreams = new ThreadStream(this, threads, runs);
  }

  /**
   * Shares the runs with the other server processes of the database: runs are recorded with their request before
   * they are acknowledged and go through the queue ({@link SharedRuns}); {@code requests} parses a recorded request.
   */
  public void share(SharedRuns runsOfAll, BiFunction<JsonNode, Boolean, RunRequest> parser) {
    this.shared = runsOfAll;
    this.requests = parser;
    runsOfAll.onClaimed(this::executeClaimed);
    runsOfAll.executing(this::accountFor);
    runsOfAll.onCancel((runId, action) -> runs.live(runId).ifPresent(run -> cancelHere(run, action).subscribe(null,
        error -> LOG.warn("could not cancel run {}: {}", runId, error.toString()))));
    runsOfAll.onWatched(runId -> runs.live(runId).map(run -> run.eventLog).ifPresent(EventWriter::prompt));
  }

  /**
   * A streamed run: registered on the thread, then launched; emits the run and its framed events, which go on whether
   * or not anybody listens (they are kept for joinStream). On the hot path (an existing idle thread) the first event
   * waits for one database round trip, the thread's read in {@link #ready}: the run's record is saved in the
   * background and the thread's busy status is written after the metadata event, before the run's first step. A
   * listener that leaves cancels the run only with {@code on_disconnect: cancel}.
   */
  public Mono<Streamed> streamed(String threadId, RunRequest run) {
    return ready(threadId, run, false).map(registered -> {
      if (registered.queued) { // executes when its turn comes, in whichever process claims it
        Flux<String> followed = followed(registered.threadId, registered.runId, -1).map(Run.Event::text);
        if (run.cancelOnDisconnect()) {
          followed = followed.doOnCancel(() -> cancelForLeavingClient(registered, run.deleteThread()));
        }
        return new Streamed(registered, followed);
      }
      launch(registered, run, true);
      Flux<String> live = registered.events(-1).map(Run.Event::text);
      if (run.cancelOnDisconnect()) {
        live = live.doOnCancel(() -> cancelForLeavingClient(registered, run.deleteThread()));
      }
      return new Streamed(registered, live);
    });
  }

  /** A streamed run and its framed SSE events. */
  public record Streamed(Run run, Flux<String> events) {
  }

  /**
   * A waited run: registered on the thread (marked busy first), then launched; emits the run and its outcome (hot),
   * its final value, or the {@code __error__} body of a failed or cancelled one; the outcome fails when the run's
   * command or input was refused before any step ran. The run goes on if the client leaves, unless
   * {@code on_disconnect: cancel} (see {@link #cancelOnLeave}).
   */
  public Mono<Waited> waited(String threadId, RunRequest run) {
    return ready(threadId, run, true).map(registered -> {
      if (registered.queued) {
        return new Waited(registered, join(threadId, registered.runId));
      }
      Sinks.One<JsonNode> outcome = Sinks.one();
      // a cancelled run's execution is disposed and emits nothing: its result (an __error__ body) answers
      registered.result.asMono().filter(value -> registered.status == RunStatus.INTERRUPTED)
          .subscribe(outcome::tryEmitValue);
      launch(registered, run, false).subscribe(outcome::tryEmitValue, outcome::tryEmitError);
      return new Waited(registered, outcome.asMono());
    });
  }

  /** A waited run and its outcome. */
  public record Waited(Run run, Mono<JsonNode> outcome) {
  }

  /** A background run: registered on the thread (marked busy first), then launched; emits the run. */
  public Mono<Run> background(String threadId, RunRequest run) {
    return ready(threadId, run, true).doOnNext(registered -> {
      if (!registered.queued) {
        EventWriter log = registered.eventLog;
        if (log != null) { // joined later, from any process
          log.prompt();
        }
        launch(registered, run, false);
      }
    });
  }

  /** {@code answer}, which cancels the run when its client leaves if the run asks for it ({@code on_disconnect}). */
  public <T> Mono<T> cancelOnLeave(Mono<T> answer, Run registered, RunRequest run) {
    return run.cancelOnDisconnect()
        ? answer.doOnCancel(() -> cancelForLeavingClient(registered, run.deleteThread())) : answer;
  }

  /**
   * A run's kept events after {@code afterId} (all of them with -1), then the live ones until it ends; for a run that
   * ended, what is kept, then the end. With {@code cancelOnDisconnect} the run is cancelled when the listener leaves.
   * A finished run whose events this process no longer keeps (see {@link RunRegistry}), or that ran elsewhere, ends
   * at once; one executing in another process is a 409.
   */
  public Mono<Flux<Run.Event>> events(String threadId, String runId, long afterId, boolean cancelOnDisconnect) {
    return runs.live(threadId, runId)
        .map(run -> {
          Flux<Run.Event> kept = run.events(afterId);
          if (run.firstEventId > afterId + 1 && shared != null) { // taken over: its predecessors' events first
            kept = shared.stored(runId, afterId).takeWhile(event -> event.id() < run.firstEventId)
                .concatWith(run.events(Math.max(afterId, run.firstEventId - 1)));
          }
          return Mono.just(cancelOnDisconnect ? kept.doOnCancel(() -> cancelForLeavingClient(run, false)) : kept);
        })
        .orElseGet(() -> runs.require(threadId, runId).flatMap(record -> {
          if (shared != null) { // kept in the database: replayed, then followed until it ends
            Flux<Run.Event> kept = followed(threadId, runId, afterId);
            return Mono.just(cancelOnDisconnect && !record.finished()
                ? kept.doOnCancel(() -> cancelElsewhere(threadId, runId, "interrupt", false).subscribe()) : kept);
          }
          return record.finished() ? Mono.just(Flux.<Run.Event>empty())
              : Mono.error(new HttpProblem(409, "run " + runId + " is executing in another server process; "
                  + "join it there"));
        }));
  }

  /**
   * The thread's stream ({@link ThreadStream}): its runs' events one run after the other, live, from {@code start}
   * ({@code runId} and {@code afterId} for {@link ThreadStream.Start#AFTER}), until the listener leaves or the thread
   * is deleted. Cold; 404 when the thread does not exist.
   */
  public Flux<Run.Event> threadEvents(String threadId, ThreadStream.Start start, @Nullable String runId,
                                      long afterId) {
    return threadStreams.events(threadId, start, runId, afterId);
  }

  /** The events of a run that this process does not execute, from the database (PostgreSQL only). */
  private Flux<Run.Event> followed(String threadId, String runId, long afterId) {
    SharedRuns all = Objects.requireNonNull(shared);
    return all.follow(threadId, runId, afterId);
  }

  /**
   * Whether this process accounts for a run the database says it executes: one executing here does; one that ended
   * here but whose end did not reach the database (its saves failed) does, and its end is saved again; any other
   * does not (the database recorded a claim whose answer was lost), and is handed back to the queue.
   */
  private boolean accountFor(String runId) {
    return runs.live(runId).map(run -> {
      if (run.status.finished()) {
        runs.saveAgain(run);
      }
      return true;
    }).orElse(false);
  }

  /**
   * Whether this process may still write the run with that id, its checkpoints included: a run it executes (or
   * executed) only while its worker's lease holds; any other (not a run of this process) is not its to fence.
   */
  public boolean mayWrite(String runId) {
    return runs.live(runId).map(this::mayWrite).orElse(true);
  }

  /**
   * Whether this process may still write the thread's task results: false while the run it executes on the thread
   * is one it lost (under {@code sync} durability a task's result is saved before the run goes on, so a zombie's next
   * task does not start).
   */
  public boolean mayWriteThread(String threadId) {
    return runs.executingOn(threadId).map(this::mayWrite).orElse(true);
  }

  private boolean mayWrite(Run run) {
    return runs.holds(run) && !run.halted();
  }

  /** The run's record: the live one when it runs here, else the stored one; 404 when neither exists. */
  public Mono<RunStore.RunRecord> require(String threadId, String runId) {
    return runs.require(threadId, runId);
  }

  /** The runs of that status (see {@link RunRegistry#withStatus}), of the thread or of every thread (null). */
  public Flux<RunStore.RunRecord> withStatus(@Nullable String threadId, List<String> statuses) {
    return runs.withStatus(threadId, statuses);
  }

  /** The thread of a run executing (or recently executed) in this process, if it is one. */
  public Optional<String> threadOfLive(String runId) {
    return runs.live(runId).map(run -> run.threadId);
  }

  /** The thread's runs, newest first, with the status when given. */
  public Flux<RunStore.RunRecord> list(String threadId, @Nullable String status, int limit, int offset) {
    return runs.list(threadId, status, limit, offset);
  }

  /**
   * join: the run's result when it runs (or recently ran) here; for a finished run known only from the store (run
   * by another process, or before a restart), what its own process would answer: the {@code __error__} body of its
   * kept {@code error} event, or naming why a sweeper ended it ({@code WorkerLost}: the process running it stopped);
   * for a run that succeeded, {@code {"__interrupt__": [...]}} while the thread is paused, else the thread's current
   * values.
   */
  public Mono<JsonNode> join(String threadId, String runId) {
    return runs.live(threadId, runId).<Mono<JsonNode>>map(run -> shared == null ? run.result.asMono()
            : run.result.asMono().flatMap(value -> run.saves().thenReturn(value)))
        .orElseGet(() -> runs.require(threadId, runId).flatMap(found -> {
          if (found.finished() || shared == null) {
            return Mono.just(found);
          }
          // executing elsewhere, or queued: its end, wherever it executes (a run rolled back meanwhile is gone)
          return shared.awaitEnd(threadId, runId).switchIfEmpty(Mono.error(() -> HttpProblem.notFound("run "
              + runId + " of thread " + threadId + " (deleted while it was joined)")));
        }).flatMap(record -> {
          if (!record.finished()) {
            return Mono.error(new HttpProblem(409, "run " + runId + " is executing in another server process"));
          }
          if (record.status().equals("interrupted")) {
            return Mono.just(cancelled(runId));
          }
          if (record.error() != null) {
            return Mono.just(errorBody("WorkerLost", record.error()));
          }
          if (record.status().equals("error")) {
            return storedError(record);
          }
          return threads.require(threadId).flatMap(thread -> thread.graphId() == null
              ? Mono.just((JsonNode) NullNode.getInstance())
              : graphs.ofThread(thread).getState(RunConfig.thread(threadId))
                  .<JsonNode>map(state -> JSON.valueToTree(state.interrupts().isEmpty() ? state.values()
                      : Map.of("__interrupt__", state.interrupts())))
                  .defaultIfEmpty(NullNode.getInstance()));
        }));
  }

  /**
   * The {@code __error__} body of a failed run known only from the store: its kept {@code error} event's, or, when its
   * events are gone (in memory, or past {@code --events-retention}), one that says so.
   */
  private Mono<JsonNode> storedError(RunStore.RunRecord record) {
    Mono<String> kept = shared == null ? Mono.empty() : shared.lastError(record.runId());
    return kept.<JsonNode>handle((data, sink) -> {
      try {
        ObjectNode body = JSON.createObjectNode();
        body.set("__error__", JSON.readTree(data));
        sink.next(body);
      } catch (JsonProcessingException e) {
        sink.error(new IllegalStateException("run " + record.runId() + "'s kept error event is not JSON", e));
      }
    }).switchIfEmpty(Mono.fromSupplier(() -> errorBody("RunFailed", "run " + record.runId() + " failed; its error "
        + "is no longer kept")));
  }

  /** {@link #cancel(String, String, String, boolean)} that waits for the run's end. */
  public Mono<RunStore.RunRecord> cancel(String threadId, String runId, String action) {
    return cancel(threadId, runId, action, true);
  }

  /**
   * cancel: a pending or running run of this process is cancelled ({@code action=interrupt}: its finished work stays;
   * {@code rollback}: its checkpoints and its record are deleted too) and the thread is idle again (busy when runs
   * are enqueued behind it); a finished one is returned as it is, untouched. Cancelling a run of this process takes
   * effect at once; one executing in another process (PostgreSQL) is flagged, and with {@code wait} the answer comes
   * once it ended, else at once, its record as it was.
   */
  public Mono<RunStore.RunRecord> cancel(String threadId, String runId, String action, boolean wait) {
    if (!action.equals("interrupt") && !action.equals("rollback")) {
      return Mono.error(HttpProblem.invalid("action must be interrupt or rollback, was '" + action + "'"));
    }
    Optional<Run> live = runs.live(threadId, runId);
    if (shared != null) {
      // with wait, the answer comes once the end is committed (the client's next run then finds the thread free)
      // a queued run (delayed, or behind another) is not live here: it ends in the database, which frees its thread
      return live.filter(run -> !run.status.finished())
          .map(run -> action.equals("rollback") ? rollBackHere(run)
              // a run cancelled here ends at once: answered once its end is committed (a read from any process sees it)
              : cancelHere(run, action).then(Mono.defer(run::saves)).then(Mono.fromCallable(run::record)))
          .orElseGet(() -> cancelElsewhere(threadId, runId, action, wait));
    }
    if (live.isPresent()) {
      Run run = live.get();
      return runs.cancel(threadId, runId).flatMap(cancelled -> {
        if (!cancelled) {
          return Mono.just(run.record());
        }
        Mono<Void> undo = action.equals("rollback") ? rollBack(threadId, run).then(runs.delete(threadId, runId)).then()
            : Mono.empty();
        return undo.then(finalThreadStatus(run, "idle")).thenReturn(run.record());
      });
    }
    return runs.require(threadId, runId).flatMap(record -> record.finished() ? Mono.just(record)
        : Mono.error(new HttpProblem(409, "run " + runId + " is executing in another server process")));
  }

  /**
   * A rollback asked of this process for a run it executes (PostgreSQL): flagged in the database first, as from
   * another process, so that an end it saves at this very moment is refused (the flag wins; when its end was saved
   * first, the run is left as it ended), then erased here; answered once its record is gone (or final).
   */
  private Mono<RunStore.RunRecord> rollBackHere(Run run) {
    SharedRuns all = Objects.requireNonNull(shared);
    return all.queue.requestCancel(run.threadId, run.runId, "rollback", Instant.now())
        .flatMap(requested -> cancelHere(run, "rollback"))
        // the flag's signal may have started the erase first: the database says when it is done
        .then(Mono.defer(() -> all.awaitEnd(run.threadId, run.runId)))
        .defaultIfEmpty(new RunStore.RunRecord(run.runId, run.threadId, run.assistantId, run.createdAt,
            Instant.now(), "interrupted", run.metadata, run.multitaskStrategy, null, null, run.attempt));
  }

  /**
   * Cancels a run of this process (PostgreSQL): {@code interrupt} ends it interrupted, its finished work kept;
   * {@code rollback} stops it, erases its checkpoints and its record, then ends it. Either way the thread's status is
   * written before the run's end, which lets the next queued run of the thread go.
   */
  private Mono<Void> cancelHere(Run run, String action) {
    return Mono.defer(() -> {
      if (!run.halt()) {
        return action.equals("rollback") ? rollBackEnded(run) : Mono.empty();
      }
      Mono<Void> undo = action.equals("rollback") && run.markErased() ? erase(run) : Mono.empty();
      return undo.then(finalThreadStatus(run, "idle")).onErrorResume(error -> {
        LOG.warn("cancelling run {} of thread {}: {}", run.runId, run.threadId, error.toString());
        return Mono.empty();
      }).then(Mono.fromRunnable(run::cancel));
    });
  }

  /**
   * Erases a rolled-back run of this process that still holds its thread: its checkpoints, then its live part here,
   * then its record (the record goes even when the checkpoints could not be erased, so that a rolled-back run is
   * never left listed, nor saved {@code interrupted}; a record that could not be deleted stays flagged, so whoever
   * takes it next erases it).
   */
  private Mono<Void> erase(Run run) {
    SharedRuns all = Objects.requireNonNull(shared);
    Mono<Void> checkpoints = rollBack(run.threadId, run).onErrorResume(error -> {
      LOG.warn("could not erase the checkpoints of rolled-back run {} of thread {}: {}", run.runId, run.threadId,
          error.toString());
      return Mono.empty();
    });
    Mono<Boolean> record = all.queue.deleteOwned(run.runId, Objects.requireNonNull(run.owner), run.attempt)
        .retryWhen(Sql.transientRetry())
        .onErrorResume(error -> {
          LOG.warn("could not delete rolled-back run {} of thread {}: {}", run.runId, run.threadId, error.toString());
          return Mono.just(false);
        });
    // forgotten here before its record goes: a client told by another process that the run is gone must not find it
    // listed here (a list merges this process's runs into the stored ones)
    return checkpoints.then(runs.forgetLocal(run)).then(record).then();
  }

  /**
   * A rollback that reached a run which ended here at the same moment: the database refuses the end of a run
   * flagged for rollback ({@code PostgresRunStore}'s save), so when the flag came first the record still shows the
   * run {@code running}, owned by this process, holding its thread: it is erased as if it had been stopped (also a
   * run an interrupt ended here while a rollback flag replaced the interrupt's). When its end came first, the run
   * stays as it ended (a finished run is not cancelled). One caller does it (signal and tick may both bring the
   * flag).
   */
  private Mono<Void> rollBackEnded(Run run) {
    SharedRuns all = Objects.requireNonNull(shared);
    return run.saves()
        .then(all.store.get(run.threadId, run.runId))
        .filter(record -> !record.finished() && Objects.equals(record.owner(), run.owner)
            && record.attempt() == run.attempt && run.markErased())
        .flatMap(record -> erase(run).then(finalThreadStatus(run, "idle")))
        .onErrorResume(error -> {
          LOG.warn("rolling back run {} of thread {} that had just ended: {}", run.runId, run.threadId,
              error.toString());
          return Mono.empty();
        });
  }

  /**
   * Cancels a run this process does not execute (PostgreSQL): a queued one ends at once, a running one is flagged
   * and its owner cancels it (at once when signalled, else at its next tick; the sweeper hands the run of a dead owner
   * to a process that ends it). With {@code wait}, emits the run's record once it ended; without, once the cancel is
   * recorded (the run's record as it is then).
   */
  private Mono<RunStore.RunRecord> cancelElsewhere(String threadId, String runId, String action, boolean wait) {
    SharedRuns all = Objects.requireNonNull(shared);
    return runs.require(threadId, runId).flatMap(before -> before.finished() ? Mono.just(before)
        : all.queue.requestCancel(threadId, runId, action, Instant.now())
            .then(wait ? all.awaitEnd(threadId, runId)
                : runs.require(threadId, runId).onErrorResume(HttpProblem.class, gone -> Mono.empty()))
            .defaultIfEmpty(new RunStore.RunRecord(runId, threadId, before.assistantId(), before.createdAt(),
                Instant.now(), "interrupted", before.metadata(), before.multitaskStrategy(), null, null,
                before.attempt())));
  }

  /**
   * A clean stop (SIGTERM): no new run is accepted (503) and none is claimed; the runs executing here get until
   * {@code grace} has passed to finish. Then those still executing are handed over (PostgreSQL: stopped here,
   * writing nothing final, and put back in the queue, where another process claims them and continues them from
   * their checkpoints) or, in memory, where nobody can take them, cancelled. Emits how many were handed over or
   * cancelled.
   */
  public Mono<Integer> drain(Duration grace) {
    return Mono.defer(() -> {
      draining = true;
      if (shared != null) {
        shared.drain();
      }
      // the ends of runs that finished just before are saved before the database connections go
      return Flux.interval(Duration.ZERO, DRAIN_POLL).filter(tick -> runs.unfinished().isEmpty()).next().then()
          .timeout(grace, Mono.empty())
          .then(Mono.defer(this::handOver))
          .flatMap(handedOver -> runs.saved().thenReturn(handedOver));
    });
  }

  private Mono<Integer> handOver() {
    List<Run> left = runs.unfinished();
    if (left.isEmpty()) {
      return Mono.just(0);
    }
    if (shared == null) {
      left.forEach(Run::cancel);
      LOG.warn("cancelled {} run(s) still executing at the end of the shutdown grace period", left.size());
      return Mono.just(left.size());
    }
    SharedRuns all = shared;
    return Flux.fromIterable(left).concatMap(run -> {
      if (!run.halt()) {
        return Mono.just(false); // it ended meanwhile
      }
      EventWriter log = run.eventLog; // its taker numbers its events after the ones kept so far: keep them all
      Mono<Void> kept = log == null ? Mono.empty() : log.flushed();
      return kept.then(all.queue.release(run.runId, Objects.requireNonNull(run.owner), run.attempt, Instant.now()))
          .flatMap(released -> runs.forgetLocal(run).thenReturn(released))
          .doFinally(signal -> run.publishEnd())
          .onErrorResume(error -> {
            LOG.warn("could not hand over run {} (its lease runs out and a sweeper takes it): {}", run.runId,
                error.toString());
            return Mono.just(false);
          });
    }).filter(released -> released).count().map(Long::intValue)
        .doOnNext(count -> LOG.info("handed over {} run(s) still executing at the end of the shutdown grace period"
            + " to the other server processes", count));
  }

  /** Cancels the run for a client that left (on_disconnect, cancel_on_disconnect); a stateless run's thread goes. */
  void cancelForLeavingClient(Run run, boolean deleteThread) {
    if (shared != null) {
      (run.queued ? cancelElsewhere(run.threadId, run.runId, "interrupt", false).then()
          : cancelHere(run, "interrupt"))
          .then(deleteThread ? deleteThread(run.threadId, false).then() : Mono.empty())
          .subscribe(null, error -> LOG.warn("could not cancel run {} of thread {} after its client left: {}",
              run.runId, run.threadId, error.toString()));
      return;
    }
    runs.cancel(run.threadId, run.runId)
        .flatMap(cancelled -> !cancelled ? Mono.empty() : deleteThread ? deleteThread(run.threadId, false).then()
            : finalThreadStatus(run, "idle"))
        .subscribe(null, error -> LOG.warn("could not cancel run {} of thread {} after its client left: {}", run.runId,
            run.threadId, error.toString()));
  }

  /** DELETE of a run: an unfinished one is cancelled first (the thread is then idle); emits whether it existed. */
  public Mono<Boolean> deleteRun(String threadId, String runId) {
    if (shared != null) { // executing here or elsewhere: cancelled first; its kept events go too
      SharedRuns all = shared;
      Mono<Void> cancelled = runs.live(threadId, runId).filter(run -> !run.status.finished())
          .map(run -> cancelHere(run, "interrupt"))
          .orElseGet(() -> cancelElsewhere(threadId, runId, "interrupt", true).then()
              .onErrorResume(HttpProblem.class, unknown -> Mono.empty()));
      return cancelled.then(runs.delete(threadId, runId))
          .flatMap(existed -> all.events.deleteRun(runId).thenReturn(existed));
    }
    return runs.live(threadId, runId).map(run -> runs.cancel(threadId, runId)
            .flatMap(cancelled -> cancelled ? finalThreadStatus(run, "idle") : Mono.<Void>empty()))
        .orElse(Mono.empty())
        .then(runs.delete(threadId, runId));
  }

  /**
   * Registers the run (see {@link RunRegistry#start} for a busy thread), rolls back the run it replaces
   * (multitask_strategy rollback) and, when asked, marks the thread busy. Once the run is registered a failure no
   * longer fails the request (a client retries a 5xx, which would create the run twice): the run ends as error
   * without executing, and each endpoint reports that as it reports a failed run.
   */
  private Mono<Run> begin(String threadId, RunRequest run, boolean markBusy) {
    if (draining) {
      return Mono.error(new HttpProblem(503, "this server process is shutting down; send the run to another one"));
    }
    if (shared != null) {
      return beginShared(threadId, run, markBusy);
    }
    return runs.start(UUID.randomUUID().toString(), threadId, run.assistantId(), run.metadata(),
            run.multitaskStrategy(), !run.delay().isZero())
        .flatMap(started -> {
          Mono<Void> prepare = started.rolledBack == null ? Mono.empty() : rollBack(threadId, started.rolledBack);
          if (markBusy) {
            prepare = prepare.then(markBusy(threadId, run, false));
          }
          return prepare.onErrorResume(error -> {
            started.fail(error);
            return Mono.empty();
          }).thenReturn(started);
        });
  }

  /**
   * Records the run with its whole request in the database, claimed by this process when its thread is free
   * (PostgreSQL: see {@code PostgresRunQueue}); this is committed before the run is acknowledged. A busy thread's
   * multitask strategy decides: reject (422), or queued behind the runs ahead, which interrupt and rollback flag for
   * cancelling (those of this process are cancelled here and now). A queued run ({@link Run#queued}) executes when a
   * process claims it; this one tries once its delay passed.
   */
  private Mono<Run> beginShared(String threadId, RunRequest run, boolean markBusy) {
    SharedRuns all = Objects.requireNonNull(shared);
    HttpProblem unknown = RunRegistry.unknownStrategy(run.multitaskStrategy());
    if (unknown != null) {
      return Mono.error(unknown);
    }
    return Mono.defer(() -> {
      String runId = UUID.randomUUID().toString();
      Instant now = Instant.now();
      String owner = all.owner();
      String assistantId = run.assistantId();
      ObjectNode request = JSON.createObjectNode();
      request.set("body", run.body());
      request.put("stateless", run.freshThread());
      return all.queue.enqueue(new PostgresRunQueue.NewRun(runId, threadId, assistantId, now, run.metadata(),
          run.multitaskStrategy(), owner, request, run.delay(), run.freshThread() ? null : run.graphId(),
          run.assistantAt(), run.configurable()))
          .flatMap(enqueued -> {
        if (enqueued.stale()) {
          return Mono.error(new ServedAssistants.StaleAssistantException(assistantId));
        }
        if (enqueued.status() == null) {
          return Mono.error(HttpProblem.busy(threadId, enqueued.ahead().get(0).runId()));
        }
        if (!run.multitaskStrategy().equals("enqueue")) {
          for (PostgresRunQueue.Ahead ahead : enqueued.ahead()) {
            runs.live(ahead.runId()).ifPresent(local -> cancelHere(local, run.multitaskStrategy()).subscribe(null,
                error -> LOG.warn("could not cancel run {}: {}", local.runId, error.toString())));
          }
        }
        boolean claimed = enqueued.status().equals("running");
        Run registered = new Run(runId, threadId, assistantId, now, run.metadata(), run.multitaskStrategy(),
            claimed ? owner : null, 1, 0);
        registered.threadMarked = enqueued.threadMarked();
        Mono<Void> prepare = markBusy && !registered.threadMarked ? markBusy(threadId, run, false) : Mono.empty();
        if (!claimed) {
          registered.queued = true;
          if (!run.delay().isZero()) {
            all.claimAfter(run.delay());
          }
          return prepare.thenReturn(registered);
        }
        registered.status = RunStatus.RUNNING;
        registered.startedAt = now;
        registered.turn.tryEmitEmpty();
        // a run streamed or waited for here keeps its events for its end, unless its client may resume it elsewhere
        // or somebody elsewhere follows it; a background run's are written as they come (see EventWriter)
        registered.eventLog = new EventWriter(all.events, runId, threadId,
            run.body().path("stream_resumable").asBoolean(false));
        runs.adopt(registered);
        return prepare.onErrorResume(error -> {
          registered.fail(error);
          return Mono.empty();
        }).thenReturn(registered);
      });
    });
  }

  /**
   * Executes a run this process claimed from the queue (PostgreSQL): parsed again from its record, registered, and
   * launched; a run another process had started (attempt 2 or more) continues from its own latest checkpoint when it
   * has one (committed tasks replay, see {@link RunRequest#resuming}), else starts over from its request; its events
   * continue its predecessor's numbering and its metadata event says which attempt it is. A run flagged for
   * cancelling meanwhile is cancelled without executing.
   */
  private void executeClaimed(PostgresRunQueue.Claimed claimed) {
    SharedRuns all = Objects.requireNonNull(shared);
    RunStore.RunRecord record = claimed.record();
    Mono<Long> firstEvent = record.attempt() > 1 ? all.events.lastSeq(record.runId()).map(last -> last + 1)
        : Mono.just(0L);
    firstEvent.subscribe(first -> {
      Run registered = new Run(record.runId(), record.threadId(), record.assistantId(), record.createdAt(),
          record.metadata(), record.multitaskStrategy(), record.owner(), record.attempt(), first);
      registered.status = RunStatus.RUNNING;
      registered.startedAt = claimed.startedAt();
      registered.claimed = true;
      registered.turn.tryEmitEmpty();
      // its requester may follow it from any process
      registered.eventLog = new EventWriter(all.events, record.runId(), record.threadId(), true);
      runs.adopt(registered);
      RunRequest request;
      try {
        request = requests.apply(claimed.request().path("body"), claimed.request().path("stateless").asBoolean());
      } catch (RuntimeException e) {
        LOG.warn("run {} of thread {} cannot execute: its recorded request is refused: {}", record.runId(),
            record.threadId(), e.getMessage());
        registered.fail(e);
        return;
      }
      if (claimed.cancelAction() != null) {
        cancelHere(registered, claimed.cancelAction()).subscribe();
        return;
      }
      Mono<RunRequest> resumed = record.attempt() == 1 ? Mono.just(request)
          : request.graph().getState(RunConfig.thread(record.threadId()))
              .map(state -> record.runId().equals(state.metadata().get(RUN_ID)) ? request.resuming() : request)
              .defaultIfEmpty(request);
      resumed.subscribe(go -> launch(registered, go, true), registered::fail);
      // a flag recorded after the claim was signalled maybe before the run was registered here (the signal then found
      // nothing to cancel): read once now, alongside the execution; a later flag's signal finds the run
      all.queue.cancelAction(record.runId()).subscribe(action -> cancelHere(registered, action).subscribe(),
          error -> LOG.warn("could not read the cancel of run {}: {}", record.runId(), error.toString()));
    }, error -> LOG.warn("could not start claimed run {}: {}", record.runId(), error.toString()));
  }

  /**
   * Marks the thread busy with the run's graph (a streamed run does this after sending its first event, before its
   * first step), creating a stateless run's thread; a 404 when the thread was deleted meanwhile. A run claimed from
   * the queue finds its stateless thread created already, unless it is the thread's first execution.
   */
  private Mono<Void> markBusy(String threadId, RunRequest run, boolean claimed) {
    Map<String, Object> metadata = Map.of("graph_id", run.graphId(), "assistant_id", run.assistantId());
    Mono<ThreadStore.ThreadRecord> marked = !run.freshThread() ? threads.update(threadId, "busy", run.graphId(),
        metadata, run.configurable()) : !claimed ? threads.createBusy(threadId, run.graphId(), metadata)
        : threads.update(threadId, "busy", run.graphId(), metadata)
            .switchIfEmpty(Mono.defer(() -> threads.createBusy(threadId, run.graphId(), metadata)));
    return marked.switchIfEmpty(Mono.error(() -> HttpProblem.notFound("thread " + threadId + " (deleted)"))).then();
  }

  /**
   * Rolls back a cancelled run (multitask_strategy rollback, cancel with action=rollback): deletes the checkpoints it
   * saved, so the thread is as it was before it, and a new run continues from the checkpoint that was the latest when
   * the rolled-back run started. Its first checkpoint is the oldest created since it got the thread; the thread keeps
   * that checkpoint's parent and older ones (nothing, when the run was the thread's first). A run that never got the
   * thread (enqueued) saved nothing. A write the cancelled run still had in flight may land afterwards; one against a
   * deleted checkpoint is refused.
   */
  private Mono<Void> rollBack(String threadId, Run cancelled) {
    return Mono.defer(() -> {
      Instant startedAt = cancelled.startedAt;
      Entrypoint<?, ?> graph = graphs.byAssistant(cancelled.assistantId);
      CheckpointSaver saver = graph.checkpointer().orElse(null);
      if (saver == null || startedAt == null) {
        return Mono.empty(); // nothing was saved
      }
      return deleteSince(threadId, graph, saver, startedAt);
    });
  }

  /** Deletes the thread's checkpoints created since {@code startedAt}. */
  private static Mono<Void> deleteSince(String threadId, Entrypoint<?, ?> graph,
                                        CheckpointSaver saver, Instant startedAt) {
    return graph.getStateHistory(RunConfig.thread(threadId))
        .takeWhile(snapshot -> !snapshot.createdAt().isBefore(startedAt))
        .collectList()
        .flatMap(created -> {
          if (created.isEmpty()) {
            return Mono.<Void>empty();
          }
          RunConfig parent = created.get(created.size() - 1).parentConfig();
          String parentId = parent == null ? null : parent.checkpointId().orElse(null);
          return parentId == null ? saver.deleteThread(threadId) : saver.deleteAfter(threadId, "", parentId);
        });
  }

  /**
   * The run's config: its thread, the checkpoint it starts from (the request's {@code checkpoint_id}, else the
   * latest), its context, metadata and durability.
   */
  private static RunConfig configOf(Run registered, RunRequest run) {
    Map<String, Object> metadata = new LinkedHashMap<>(run.metadata());
    metadata.put(RUN_ID, registered.runId); // which run wrote a checkpoint: a run taken over continues its own
    RunConfig config = run.settings().applyTo(RunConfig.thread(registered.threadId).withMetadata(metadata)
        .withConfigurable(run.configurable()));
    if (run.checkpointId() != null) {
      config = config.withCheckpointId(run.checkpointId());
    }
    if (run.context() != null) {
      config = config.withContext(run.context());
    }
    return run.durability() == null ? config : config.withDurability(run.durability());
  }

  /**
   * What a run waits for before executing: its turn on the thread (enqueued runs), then its {@code after_seconds};
   * then it is running. Nothing to wait for on the hot path.
   */
  private Mono<Void> whenDue(Run registered, RunRequest run) {
    Mono<Void> turn = registered.turn();
    if (!run.delay().isZero()) {
      turn = turn.then(Mono.delay(run.delay())).then();
    }
    return turn.then(Mono.fromRunnable(() -> runs.running(registered)));
  }

  /**
   * Starts the run's execution, which goes on whoever listens (it stops only when cancelled), and emits its outcome:
   * what wait and join answer. The execution streams the run in its stream modes and publishes every event to the run
   * (kept for joinStream: see {@link RunRegistry}), whether it was streamed, waited for or started in the background;
   * its events end when it ends. Deletes the thread afterwards when the run asks for it.
   *
   * @param markBusy whether the thread is marked busy by the execution, after its metadata event (streamed runs: their
   *                 first event does not wait for that write); waited and background runs were marked in {@link #begin}
   */
  private Mono<JsonNode> launch(Run registered, RunRequest run, boolean markBusy) {
    Sinks.One<JsonNode> outcome = Sinks.one();
    Mono<JsonNode> executed = execute(registered, run, markBusy);
    if (shared != null) { // the thread is free for the next run once the end is committed: answer only then
      executed = executed.flatMap(value -> registered.saves().thenReturn(value))
          .onErrorResume(error -> registered.saves().then(Mono.error(error)));
    }
    registered.attach(finished(executed, registered, run).subscribe(value -> {
      registered.publishEnd();
      outcome.tryEmitValue(value);
    }, error -> {
      registered.publishEnd();
      outcome.tryEmitError(error);
    }));
    URI webhook = Webhooks.of(run.body());
    if (webhook != null) { // once the run ended, however (a cancel too), and its end is committed
      registered.result.asMono()
          .flatMap(value -> (shared != null ? registered.saves() : Mono.<Void>empty())
              .onErrorResume(error -> Mono.empty())
              .then(Mono.defer(() -> webhooks.send(webhook, registered.record(), value))))
          .subscribe();
    }
    return outcome.asMono();
  }

  /**
   * Runs to the end, publishing the run's events (metadata first, one per chunk of the requested modes, an error
   * event on failure), and records the outcome: the run's and the thread's status, and the value of the run (its
   * last values chunk: the final value, or {@code {"__interrupt__": [...]}} on pause), or its {@code __error__} body.
   * Errors (after its error event) only when the run's command or input was refused before any step ran, which a
   * quick wait answers with 422.
   */
  private Mono<JsonNode> execute(Run registered, RunRequest run, boolean markBusy) {
    String tid = registered.threadId;
    RunConfig config = configOf(registered, run);
    // the outcome is the last values chunk (a pause, at interrupts or at a breakpoint, ends with {"__interrupt__": ..}
    // in values and in updates): both modes run along, and their chunks are published only when asked for
    boolean wantsUpdates = run.options().modes().contains(StreamMode.UPDATES);
    // the server's own modes (messages, events) read more of the run than was asked for: published only through them
    DerivedModes derived = DerivedModes.of(run, registered.runId, () -> Map.of("graph_id",
        run.graphId(), "assistant_id", run.assistantId(), "thread_id", tid, "run_attempt",
        registered.attempt));
    StreamOptions options = derived.options(run.wantsValues() && wantsUpdates ? run.options()
        : new StreamOptions(Stream.concat(run.options().modes().stream(), Stream.of(StreamMode.VALUES,
            StreamMode.UPDATES)).distinct().toList(), run.options().subgraphs()));
    Flux<StreamChunk> chunks = Flux.defer(() -> run.command() != null
        ? run.graph().stream(run.command(), config, options)
        : run.graph().stream(run.input(), config, options));
    // a run that continues the thread's pending one (a resume, or neither input nor command) shows the state it
    // continues from first, as the reference's loop does when it resumes
    boolean resumes = run.command() != null && run.command().kind() != Command.Kind.PROCEED;
    boolean continues = run.command() != null && run.command().kind() == Command.Kind.PROCEED
        && !run.body().hasNonNull("input") && !run.body().hasNonNull("command");
    if ((resumes || continues) && run.wantsValues()) {
      chunks = run.graph().getState(config)
          .filter(state -> resumes || !state.next().isEmpty() && state.values() != null)
          .map(state -> new StreamChunk(StreamMode.VALUES, List.of(), state.values())).flux().concatWith(chunks);
    }
    Mono<Void> due = markBusy && !registered.threadMarked ? registered.turn().then(markBusy(tid, run, registered.claimed))
        .then(whenDue(registered, run))
        : whenDue(registered, run);
    boolean[] paused = {false};
    Object[] last = {null};
    return Mono.fromRunnable(() -> registered.publish("metadata", "{\"run_id\":\"" + registered.runId
            + "\",\"attempt\":" + registered.attempt + "}"))
        .then(due)
        .then(Mono.fromRunnable(() -> derived.start(run.command() != null ? run.body().get("command")
            : run.body().get("input"), registered::publish)))
        .thenMany(chunks)
        .doOnNext(chunk -> {
          if (chunk.data() instanceof Map<?, ?> map && map.containsKey("__interrupt__")) {
            paused[0] = true;
          }
          if (chunk.mode() == StreamMode.VALUES && chunk.namespace().isEmpty()) {
            last[0] = chunk.data();
          }
          // a values chunk's messages/complete follows it, as the reference's; the other derived events come first
          boolean derivedAfter = chunk.mode() == StreamMode.VALUES;
          if (!derivedAfter) {
            derived.accept(chunk, run.options().subgraphs(), registered::publish);
          }
          if (derived.asked(chunk, run.options().subgraphs())) {
            String name = chunk.mode() == StreamMode.MESSAGES ? "messages" : chunk.mode().wireName();
            if (!chunk.namespace().isEmpty()) {
              name = name + "|" + String.join("|", chunk.namespace());
            }
            registered.publish(name, json(EventPayloads.of(chunk)));
          }
          if (derivedAfter) {
            derived.accept(chunk, run.options().subgraphs(), registered::publish);
          }
        })
        .then(Mono.fromRunnable(() -> derived.finish(last[0], registered::publish)))
        .then(Mono.defer(() -> endThreadStatus(registered, paused[0] ? "interrupted" : "idle")))
        .then(Mono.fromCallable(() -> {
          JsonNode value = JSON.valueToTree(last[0]);
          registered.finish(RunStatus.SUCCESS, value);
          return value;
        }))
        .onErrorResume(error -> {
          boolean refused = refused(error);
          JsonNode failure = errorValue(error);
          // the error event before the end: joiners in other processes read every event before they see the end
          registered.publish("error", failure.get("__error__").toString());
          return endThreadStatus(registered, refused ? "idle" : "error")
              .onErrorResume(ignored -> Mono.empty()) // the run's outcome is known; the status write is best effort
              .then(Mono.fromRunnable(() -> registered.finish(RunStatus.ERROR, failure)))
              .then(refused ? Mono.error(error) : Mono.just(failure));
        });
  }

  /**
   * The thread's status after the run's execution ended with {@code outcome}: on PostgreSQL it goes with the run's final
   * record (one statement, under the record's compare-and-set, so a process that lost the run writes neither, and the
   * thread is never idle while its run still shows running); in memory it is written now ({@link #finalThreadStatus}).
   */
  private Mono<Void> endThreadStatus(Run registered, String outcome) {
    if (shared == null) {
      return finalThreadStatus(registered, outcome);
    }
    return Mono.fromRunnable(() -> registered.threadStatusAtEnd = runs.threadStatusAfter(registered, outcome));
  }

  /**
   * Writes the thread's status after the run ended with {@code outcome} (its execution, or a cancel), unless this
   * process lost the run (its worker's lease ran out): then the sweeper that took the run repairs the thread.
   */
  private Mono<Void> finalThreadStatus(Run registered, String outcome) {
    if (!runs.holds(registered)) {
      LOG.warn("run {} of thread {} ended after its worker's lease was lost: its end is not recorded here",
          registered.runId, registered.threadId);
      return Mono.empty();
    }
    Mono<ThreadStore.ThreadRecord> written = threads.update(registered.threadId,
        runs.threadStatusAfter(registered, outcome), null, Map.of());
    // setting a status is idempotent: on PostgreSQL a connection lost mid-statement costs a retry
    return (shared == null ? written : written.retryWhen(Sql.transientRetry())).then();
  }

  /** Compact JSON of a chunk's data; a chunk that is not JSON fails the run with a clear error. */
  private static String json(@Nullable Object data) {
    try {
      return JSON.writeValueAsString(data);
    } catch (JsonProcessingException e) {
      throw new SerializationException("a stream chunk is not JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** Whether the run failed because its input or command was refused before any step ran (the thread is unchanged). */
  private static boolean refused(Throwable error) {
    return error instanceof InvalidCommandException
        || error instanceof EmptyInputException;
  }

  /**
   * The thread a run goes on, created when missing with {@code if_not_exists: create} (else 404; a stateless run's
   * thread is created later, by {@link #markBusy}), then the run registered on it.
   */
  private Mono<Run> ready(String threadId, RunRequest run, boolean markBusy) {
    Mono<?> thread = run.freshThread() ? Mono.empty() // created by markBusy
        : run.createThread() ? threads.create(threadId, Map.of(), "do_nothing") : threads.requireExists(threadId);
    return thread.then(begin(threadId, run, markBusy)).doOnNext(registered -> threadStreams.started(threadId));
  }

  /** After the run ({@code outcome}): deletes the thread when the run asked for it (stateless runs by default). */
  private <T> Mono<T> finished(Mono<T> outcome, Run registered, RunRequest run) {
    if (!run.deleteThread()) {
      return outcome;
    }
    // on_completion delete: the run was the thread's own (a stateless run's thread, or one the client gave up)
    Mono<Void> cleanUp = Mono.defer(() -> deleteThread(registered.threadId, false).then())
        .onErrorResume(error -> Mono.empty());
    return outcome.flatMap(value -> cleanUp.thenReturn(value)).onErrorResume(error -> cleanUp.then(Mono.error(error)));
  }

  /**
   * Deletes the thread: its runs (unfinished ones are cancelled first, so they do not write the thread again), its
   * record and its checkpoints; emits whether the thread existed.
   */
  public Mono<Boolean> deleteThread(String threadId) {
    return deleteThread(threadId, true);
  }

  /**
   * Deletes the thread; with {@code elsewhere} (PostgreSQL) its runs executing in other processes are cancelled
   * first, and the events its runs kept go with it (those of a run's own thread deleted at its end go with the
   * retention).
   */
  private Mono<Boolean> deleteThread(String threadId, boolean elsewhere) {
    Mono<Void> others = shared == null || !elsewhere ? Mono.empty()
        : shared.queue.cancelThread(threadId).then(shared.events.deleteThread(threadId));
    return others.then(runs.deleteThread(threadId)).then(threads.delete(threadId))
        .flatMap(existed -> checkpointer.deleteThread(threadId).thenReturn(existed));
  }

  /**
   * The {@code __error__} body of a failed run (wait, join) and, its inner object, the SSE error event's data:
   * {@code error} is the exception's simple class name, except where the reference's clients know the failure by
   * the reference's own name ({@link #wireName}).
   */
  public static JsonNode errorValue(Throwable error) {
    return errorBody(wireName(error), String.valueOf(error.getMessage()));
  }

  /** What wait and join answer for a cancelled run. */
  static JsonNode cancelled(String runId) {
    return errorBody("RunCancelled", "run " + runId + " was cancelled");
  }

  /** {@code {"__error__": {"error": error, "message": message}}}. */
  private static JsonNode errorBody(String error, String message) {
    ObjectNode node = JSON.createObjectNode();
    node.putObject("__error__").put("error", error).put("message", message);
    return node;
  }

  /**
   * The name a failure has on the wire: the recursion limit's is the reference's {@code GraphRecursionError} (what
   * LangGraph's clients match on, e.g. the SDK's tests), every other exception its simple class name.
   */
  static String wireName(Throwable error) {
    return error instanceof GraphRecursionException ? "GraphRecursionError" : error.getClass().getSimpleName();
  }
}
