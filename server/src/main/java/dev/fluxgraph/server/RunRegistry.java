package dev.fluxgraph.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The server's runs: their status, their result for {@code join}, and a handle to cancel them. In memory for now
 * (runs of a process that died are not yet reported; see the README's feature table).
 */
final class RunRegistry {

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

  /** How many finished runs are kept for join/get/list before the oldest are forgotten. */
  static final int FINISHED_RUNS_KEPT = 10_000;

  private final ConcurrentHashMap<String, Run> runs = new ConcurrentHashMap<>();
  /** The unfinished run of each busy thread. */
  private final ConcurrentHashMap<String, Run> active = new ConcurrentHashMap<>();
  /** Finished runs, oldest first, for eviction. */
  private final java.util.ArrayDeque<Run> finished = new java.util.ArrayDeque<>();

  /**
   * Registers a run on the thread. When the thread already has an unfinished run, the multitask strategy decides:
   * {@code reject} fails with 422, {@code interrupt} cancels that run (its finished tasks stay recorded) and starts,
   * {@code enqueue} waits for it to end and starts. {@code rollback} is not supported yet (422).
   */
  Mono<Run> start(String runId, String threadId, String assistantId, Map<String, Object> metadata,
                  String multitaskStrategy) {
    if (!List.of("reject", "interrupt", "enqueue", "rollback").contains(multitaskStrategy)) {
      return Mono.error(HttpProblem.invalid("multitask_strategy must be reject, interrupt, rollback or enqueue, was '"
          + multitaskStrategy + "'"));
    }
    if (multitaskStrategy.equals("rollback")) {
      return Mono.error(HttpProblem.invalid("multitask_strategy rollback is not supported yet; "
          + "use reject, interrupt or enqueue"));
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
          return Mono.just(run);
        }
      }
      return switch (multitaskStrategy) {
        case "reject" -> Mono.error(new HttpProblem(422, "thread " + threadId
            + " is busy with run " + active.runId + " (multitask_strategy reject)"));
        case "interrupt" -> cancel(threadId, active.runId)
            .then(start(runId, threadId, assistantId, metadata, multitaskStrategy));
        case "enqueue" -> active.result.asMono().onErrorResume(error -> Mono.empty())
            .then(start(runId, threadId, assistantId, metadata, multitaskStrategy));
        default -> Mono.error(new IllegalStateException("unreachable: " + multitaskStrategy));
      };
    });
  }

  /** A run ended: its thread is free, and the oldest finished runs beyond the bound are forgotten. */
  private synchronized void finished(Run run) {
    active.remove(run.threadId, run);
    finished.addLast(run);
    while (finished.size() > FINISHED_RUNS_KEPT) {
      Run oldest = finished.removeFirst();
      runs.remove(oldest.runId, oldest);
    }
  }

  Optional<Run> get(String threadId, String runId) {
    Run run = runs.get(runId);
    return run != null && run.threadId.equals(threadId) ? Optional.of(run) : Optional.empty();
  }

  Run require(String threadId, String runId) {
    return get(threadId, runId).orElseThrow(() -> HttpProblem.notFound("run " + runId + " of thread " + threadId));
  }

  List<Run> list(String threadId, @Nullable String status, int limit, int offset) {
    List<Run> found = new ArrayList<>();
    for (Run run : runs.values()) {
      if (run.threadId.equals(threadId) && (status == null || run.status.wire().equals(status))) {
        found.add(run);
      }
    }
    found.sort(Comparator.comparing((Run run) -> run.createdAt).reversed());
    return found.stream().skip(offset).limit(limit).toList();
  }

  boolean delete(String threadId, String runId) {
    return get(threadId, runId).map(run -> runs.remove(runId) != null).orElse(false);
  }

  /** Cancels a running run: its tasks are cancelled, the thread stays resumable. */
  Mono<Run> cancel(String threadId, String runId) {
    return Mono.fromCallable(() -> {
      Run run = require(threadId, runId);
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
