package dev.fluxgraph.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The runs of this server process: their live part (execution handle, result for {@code join}, events for
 * {@code joinStream}) in memory, their records in the {@link RunStore} (saved without delaying the run: saves may
 * overtake each other and the store keeps the newest), so that runs of other processes, or of a process that died,
 * are still found.
 */
final class RunRegistry {

  private static final System.Logger LOG = System.getLogger(RunRegistry.class.getName());

  /** Lifecycle of a run, as the LangGraph API names it. */
  enum Status {
    PENDING, RUNNING, SUCCESS, ERROR, INTERRUPTED;

    String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    boolean finished() {
      return this != PENDING && this != RUNNING;
    }
  }

  /** One run. Mutable status, guarded by the registry. */
  static final class Run {
    final String runId;
    final String threadId;
    final String assistantId;
    final Instant createdAt = Instant.now();
    final Map<String, Object> metadata;
    final String multitaskStrategy;
    volatile Instant updatedAt = createdAt;
    volatile Status status = Status.PENDING;
    volatile @Nullable Disposable execution;
    /** The run that multitask_strategy rollback cancelled and erased to make way for this one. */
    volatile @Nullable Run rolledBack;
    final Sinks.One<JsonNode> result = Sinks.one();
    /** The SSE events of a streamed run, each with its id, kept for joinStream. */
    private final Sinks.Many<Event> events = Sinks.many().replay().all();
    private final java.util.concurrent.atomic.AtomicLong nextEventId = new java.util.concurrent.atomic.AtomicLong();

    /** One framed SSE event and its id. */
    record Event(long id, String text) {
    }

    void publish(String framed) {
      events.tryEmitNext(new Event(nextEventId.getAndIncrement(), framed));
    }

    void publishError(Throwable error) {
      events.tryEmitError(error);
    }

    void publishEnd() {
      events.tryEmitComplete();
    }

    /** The framed events with an id greater than {@code afterId}, then the live ones until the run ends. */
    reactor.core.publisher.Flux<String> events(long afterId) {
      return events.asFlux().filter(event -> event.id() > afterId).map(Event::text);
    }

    Run(String runId, String threadId, String assistantId, Map<String, Object> metadata,
        String multitaskStrategy) {
      this.runId = runId;
      this.threadId = threadId;
      this.assistantId = assistantId;
      this.metadata = Map.copyOf(metadata);
      this.multitaskStrategy = multitaskStrategy;
    }

    private @Nullable RunRegistry registry;
    /** The run's saves, one after the other (guarded by this). */
    private Mono<Void> saved = Mono.empty();

    RunStore.RunRecord record() {
      return new RunStore.RunRecord(runId, threadId, assistantId, createdAt, updatedAt, status.wire(), metadata,
          multitaskStrategy);
    }

    void finish(Status finalStatus, JsonNode value) {
      if (status.finished()) {
        return;
      }
      status = finalStatus;
      updatedAt = Instant.now();
      RunRegistry owner = registry;
      if (owner != null) {
        owner.finished(this); // frees the thread before anyone waiting on the result (enqueue) looks at it
      }
      result.tryEmitValue(value);
    }
  }

  /** How many finished runs keep their live part (result, events) for join and joinStream in this process. */
  static final int FINISHED_RUNS_KEPT = 1_000;

  private final RunStore store;
  private final ConcurrentHashMap<String, Run> runs = new ConcurrentHashMap<>();
  /** The unfinished run of each busy thread. */
  private final ConcurrentHashMap<String, Run> active = new ConcurrentHashMap<>();
  /** Finished runs, oldest first, for eviction. */
  private final java.util.ArrayDeque<Run> finished = new java.util.ArrayDeque<>();

  RunRegistry(RunStore store) {
    this.store = store;
  }

  /**
   * Registers a run on the thread. When the thread already has an unfinished run, the multitask strategy decides:
   * {@code reject} fails with 422, {@code interrupt} cancels that run (its finished tasks stay recorded) and starts,
   * {@code rollback} cancels it and erases it (its record is deleted, and the new run starts from the thread's state
   * before it: see {@link Run#rolledBack}), {@code enqueue} waits for it to end and starts.
   */
  Mono<Run> start(String runId, String threadId, String assistantId, Map<String, Object> metadata,
                  String multitaskStrategy) {
    if (!List.of("reject", "interrupt", "enqueue", "rollback").contains(multitaskStrategy)) {
      return Mono.error(HttpProblem.invalid("multitask_strategy must be reject, interrupt, rollback or enqueue, was '"
          + multitaskStrategy + "'"));
    }
    return Mono.defer(() -> {
      Run active;
      synchronized (this) {
        active = this.active.get(threadId);
        if (active == null || active.status.finished()) {
          Run run = new Run(runId, threadId, assistantId, metadata, multitaskStrategy);
          run.status = Status.RUNNING;
          run.registry = this;
          runs.put(runId, run);
          this.active.put(threadId, run);
          save(run);
          return Mono.just(run);
        }
      }
      return switch (multitaskStrategy) {
        case "reject" -> Mono.error(new HttpProblem(422, "thread " + threadId
            + " is busy with run " + active.runId + " (multitask_strategy reject)"));
        case "interrupt" -> cancel(threadId, active.runId)
            .then(start(runId, threadId, assistantId, metadata, multitaskStrategy));
        case "rollback" -> cancel(threadId, active.runId)
            .then(delete(threadId, active.runId))
            .then(start(runId, threadId, assistantId, metadata, multitaskStrategy))
            .doOnNext(run -> run.rolledBack = active);
        case "enqueue" -> active.result.asMono().onErrorResume(error -> Mono.empty())
            .then(start(runId, threadId, assistantId, metadata, multitaskStrategy));
        default -> Mono.error(new IllegalStateException("unreachable: " + multitaskStrategy));
      };
    });
  }

  /**
   * Sends the run's record to the store in the background, after the run's earlier saves (so a status never goes
   * back); a failed save is logged and the run goes on.
   */
  private void save(Run run) {
    Mono<Void> next;
    synchronized (run) {
      RunStore.RunRecord record = run.record();
      next = run.saved.onErrorResume(error -> Mono.empty()).then(store.save(record)).cache();
      run.saved = next;
    }
    next.subscribe(null, error -> LOG.log(System.Logger.Level.WARNING,
        "could not save run " + run.runId + " (" + run.status.wire() + "): " + error.getMessage()));
  }

  /** A run ended: its thread is free, and the oldest finished runs beyond the bound are forgotten. */
  private synchronized void finished(Run run) {
    active.remove(run.threadId, run);
    save(run);
    finished.addLast(run);
    while (finished.size() > FINISHED_RUNS_KEPT) {
      Run oldest = finished.removeFirst();
      runs.remove(oldest.runId, oldest);
    }
  }

  /** The run's live part, if it runs (or recently ran) in this process. */
  Optional<Run> live(String threadId, String runId) {
    Run run = runs.get(runId);
    return run != null && run.threadId.equals(threadId) ? Optional.of(run) : Optional.empty();
  }

  Run requireLive(String threadId, String runId) {
    return live(threadId, runId).orElseThrow(() -> HttpProblem.notFound("run " + runId + " of thread " + threadId
        + " (its events are only kept by the server process that ran it)"));
  }

  /** The run's record: the live one when it runs here, else the stored one; 404 when neither exists. */
  Mono<RunStore.RunRecord> require(String threadId, String runId) {
    return live(threadId, runId).map(run -> Mono.just(run.record()))
        .orElseGet(() -> store.get(threadId, runId))
        .switchIfEmpty(Mono.error(() -> HttpProblem.notFound("run " + runId + " of thread " + threadId)));
  }

  /** The thread's runs, newest first: stored records, with this process's live runs overriding them. */
  Flux<RunStore.RunRecord> list(String threadId, @Nullable String status, int limit, int offset) {
    List<Run> local = runs.values().stream().filter(run -> run.threadId.equals(threadId)).toList();
    return store.list(threadId, null, Math.max(0, offset) + Math.max(0, limit) + local.size(), 0).collectList()
        .flatMapMany(stored -> {
          Map<String, RunStore.RunRecord> merged = new java.util.LinkedHashMap<>();
          stored.forEach(record -> merged.put(record.runId(), record));
          local.forEach(run -> merged.put(run.runId, run.record()));
          return Flux.fromStream(merged.values().stream()
              .filter(record -> status == null || record.status().equals(status))
              .sorted(Comparator.comparing(RunStore.RunRecord::createdAt).reversed())
              .skip(Math.max(0, offset)).limit(Math.max(0, limit)));
        });
  }

  /** Deletes the run's record (after its pending saves) and its live part; emits whether it existed. */
  Mono<Boolean> delete(String threadId, String runId) {
    return Mono.defer(() -> {
      Optional<Run> run = live(threadId, runId);
      boolean local = run.map(found -> runs.remove(runId, found)).orElse(false);
      Mono<Void> saves;
      if (run.isPresent()) {
        synchronized (run.get()) {
          saves = run.get().saved.onErrorResume(error -> Mono.empty());
        }
      } else {
        saves = Mono.empty();
      }
      return saves.then(store.delete(threadId, runId)).map(stored -> stored || local);
    });
  }

  /** Cancels a running run: its tasks are cancelled, the thread stays resumable. */
  Mono<Run> cancel(String threadId, String runId) {
    return Mono.fromCallable(() -> {
      Run run = requireLive(threadId, runId);
      Disposable execution = run.execution;
      if (!run.status.finished() && execution != null) {
        execution.dispose();
        run.finish(Status.INTERRUPTED, com.fasterxml.jackson.databind.node.NullNode.getInstance());
        run.publishEnd();
      }
      return run;
    });
  }
}
