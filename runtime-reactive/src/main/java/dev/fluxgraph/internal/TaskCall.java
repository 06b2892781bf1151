package dev.fluxgraph.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.cache.Cache;
import dev.fluxgraph.checkpoint.PendingWrite;
import dev.fluxgraph.types.CachePolicy;
import dev.fluxgraph.types.RetryPolicy;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;

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

  private TaskCall(RunLoop run, Scope parent, TaskSpec spec, @Nullable Object input, String id) {
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
  @SuppressWarnings("unchecked")
  static <O> Mono<O> call(Scope parent, TaskSpec spec, @Nullable Object input, String id) {
    return (Mono<O>) Mono.defer(() -> {
      RunLoop run = parent.run();
      PendingWrite saved = run.writes().find(id, PendingWrite.RESULT);
      if (saved != null) {
        Object replayed = Json.fromTree(saved.value(), spec.output(), () -> "the saved result of '"
            + spec.name() + "' (" + id + ")");
        return Mono.justOrEmpty(replayed);
      }
      return new TaskCall(run, parent, spec, input, id).execute();
    });
  }

  String id() {
    return id;
  }

  private Mono<Object> execute() {
    run.childStarted(parent);
    return run.emitTaskStart(parent.namespace(), id, spec.name(), input)
        .then(fromCache())
        .switchIfEmpty(Mono.defer(this::invoke))
        .flatMap(result -> Mono.justOrEmpty(result.value()))
        .doFinally(this::finish);
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
      Scope scope = run.newScope(parent, id, spec.name(), bodyNamespace,
          spec.child() == null ? parent.owner() : spec.child(), null, this::paused);
      return scope.enter(spec.body(), input);
    });
    List<RetryPolicy> retry = spec.retry().isEmpty() && spec.child() == null ? parent.owner().retry() : spec.retry();
    return Policies.retry(Policies.timeout(attempt, spec.name(), spec.timeout(), run.scheduler(),
            () -> run.paused(this)), retry, run.scheduler())
        .map(Result::new)
        .defaultIfEmpty(Result.EMPTY)
        .flatMap(result -> {
          JsonNode json = Json.toTree(result.value(), () -> "the result of '" + spec.name() + "'");
          run.transition(this, TaskStatus.SUCCEEDED);
          Mono<Void> cached = putInCache(json);
          return cached.then(complete(result.value(), json, false));
        })
        .onErrorResume(error -> {
          run.transition(this, TaskStatus.FAILED);
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

  /** Everything in the call's scope is paused on interrupts: it no longer counts as running in its parent. */
  private void paused() {
    run.transition(this, TaskStatus.INTERRUPTED);
    run.childPaused(this);
  }

  private void finish(SignalType signal) {
    if (signal == SignalType.CANCEL) {
      run.transition(this, TaskStatus.CANCELLED);
    }
    run.childEnded(this);
  }

  Scope parent() {
    return parent;
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

  void uncount() {
    counted = false;
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
