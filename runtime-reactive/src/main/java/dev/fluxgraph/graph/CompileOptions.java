package dev.fluxgraph.graph;

import dev.fluxgraph.cache.Cache;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.instrument.Instrumentation;
import dev.fluxgraph.store.Store;
import dev.fluxgraph.types.Durability;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * How {@link StateGraph#compile(CompileOptions)} builds a graph; copy-on-write like
 * {@link dev.fluxgraph.types.RetryPolicy}.
 *
 * @param name            the graph's name (stream chunks, namespaces of nested runs); "LangGraph" by default
 * @param checkpointer    persists runs (then runs need a thread id), or null
 * @param store           long-term memory for nodes, or null
 * @param cache           for nodes with a cache policy, or null
 * @param interruptBefore nodes before which a run stops (continue with {@code Command.proceed()})
 * @param interruptAfter  nodes after which a run stops
 * @param recursionLimit  the most supersteps one invocation may run (25 by default)
 * @param durability      when node results reach the checkpointer
 * @param clock           for checkpoint timestamps and ids
 * @param scheduler       for retry delays and timeouts, resolved once per run (so virtual-time tests see theirs)
 * @param instrumentation the hook the graph's runs report to; {@link Instrumentation#none()} by default
 */
public record CompileOptions(String name, @Nullable CheckpointSaver checkpointer, @Nullable Store store,
                             @Nullable Cache cache, List<String> interruptBefore, List<String> interruptAfter,
                             int recursionLimit, Durability durability, Clock clock,
                             Supplier<Scheduler> scheduler, Instrumentation instrumentation) {

  public CompileOptions {
    Objects.requireNonNull(name, "name must not be null");
    if (name.isBlank()) {
      throw new IllegalArgumentException("graph name must not be blank");
    }
    interruptBefore = List.copyOf(Objects.requireNonNull(interruptBefore, "interruptBefore must not be null"));
    interruptAfter = List.copyOf(Objects.requireNonNull(interruptAfter, "interruptAfter must not be null"));
    Objects.requireNonNull(durability, "durability must not be null");
    Objects.requireNonNull(clock, "clock must not be null");
    Objects.requireNonNull(scheduler, "scheduler must not be null");
    Objects.requireNonNull(instrumentation, "instrumentation must not be null");
    if (recursionLimit < 1) {
      throw new IllegalArgumentException("recursion limit must be at least 1, was " + recursionLimit);
    }
  }

  /**
   * Named "LangGraph", no checkpointer, store or cache, no breakpoints, recursion limit 25, ASYNC durability, the
   * UTC system clock, {@code Schedulers.parallel()} for delays.
   */
  /** Without instrumentation: the record's shape before {@code instrumentation} was added. */
  public CompileOptions(String name, @Nullable CheckpointSaver checkpointer, @Nullable Store store,
                        @Nullable Cache cache, List<String> interruptBefore, List<String> interruptAfter,
                        int recursionLimit, Durability durability, Clock clock, Supplier<Scheduler> scheduler) {
    this(name, checkpointer, store, cache, interruptBefore, interruptAfter, recursionLimit, durability, clock,
        scheduler, Instrumentation.none());
  }

  public static CompileOptions defaults() {
    return new CompileOptions("LangGraph", null, null, null, List.of(), List.of(), 25, Durability.ASYNC,
        Clock.systemUTC(), Schedulers::parallel, Instrumentation.none());
  }

  public CompileOptions withName(String graphName) {
    return new CompileOptions(graphName, checkpointer, store, cache, interruptBefore, interruptAfter, recursionLimit,
        durability, clock, scheduler, instrumentation);
  }

  public CompileOptions withCheckpointer(CheckpointSaver saver) {
    return new CompileOptions(name, Objects.requireNonNull(saver, "saver must not be null"), store, cache,
        interruptBefore, interruptAfter, recursionLimit, durability, clock, scheduler, instrumentation);
  }

  public CompileOptions withStore(Store memory) {
    return new CompileOptions(name, checkpointer, Objects.requireNonNull(memory, "store must not be null"), cache,
        interruptBefore, interruptAfter, recursionLimit, durability, clock, scheduler, instrumentation);
  }

  public CompileOptions withCache(Cache results) {
    return new CompileOptions(name, checkpointer, store, Objects.requireNonNull(results, "cache must not be null"),
        interruptBefore, interruptAfter, recursionLimit, durability, clock, scheduler, instrumentation);
  }

  public CompileOptions withInterruptBefore(String... nodes) {
    return new CompileOptions(name, checkpointer, store, cache, List.of(nodes), interruptAfter, recursionLimit,
        durability, clock, scheduler, instrumentation);
  }

  public CompileOptions withInterruptAfter(String... nodes) {
    return new CompileOptions(name, checkpointer, store, cache, interruptBefore, List.of(nodes), recursionLimit,
        durability, clock, scheduler, instrumentation);
  }

  public CompileOptions withRecursionLimit(int supersteps) {
    return new CompileOptions(name, checkpointer, store, cache, interruptBefore, interruptAfter, supersteps,
        durability, clock, scheduler, instrumentation);
  }

  public CompileOptions withDurability(Durability mode) {
    return new CompileOptions(name, checkpointer, store, cache, interruptBefore, interruptAfter, recursionLimit,
        mode, clock, scheduler, instrumentation);
  }

  public CompileOptions withClock(Clock time) {
    return new CompileOptions(name, checkpointer, store, cache, interruptBefore, interruptAfter, recursionLimit,
        durability, time, scheduler, instrumentation);
  }

  /** The scheduler for retry delays and timeouts (e.g. a virtual-time one in tests). */
  public CompileOptions withScheduler(Scheduler delays) {
    Objects.requireNonNull(delays, "scheduler must not be null");
    return new CompileOptions(name, checkpointer, store, cache, interruptBefore, interruptAfter, recursionLimit,
        durability, clock, () -> delays, instrumentation);
  }

  /** Reports the graph's runs to {@code hook} (e.g. the {@code fluxgraph-micrometer} observations). */
  public CompileOptions withInstrumentation(Instrumentation hook) {
    return new CompileOptions(name, checkpointer, store, cache, interruptBefore, interruptAfter, recursionLimit,
        durability, clock, scheduler, Objects.requireNonNull(hook, "instrumentation must not be null"));
  }
}
