package dev.fluxgraph.internal.server.runs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.internal.server.sse.Sse;
import dev.fluxgraph.internal.server.storage.RunStore;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One run of this process: its record's fields, its status (changed only through {@link #transition}), its turn on
 * the thread, its execution, its result and its kept SSE events.
 */
public final class Run {

  private static final Logger LOG = LoggerFactory.getLogger(Run.class);

  final String runId;
  final String threadId;
  final String assistantId;
  final Instant createdAt;
  /** Which execution of the run this is: 1, then one more each time another process took it over. */
  final int attempt;
  final Map<String, Object> metadata;
  final String multitaskStrategy;
  /** The worker that owns the run (null without workers): only while its lease holds is the run written. */
  final @Nullable String owner;
  volatile Instant updatedAt;
  volatile RunStatus status = RunStatus.PENDING;
  /** When the run got its turn on the thread (its checkpoints are the thread's ones from then on); null before. */
  volatile @Nullable Instant startedAt;
  /**
   * A run recorded in the database's queue (PostgreSQL) that this process does not execute (yet): it executes in the
   * process that claims it, and is followed from the database meanwhile.
   */
  volatile boolean queued;
  /** Whether this process claimed the run from the queue rather than recording it itself. */
  volatile boolean claimed;
  /** Whether the statement that recorded the run marked its thread busy already (PostgreSQL). */
  volatile boolean threadMarked;
  /** The run that multitask_strategy rollback cancelled and erased to make way for this one. */
  volatile @Nullable Run rolledBack;
  final Sinks.One<JsonNode> result = Sinks.one();
  /** Completes when the run may execute: the thread's earlier runs ended. */
  final Sinks.Empty<Void> turn = Sinks.empty();
  /** Why the run failed before it could execute (its preparation), or null. */
  private volatile @Nullable Throwable failure;
  private @Nullable Disposable execution; // guarded by this
  private boolean halted; // guarded by this
  private boolean erased; // guarded by this
  boolean deleted; // guarded by this
  /** The run's saves, one after the other (guarded by this). */
  Mono<Void> saved = Mono.empty();
  @Nullable RunRegistry registry;
  /** The run's SSE events with their ids, kept for joinStream (the newest {@link RunRegistry#EVENTS_KEPT_PER_RUN}). */
  private final Sinks.Many<Event> events = Sinks.many().replay().limit(RunRegistry.EVENTS_KEPT_PER_RUN);
  private long nextEventId; // guarded by emitting
  /** The id of this execution's first event: the earlier ones are its predecessors' (kept in the database). */
  final long firstEventId;
  /** Where the events also go when other processes may read them (PostgreSQL), or null. */
  @Nullable EventWriter eventLog;
  /**
   * The thread's status after this run (PostgreSQL): written by the statement that saves the run's end, under the
   * same compare-and-set, so the two commit together; null when the end leaves the thread alone.
   */
  volatile @Nullable String threadStatusAtEnd;
  /** The characters of the events published so far (what the registry's retention counts). */
  volatile long eventChars;
  /** {@link #eventChars} when the run finished: what the registry's retention counted for it (guarded by it). */
  long countedChars;

  /**
   * One framed SSE event and its id.
   *
   * @param name  the event name: the stream mode ({@code <mode>|<namespace>…} for subgraph chunks), metadata or error
   */
  public record Event(long id, String name, String text) {
    /** The stream mode of the event (its name without namespaces). */
    public String mode() {
      int bar = name.indexOf('|');
      return bar < 0 ? name : name.substring(0, bar);
    }
  }

  Run(String runId, String threadId, String assistantId, Map<String, Object> metadata,
      String multitaskStrategy, @Nullable String owner) {
    this(runId, threadId, assistantId, Instant.now(), metadata, multitaskStrategy, owner, 1, 0);
  }

  /**
   * A run recorded at {@code createdAt}, in its {@code attempt}-th execution, whose events are numbered from
   * {@code firstEventId} (an execution taken over from another process continues its predecessor's numbering).
   */
  Run(String runId, String threadId, String assistantId, Instant createdAt, Map<String, Object> metadata,
      String multitaskStrategy, @Nullable String owner, int attempt, long firstEventId) {
    this.createdAt = createdAt;
    this.updatedAt = createdAt;
    this.attempt = attempt;
    this.nextEventId = firstEventId;
    this.firstEventId = firstEventId;
    this.owner = owner;
    this.runId = runId;
    this.threadId = threadId;
    this.assistantId = assistantId;
    this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata)); // keeps nulls
    this.multitaskStrategy = multitaskStrategy;
  }

  /** The run's id. */
  public String runId() {
    return runId;
  }

  /** The id of the thread the run goes on. */
  public String threadId() {
    return threadId;
  }

  /*
   * The run's events come from its execution, and its end may come from a cancel on another thread at the same
   * moment; a sink refuses (and drops) a signal that overlaps another, so they are emitted under one lock. Not the
   * run's own monitor: a subscriber's callback may cancel the run.
   */
  private final Object emitting = new Object();

  /** Frames and publishes an event named {@code name} with {@code json} (compact JSON) as its data; ids count up. */
  void publish(String name, String json) {
    synchronized (emitting) {
      long id = nextEventId++;
      String text = Sse.frame(name, json, id);
      eventChars += text.length();
      events.tryEmitNext(new Event(id, name, text));
      EventWriter log = eventLog;
      RunRegistry owner = registry;
      if (log != null && (owner == null || owner.holds(this))) { // a run this process lost keeps nothing there
        log.write(id, name, json);
      }
    }
  }

  void publishEnd() {
    synchronized (emitting) {
      events.tryEmitComplete();
    }
  }

  /** The kept events with an id greater than {@code afterId}, then the live ones until the run ends. */
  public Flux<Event> events(long afterId) {
    return events.asFlux().filter(event -> event.id() > afterId);
  }

  public RunStore.RunRecord record() {
    return new RunStore.RunRecord(runId, threadId, assistantId, createdAt, updatedAt, status.wire(), metadata,
        multitaskStrategy, owner, null, attempt);
  }

  /**
   * Completes when the run may execute: at once for a run that got the thread, once the runs ahead of it ended for
   * an enqueued one. Fails with the run's preparation failure; never completes for a run cancelled meanwhile (its
   * execution is disposed). Cold.
   */
  Mono<Void> turn() {
    return Mono.defer(() -> {
      Throwable failed = failure;
      if (failed != null) {
        return Mono.error(failed);
      }
      return status.finished() ? Mono.never() : turn.asMono();
    });
  }

  /** Keeps the execution so that cancel can stop it; disposes it at once when the run was cancelled meanwhile. */
  void attach(Disposable execution) {
    boolean over;
    synchronized (this) {
      this.execution = execution;
      over = status == RunStatus.INTERRUPTED || halted;
    }
    if (over) {
      execution.dispose();
    }
  }

  /** The run could not be prepared (rollback or status write failed): it ends as error without executing. */
  void fail(Throwable error) {
    failure = error;
    finish(RunStatus.ERROR, RunLifecycle.errorValue(error));
  }

  /** Ends the run (once: later calls are ignored), frees its thread, then hands out its result. */
  void finish(RunStatus finalRunStatus, JsonNode value) {
    if (transition(finalRunStatus)) {
      ended(value);
    }
  }

  private void ended(JsonNode value) {
    RunRegistry owner = registry;
    if (owner != null) {
      owner.finished(this); // frees the thread before anyone waiting on the result looks at it
    }
    result.tryEmitValue(value);
  }

  /** The one place a status changes; false (and no change) when the transition is not allowed. */
  boolean transition(RunStatus next) {
    synchronized (this) {
      if (!status.canBecome(next)) {
        return false;
      }
      if (LOG.isDebugEnabled()) {
        LOG.debug("run {} of thread {}: {} -> {}", runId, threadId, status.wire(), next.wire());
      }
      status = next;
      updatedAt = Instant.now();
      return true;
    }
  }

  /**
   * Stops the run's execution without ending it (a rollback erases its checkpoints before it ends, and a process
   * that lets its runs go writes nothing for them); emits nothing more. False if it had ended or was halted already:
   * one caller stops it and decides what follows (a rollback signalled and found again at the next tick must not erase
   * checkpoints twice, the second time maybe those of the thread's next run).
   */
  boolean halt() {
    Disposable running;
    synchronized (this) {
      if (status.finished() || halted) {
        return false;
      }
      halted = true;
      running = execution;
    }
    if (running != null) {
      running.dispose();
    }
    return true;
  }

  /**
   * Marks the run as being erased (rolled back) by the caller; false if another caller marked it first: a run is
   * erased once (its halt and, for one that ended here just as it was flagged, the flag's signal and the next tick
   * may each try).
   */
  synchronized boolean markErased() {
    if (erased) {
      return false;
    }
    erased = true;
    return true;
  }

  /** Completes when the saves of the run's record sent so far are done (failed ones included). */
  synchronized Mono<Void> saves() {
    return saved.onErrorResume(error -> Mono.empty());
  }

  /** Whether the run was stopped by {@link #halt} (handed over or being rolled back): it writes nothing more. */
  synchronized boolean halted() {
    return halted;
  }

  /** Cancels the run if unfinished: it ends interrupted and its execution is stopped. False if it had ended. */
  boolean cancel() {
    Disposable running;
    synchronized (this) {
      if (!transition(RunStatus.INTERRUPTED)) {
        return false;
      }
      running = execution;
    }
    if (running != null) {
      running.dispose();
    }
    ended(RunLifecycle.cancelled(runId)); // what join and wait answer for it
    publishEnd();
    return true;
  }
}
