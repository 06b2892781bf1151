package dev.fluxgraph.func;

import com.fasterxml.jackson.databind.JavaType;
import dev.fluxgraph.cache.Cache;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.errors.GraphInterruptedException;
import dev.fluxgraph.graph.GraphView;
import dev.fluxgraph.instrument.Instrumentation;
import dev.fluxgraph.internal.EntrypointAccess;
import dev.fluxgraph.internal.EntrypointSpec;
import dev.fluxgraph.internal.GraphDrawing;
import dev.fluxgraph.internal.Json;
import dev.fluxgraph.internal.Output;
import dev.fluxgraph.internal.RunLoop;
import dev.fluxgraph.internal.Scope;
import dev.fluxgraph.internal.ScopeBody;
import dev.fluxgraph.internal.TaskCalls;
import dev.fluxgraph.internal.TaskSpec;
import dev.fluxgraph.internal.ThreadState;
import dev.fluxgraph.store.Store;
import dev.fluxgraph.types.CachePolicy;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.Durability;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.RetryPolicy;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.StreamOptions;
import dev.fluxgraph.types.TypeRef;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * A workflow: a body that composes tasks, run on threads with checkpoints. Built once with {@link #named}, run
 * many times; immutable and thread-safe. Every run method is cold: nothing runs until subscription, and
 * cancelling the subscription cancels the running tasks, leaving the thread resumable with
 * {@link Command#proceed()}. Work runs on the threads that complete the tasks' {@code Mono}s; the engine itself
 * never blocks, and delays (retry backoff, timeouts) run on the builder's scheduler.
 *
 * <p>On resume, the body runs again from the top: finished tasks replay their recorded results, but side effects
 * written directly in the body (outside tasks) happen again, so put them in tasks.
 *
 * @param <I> input type
 * @param <O> output type
 */
public final class Entrypoint<I, O> {

  static {
    EntrypointAccess.register(new EntrypointAccess.Bridge() {
      @Override
      public <I, O> Entrypoint<I, O> create(EntrypointSpec spec) {
        return new Entrypoint<>(spec);
      }

      @Override
      public EntrypointSpec spec(Entrypoint<?, ?> entrypoint) {
        return entrypoint.spec;
      }
    });
  }

  private final EntrypointSpec spec;
  private final TaskSpec asChild;

  private Entrypoint(EntrypointSpec spec) {
    this.spec = spec;
    this.asChild = TaskSpec.child(spec.name(), spec);
  }

  /** Starts building an entrypoint. @throws IllegalArgumentException if the name is blank */
  public static Builder named(String name) {
    Objects.requireNonNull(name, "name must not be null");
    if (name.isBlank()) {
      throw new IllegalArgumentException("entrypoint name must not be blank");
    }
    return new Builder(name);
  }

  public String name() {
    return spec.name();
  }

  /**
   * A drawing of this entrypoint: one node, named after it, between {@code __start__} and {@code __end__}, as the
   * reference shows a functional-API entrypoint. For a graph's entrypoint ({@code CompiledGraph.asEntrypoint()}),
   * the graph's drawing ({@code CompiledGraph.getGraph(false)}). Nothing runs.
   */
  public GraphView getGraph() {
    return getGraph(0);
  }

  /**
   * {@link #getGraph()}, for a graph's entrypoint with its subgraphs expanded {@code xray} levels deep
   * ({@code CompiledGraph.getGraph(int)}). @throws IllegalArgumentException if {@code xray} is negative
   */
  public GraphView getGraph(int xray) {
    return GraphDrawing.of(spec, xray);
  }

  /** The checkpointer this entrypoint runs with, if any (e.g. for a server to roll back a thread's runs). */
  public java.util.Optional<CheckpointSaver> checkpointer() {
    return java.util.Optional.ofNullable(spec.checkpointer());
  }

  /** The instrumentation hook its runs report to; {@link Instrumentation#none()} unless one was installed. */
  public Instrumentation instrumentation() {
    return spec.instrumentation();
  }

  /**
   * The same entrypoint (same body, checkpointer, threads), reporting its runs to {@code hook}; this one is
   * unchanged. Nested in another run, an entrypoint reports to that run's hook instead.
   */
  public Entrypoint<I, O> withInstrumentation(Instrumentation hook) {
    Objects.requireNonNull(hook, "hook must not be null");
    return new Entrypoint<>(spec.withInstrumentation(hook));
  }

  /** The declared input type; what a JSON input (e.g. from an HTTP request) is read as. */
  public java.lang.reflect.Type inputType() {
    return spec.input();
  }

  /** The declared output type. */
  public java.lang.reflect.Type outputType() {
    return spec.output();
  }

  /**
   * Runs the workflow and emits its value (empty when it returned null). Errors with
   * {@link GraphInterruptedException} if the run paused on an interrupt, and with the body's error if it failed.
   */
  public Mono<O> invoke(@Nullable I input, RunConfig config) {
    return valueOf(run(input, config));
  }

  /** Continues the thread's pending run with a command; see {@link #invoke(Object, RunConfig)}. */
  public Mono<O> invoke(Command command, RunConfig config) {
    return valueOf(run(command, config));
  }

  /**
   * Inside a run (an entrypoint or task body): runs this entrypoint as a nested child with the parent's
   * checkpointer, store and cache; its result is recorded in the calling scope, so a resumed parent does not run
   * a finished child again, and its interrupts pause the parent. Outside a run: {@code invoke(input, RunConfig.none())}.
   */
  public Mono<O> invoke(@Nullable I input) {
    return Mono.deferContextual(context -> Scope.from(context) == null
        ? invoke(input, RunConfig.none())
        : TaskCalls.<O>call(asChild, input));
  }

  /** Runs the workflow; emits its value, or the interrupts it paused on. Errors only when it failed. */
  public Mono<GraphOutput<O>> run(@Nullable I input, RunConfig config) {
    return start(input, config, Output.none());
  }

  /** Continues the thread's pending run with a command; see {@link #run(Object, RunConfig)}. */
  public Mono<GraphOutput<O>> run(Command command, RunConfig config) {
    Objects.requireNonNull(command, "command must not be null");
    return start(command, config, Output.none());
  }

  /** Streams a run in the given modes ({@link StreamMode#UPDATES} when none), root chunks only. */
  public Flux<StreamChunk> stream(@Nullable I input, RunConfig config, StreamMode... modes) {
    return stream(input, config, StreamOptions.of(modes));
  }

  /** Streams the continuation of the thread's pending run. */
  public Flux<StreamChunk> stream(Command command, RunConfig config, StreamMode... modes) {
    return stream(command, config, StreamOptions.of(modes));
  }

  /**
   * Streams a run. The {@code Flux} honours demand: the engine waits for demand before emitting its own chunks, so
   * a slow subscriber slows the run instead of growing memory. Completes after the final chunk; errors when the
   * run failed (after the chunks emitted so far).
   */
  public Flux<StreamChunk> stream(@Nullable I input, RunConfig config, StreamOptions options) {
    return streamOf(input, config, options);
  }

  /** Streams the continuation of the thread's pending run. */
  public Flux<StreamChunk> stream(Command command, RunConfig config, StreamOptions options) {
    Objects.requireNonNull(command, "command must not be null");
    return streamOf(command, config, options);
  }

  /**
   * The thread's state at the config's checkpoint, or its latest: {@code getState(config, false)}. Empty for a
   * thread without checkpoints; errors with {@link IllegalStateException} without a checkpointer.
   */
  public Mono<StateSnapshot> getState(RunConfig config) {
    return getState(config, false);
  }

  /**
   * The thread's state at the config's checkpoint, or its latest (SEMANTICS.md §4). While a run is pending its
   * {@code tasks} hold one task, the entrypoint, with every pending interrupt of the run and the error of a failed
   * run. With {@code subgraphs}, a task whose nested graph or entrypoint is paused or failed carries that one's
   * snapshot in {@link dev.fluxgraph.types.TaskState#state()} (values as plain JSON data, config under its
   * {@link RunConfig#checkpointNamespace() checkpoint namespace}, its own tasks), recursively. With a checkpoint
   * namespace in {@code config}, the snapshot of that nested run as of the checkpoint.
   *
   * <p>Cold; reads the checkpointer on the subscribing thread. Empty for a thread without checkpoints; errors with
   * {@link IllegalStateException} without a checkpointer, with {@link IllegalArgumentException} for a checkpoint id
   * or namespace the thread does not have.
   */
  public Mono<StateSnapshot> getState(RunConfig config, boolean subgraphs) {
    Objects.requireNonNull(config, "config must not be null");
    return ThreadState.get(spec, config, subgraphs);
  }

  /** Every checkpoint of the thread, newest first; with a checkpoint id in the config, those before it. */
  public Flux<StateSnapshot> getStateHistory(RunConfig config) {
    return getStateHistory(config, false);
  }

  /**
   * {@link #getStateHistory(RunConfig)} whose snapshots carry the nested snapshots of paused or failed nested runs,
   * as {@link #getState(RunConfig, boolean)} does.
   */
  public Flux<StateSnapshot> getStateHistory(RunConfig config, boolean subgraphs) {
    Objects.requireNonNull(config, "config must not be null");
    return ThreadState.history(spec, config, subgraphs);
  }

  /**
   * Saves a checkpoint ({@code source=update}) whose value — returned by {@code getState} and seen as
   * {@code previous} by the next run — is {@code value}. Emits the new checkpoint's config. A config with a
   * checkpoint namespace (a nested run's state) is refused with {@link dev.fluxgraph.errors.InvalidUpdateException}:
   * a nested run's state belongs to the run that called it.
   */
  public Mono<RunConfig> updateState(RunConfig config, @Nullable Object value) {
    Objects.requireNonNull(config, "config must not be null");
    return ThreadState.update(spec, config, value);
  }

  /**
   * {@link #updateState(RunConfig, Object)} for an entrypoint that runs a graph ({@code CompiledGraph.asEntrypoint()}):
   * {@code value} is a state update applied as if node {@code asNode} had written it (null: no node, the next
   * nodes stay as they were). On a plain entrypoint {@code asNode} must be null or its own name.
   */
  public Mono<RunConfig> updateState(RunConfig config, @Nullable Object value, @Nullable String asNode) {
    Objects.requireNonNull(config, "config must not be null");
    if (spec.graph() != null) {
      return dev.fluxgraph.internal.GraphLoop.update(spec, config, value, asNode);
    }
    if (asNode != null && !asNode.equals(spec.name())) {
      return Mono.error(new IllegalArgumentException("entrypoint '" + spec.name() + "' has no node '" + asNode
          + "'; its only node is itself"));
    }
    return ThreadState.update(spec, config, value);
  }

  @Override
  public String toString() {
    return "Entrypoint{" + spec.name() + "}";
  }

  @SuppressWarnings("unchecked")
  private Mono<GraphOutput<O>> start(@Nullable Object input, RunConfig config, Output output) {
    Objects.requireNonNull(config, "config must not be null");
    if (!config.checkpointNamespace().isEmpty()) {
      return Mono.error(nestedRun(config));
    }
    return RunLoop.run(spec, input, config, output).map(result -> (GraphOutput<O>) (GraphOutput<?>) result);
  }

  private Flux<StreamChunk> streamOf(@Nullable Object input, RunConfig config, StreamOptions options) {
    Objects.requireNonNull(config, "config must not be null");
    Objects.requireNonNull(options, "options must not be null");
    if (!config.checkpointNamespace().isEmpty()) {
      return Flux.error(nestedRun(config));
    }
    return Flux.create(sink -> {
      Output output = Output.stream(sink, options);
      Mono<?> run = RunLoop.run(spec, input, config, output);
      // the subscriber's context (its current observation, say) reaches the run as it does through run(..)
      Disposable running = (sink.contextView().isEmpty() ? run : run.contextWrite(sink.contextView()))
          .subscribe(ignored -> { }, sink::error, sink::complete);
      sink.onDispose(running);
    }, FluxSink.OverflowStrategy.BUFFER);
  }

  private IllegalArgumentException nestedRun(RunConfig config) {
    return new IllegalArgumentException("runs of '" + spec.name() + "' start on the thread itself, not under checkpoint "
        + "namespace '" + config.checkpointNamespace() + "' (a nested run's state, which getState reads); use a config "
        + "without checkpoint namespace");
  }

  private static <O> Mono<O> valueOf(Mono<GraphOutput<O>> run) {
    return run.flatMap(output -> output.interrupted()
        ? Mono.error(new GraphInterruptedException(output.interrupts()))
        : Mono.justOrEmpty(output.value()));
  }

  /**
   * Configures an entrypoint; not thread-safe. Defaults: no checkpointer, store or cache, no retry, no cache
   * policy, no timeout, {@link Durability#ASYNC}, {@link Schedulers#parallel()} for delays, the UTC system clock.
   */
  public static final class Builder {

    private final String name;
    private @Nullable CheckpointSaver checkpointer;
    private @Nullable Store store;
    private @Nullable Cache cache;
    private List<RetryPolicy> retry = List.of();
    private @Nullable CachePolicy cachePolicy;
    private @Nullable Duration timeout;
    private Durability durability = Durability.ASYNC;
    private Supplier<Scheduler> scheduler = Schedulers::parallel;
    private Clock clock = Clock.systemUTC();
    private Instrumentation instrumentation = Instrumentation.none();

    private Builder(String name) {
      this.name = name;
    }

    /** Persists runs so that they can be resumed and read back; runs then need a thread id. */
    public Builder checkpointer(CheckpointSaver saver) {
      this.checkpointer = Objects.requireNonNull(saver, "saver must not be null");
      return this;
    }

    /** The long-term memory reachable through {@link TaskContext#store()}. */
    public Builder store(Store store) {
      this.store = Objects.requireNonNull(store, "store must not be null");
      return this;
    }

    /** The cache used by tasks with a {@link CachePolicy}. */
    public Builder cache(Cache cache) {
      this.cache = Objects.requireNonNull(cache, "cache must not be null");
      return this;
    }

    /** Retry policies for the body and for tasks without their own. */
    public Builder retry(RetryPolicy... policies) {
      Objects.requireNonNull(policies, "policies must not be null");
      this.retry = List.of(policies);
      return this;
    }

    /** The cache policy of tasks without their own. */
    public Builder cachePolicy(CachePolicy policy) {
      this.cachePolicy = Objects.requireNonNull(policy, "policy must not be null");
      return this;
    }

    /** Bounds each attempt of the body; {@code NodeTimeoutException} when exceeded. Tasks have their own. */
    public Builder timeout(Duration perAttempt) {
      Objects.requireNonNull(perAttempt, "perAttempt must not be null");
      if (perAttempt.isZero() || perAttempt.isNegative()) {
        throw new IllegalArgumentException("timeout of entrypoint '" + name + "' must be positive, was " + perAttempt);
      }
      this.timeout = perAttempt;
      return this;
    }

    /** When task results reach the checkpointer; {@link Durability#ASYNC} by default. */
    public Builder durability(Durability durability) {
      this.durability = Objects.requireNonNull(durability, "durability must not be null");
      return this;
    }

    /** The scheduler for retry delays and timeouts; resolved once per run. */
    public Builder scheduler(Scheduler scheduler) {
      Objects.requireNonNull(scheduler, "scheduler must not be null");
      this.scheduler = () -> scheduler;
      return this;
    }

    /** The clock for checkpoint timestamps and ids. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock must not be null");
      return this;
    }

    /**
     * The hook the entrypoint's runs report to (e.g. the {@code fluxgraph-micrometer} observations);
     * {@link Instrumentation#none()} by default.
     */
    public Builder instrumentation(Instrumentation hook) {
      this.instrumentation = Objects.requireNonNull(hook, "instrumentation must not be null");
      return this;
    }

    public <I, O> Entrypoint<I, O> define(Class<I> input, Class<O> output, EntrypointFunction<I, O, O> body) {
      return build(Json.type(input), Json.type(output), Json.type(output), false, body);
    }

    public <I, O> Entrypoint<I, O> define(TypeRef<I> input, TypeRef<O> output, EntrypointFunction<I, O, O> body) {
      return build(Json.type(input), Json.type(output), Json.type(output), false, body);
    }

    /** An entrypoint whose body returns {@link Final}: the value for the caller and the value to save. */
    public <I, O, S> Entrypoint<I, O> defineFinal(Class<I> input, Class<O> output, Class<S> saved,
                                                  EntrypointFunction<I, Final<O, S>, S> body) {
      return build(Json.type(input), Json.type(output), Json.type(saved), true, body);
    }

    /** {@link #defineFinal(Class, Class, Class, EntrypointFunction)} with generic types. */
    public <I, O, S> Entrypoint<I, O> defineFinal(TypeRef<I> input, TypeRef<O> output, TypeRef<S> saved,
                                                  EntrypointFunction<I, Final<O, S>, S> body) {
      return build(Json.type(input), Json.type(output), Json.type(saved), true, body);
    }

    @SuppressWarnings("unchecked")
    private <I, O, R, P> Entrypoint<I, O> build(JavaType input, JavaType output, JavaType saved, boolean finalValue,
                                                 EntrypointFunction<I, R, P> body) {
      Objects.requireNonNull(body, "body must not be null");
      String entrypoint = name;
      ScopeBody scopeBody = (in, scope) -> {
        Mono<R> result = body.apply((I) in, (EntrypointContext<P>) (EntrypointContext<?>) scope);
        if (result == null) {
          return Mono.error(new NullPointerException("the body of entrypoint '" + entrypoint
              + "' returned null instead of a Mono"));
        }
        return result;
      };
      return new Entrypoint<>(new EntrypointSpec(name, input, output, saved, finalValue, scopeBody, checkpointer,
          store, cache, retry, cachePolicy, timeout, durability, scheduler, clock, null, instrumentation));
    }
  }
}
