package dev.fluxgraph.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.cache.Cache;
import dev.fluxgraph.checkpoint.PendingWrite;
import dev.fluxgraph.instrument.TaskObserver;
import dev.fluxgraph.instrument.TaskOutcome;
import dev.fluxgraph.types.CachePolicy;
import dev.fluxgraph.types.RetryPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;

/**
 * The task-call path: what happens when a task's (or nested entrypoint's) {@code Mono} is subscribed inside a
 * run. In order: derive the call id from the calling scope, the name, the canonical input and the occurrence
 * count; replay a recorded result; else try the cache; else run the body in a new scope under the timeout and
 * retry policies; record the result (or error), then emit the chunks, then deliver the value.
 */
final class TaskCall {

  private final RunLoop run;
  private final Scope parent;
  private final TaskSpec spec;
  private final @Nullable Object input;
  private final String id;
  private final List<String> bodyNamespace;
  private TaskStatus status = TaskStatus.RUNNING; // guarded by run's lock
  private boolean counted = true; // still counted as active work of the parent scope; guarded by run's lock
  /** Whether a graph runs this call for a {@code Send} (a push task) rather than as a node its edges triggered. */
  private final boolean push;
  /** What the call reports to once it started; {@link TaskObserver#NOOP} without instrumentation. */
  private TaskObserver observer = TaskObserver.NOOP;
  /**
   * Attempts of the body so far. Plain, not volatile: retries resubscribe one after the other, and the end that reads
   * it comes after the last attempt's signals (a racing cancel may read one fewer; it is only reported).
   */
  private int attempts;

  private TaskCall(RunLoop run, Scope parent, TaskSpec spec, @Nullable Object input, String id, boolean push) {
    this.push = push;
    this.run = run;
    this.parent = parent;
    this.spec = spec;
    this.input = input;
    this.id = id;
    this.bodyNamespace = spec.child() == null ? parent.namespace() : append(parent.namespace(), spec.name() + ":" + id);
  }

  /** The cold {@code Mono} returned by {@code Task.call} inside a run. */
  static <O> Mono<O> call(Scope parent, TaskSpec spec, @Nullable Object input) {
    return Mono.defer(() -> {
      String inputKey = Ids.digest(Json.canonicalBytes(input, () -> "the input of '" + spec.name() + "'"));
      int occurrence = parent.nextOccurrence(spec.name(), inputKey);
      return call(parent, spec, input, Ids.derive(parent.id(), spec.name(), inputKey, Integer.toString(occurrence)));
    });
  }

  /** A call whose id the caller derived (graph nodes: from the superstep). */
  static <O> Mono<O> call(Scope parent, TaskSpec spec, @Nullable Object input, String id) {
    return call(parent, spec, input, id, false);
  }

  /** A call whose id the caller derived; {@code push}: a graph's node run for a {@code Send}. */
  @SuppressWarnings("unchecked")
  static <O> Mono<O> call(Scope parent, TaskSpec spec, @Nullable Object input, String id, boolean push) {
    return (Mono<O>) Mono.defer(() -> {
      RunLoop run = parent.run();
      PendingWrite saved = run.writes().find(id, PendingWrite.RESULT);
      if (saved != null) {
        Object replayed = Json.fromTree(saved.value(), spec.output(), () -> "the saved result of '"
            + spec.name() + "' (" + id + ")");
        parent.observer().taskReplayed(spec.name(), id);
        return Mono.justOrEmpty(replayed);
      }
      return new TaskCall(run, parent, spec, input, id, push).execute();
    });
  }

  String id() {
    return id;
  }

  private Mono<Object> execute() {
    if (!run.start(this)) {
      return Mono.never(); // the run stopped (or the scope froze) before this call could start: it runs on resume
    }
    observer = Objects.requireNonNull(parent.observer().taskStarted(spec.name(), id, spec.child() != null),
        "the instrumentation returned a null TaskObserver");
    return new Execution(run.emitTaskStart(parent.namespace(), id, spec.name(), input,
        parent.runsGraph() && !push)
        .then(fromCache())
        .switchIfEmpty(Mono.defer(this::invoke))
        .flatMap(result -> Mono.justOrEmpty(result.value())));
  }

  /**
   * The started call as its caller sees it: it delivers the value first, then stops counting as running (so a
   * caller that starts its next task synchronously never leaves the scope looking paused in between); cancelled by
   * the caller, it either stops or, in a frozen scope, goes on detached (RunLoop#cancelledByCaller).
   */
  private final class Execution extends Mono<Object> {
    private final Mono<Object> source;

    Execution(Mono<Object> source) {
      this.source = source;
    }

    @Override
    public void subscribe(CoreSubscriber<? super Object> actual) {
      source.subscribe(new ExecutionSubscriber(actual));
    }
  }

  private static final AtomicIntegerFieldUpdater<ExecutionSubscriber> REPORTED =
      AtomicIntegerFieldUpdater.newUpdater(ExecutionSubscriber.class, "reported");

  private final class ExecutionSubscriber implements CoreSubscriber<Object>, Subscription {
    private final CoreSubscriber<? super Object> actual;
    private @Nullable Subscription upstream;
    private volatile boolean detached;
    private final Runnable cancelDetached = this::stop;
    volatile int reported; // 1 once the end was reported to the observer (REPORTED)

    ExecutionSubscriber(CoreSubscriber<? super Object> actual) {
      this.actual = actual;
    }

    @Override
    public Context currentContext() {
      return actual.currentContext();
    }

    @Override
    public void onSubscribe(Subscription subscription) {
      upstream = subscription;
      actual.onSubscribe(this);
    }

    @Override
    public void onNext(Object value) {
      if (observer != TaskObserver.NOOP) { // the value is the outcome: the caller may go on before onComplete
        reportCompleted();
      }
      if (!detached) {
        actual.onNext(value);
      }
    }

    @Override
    public void onError(Throwable error) {
      if (observer != TaskObserver.NOOP) {
        report(error instanceof ParentCommand ? TaskOutcome.COMPLETED : TaskOutcome.ERROR,
            error instanceof ParentCommand ? null : error);
      }
      if (!detached) {
        actual.onError(error);
      }
      ended();
    }

    @Override
    public void onComplete() {
      if (observer != TaskObserver.NOOP) {
        reportCompleted();
      }
      if (!detached) {
        actual.onComplete();
      }
      ended();
    }

    private void reportCompleted() {
      report(run.statusOf(TaskCall.this) == TaskStatus.CACHED ? TaskOutcome.CACHED : TaskOutcome.COMPLETED, null);
    }

    /** Tells the observer how the call ended, once (a cancel may race with the end). */
    private void report(TaskOutcome outcome, @Nullable Throwable error) {
      if (observer != TaskObserver.NOOP && REPORTED.compareAndSet(this, 0, 1)) {
        observer.taskEnded(outcome, attempts, error);
      }
    }

    private void ended() {
      if (detached) {
        run.detachedEnded(cancelDetached);
      }
      run.childEnded(TaskCall.this);
    }

    @Override
    public void request(long n) {
      Objects.requireNonNull(upstream).request(n);
    }

    @Override
    public void cancel() {
      if (run.cancelledByCaller(TaskCall.this, cancelDetached)) {
        detached = true;
        return;
      }
      stop();
    }

    private void stop() {
      if (observer != TaskObserver.NOOP) { // a paused call's Mono never completes: its end is the run's stop
        report(run.pausedOrStopping(TaskCall.this) ? TaskOutcome.INTERRUPTED : TaskOutcome.CANCELLED, null);
      }
      Objects.requireNonNull(upstream).cancel();
      run.transition(TaskCall.this, TaskStatus.CANCELLED);
      run.childEnded(TaskCall.this);
    }
  }

  private Mono<Result> fromCache() {
    CachePolicy policy = cachePolicy();
    Cache cache = run.cache();
    if (policy == null || cache == null) {
      return Mono.empty();
    }
    return Mono.defer(() -> cache.get(spec.name(), policy.keyFunction().apply(input)))
        .flatMap(json -> {
          Object value = Json.fromTree(json, spec.output(), () -> "the cached result of '" + spec.name() + "'");
          run.transition(this, TaskStatus.CACHED);
          return complete(value, json, true);
        });
  }

  private Mono<Result> invoke() {
    Mono<?> attempt = Mono.defer(() -> {
      attempts++; // attempts are subscribed one after the other, never at once
      Scope scope = run.newScope(id, spec.name(), bodyNamespace, spec.child() == null ? parent.owner() : spec.child(),
          null, this);
      return scope.enter(spec.body(), input);
    });
    List<RetryPolicy> retry = spec.retry().isEmpty() && spec.child() == null ? parent.owner().retry() : spec.retry();
    return Policies.retry(Policies.timeout(attempt, spec.name(), spec.timeout(), run.scheduler(),
            () -> run.paused(this)), retry, run.scheduler(), observer)
        .map(Result::new)
        .defaultIfEmpty(Result.EMPTY)
        .flatMap(result -> {
          JsonNode json = Json.toTree(result.value(), () -> "the result of '" + spec.name() + "'");
          run.transition(this, TaskStatus.SUCCEEDED);
          Mono<Void> cached = putInCache(json);
          return cached.then(complete(result.value(), json, false));
        })
        .onErrorResume(error -> {
          if (error instanceof ParentCommand) { // not a failure: a nested graph hands a node up there a Command
            run.transition(this, TaskStatus.SUCCEEDED);
            return run.emitTaskEnd(parent.namespace(), id, spec.name(), null, null, List.of()).then(Mono.error(error));
          }
          run.transition(this, TaskStatus.FAILED);
          run.failed(parent, error);
          JsonNode recorded = spec.child() == null ? CheckpointFormat.errorValue(error)
              : CheckpointFormat.nestedErrorValue(error, parent, id, bodyNamespace); // state views find nested runs
          return run.writes().record(new PendingWrite(id, spec.name(), PendingWrite.ERROR, recorded))
              .then(run.emitTaskEnd(parent.namespace(), id, spec.name(), null, error, List.of()))
              .then(Mono.error(error));
        });
  }

  /** Records the result, then emits its chunks, so the caller sees the value only after both. */
  private Mono<Result> complete(@Nullable Object value, JsonNode json, boolean cached) {
    Object shown = spec.shown().apply(value);
    boolean graph = spec.child() != null && spec.child().graph() != null; // a graph streams its own updates
    return run.writes().record(new PendingWrite(id, spec.name(), PendingWrite.RESULT, json))
        .then(run.emitTaskEnd(parent.namespace(), id, spec.name(), shown, null, List.of()))
        .then(graph ? Mono.empty() : run.emitUpdate(bodyNamespace, spec.name(), shown, cached))
        .then(spec.child() == null || graph ? Mono.empty() : run.emitValues(bodyNamespace, value))
        .thenReturn(new Result(value));
  }

  private Mono<Void> putInCache(JsonNode json) {
    CachePolicy policy = cachePolicy();
    Cache cache = run.cache();
    if (policy == null || cache == null) {
      return Mono.empty();
    }
    return Mono.defer(() -> cache.put(spec.name(), policy.keyFunction().apply(input), json, policy.ttl()));
  }

  private @Nullable CachePolicy cachePolicy() {
    if (spec.child() != null) {
      return null;
    }
    return spec.cachePolicy() != null ? spec.cachePolicy() : parent.owner().cachePolicy();
  }

  Scope parent() {
    return parent;
  }

  /** What the call's body reports to. */
  TaskObserver observer() {
    return observer;
  }

  /** Whether the call runs a nested entrypoint or graph (rather than a task or a node). */
  boolean nested() {
    return spec.child() != null;
  }

  // Guarded by the run's lock.
  TaskStatus status() {
    return status;
  }

  void status(TaskStatus status) {
    this.status = status;
  }

  boolean counted() {
    return counted;
  }

  void count(boolean counted) {
    this.counted = counted;
  }

  private static List<String> append(List<String> namespace, String segment) {
    List<String> result = new ArrayList<>(namespace.size() + 1);
    result.addAll(namespace);
    result.add(segment);
    return List.copyOf(result);
  }

  /** A task's result, which may be null. */
  record Result(@Nullable Object value) {
    static final Result EMPTY = new Result(null);
  }
}
