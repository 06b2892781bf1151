package dev.fluxgraph.internal;

import com.fasterxml.jackson.databind.JavaType;
import dev.fluxgraph.cache.Cache;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.instrument.Instrumentation;
import dev.fluxgraph.store.Store;
import dev.fluxgraph.types.CachePolicy;
import dev.fluxgraph.types.Durability;
import dev.fluxgraph.types.RetryPolicy;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import reactor.core.scheduler.Scheduler;

/**
 * Everything the engine needs to know about an entrypoint.
 *
 * @param finalValue whether the body returns {@code Final} (value and saved value differ)
 * @param scheduler  resolved per run, so that virtual-time tests see their scheduler
 * @param graph      the graph whose superstep loop {@code body} runs, or null for an entrypoint
 * @param instrumentation the hook its runs report to ({@link Instrumentation#none()} when none is installed)
 */
public record EntrypointSpec(String name, JavaType input, JavaType output, JavaType saved, boolean finalValue,
                             ScopeBody body, @Nullable CheckpointSaver checkpointer, @Nullable Store store,
                             @Nullable Cache cache, List<RetryPolicy> retry, @Nullable CachePolicy cachePolicy,
                             @Nullable Duration timeout, Durability durability, Supplier<Scheduler> scheduler,
                             Clock clock, @Nullable GraphDefinition graph, Instrumentation instrumentation) {

  /** Without instrumentation. */
  public EntrypointSpec(String name, JavaType input, JavaType output, JavaType saved, boolean finalValue,
                        ScopeBody body, @Nullable CheckpointSaver checkpointer, @Nullable Store store,
                        @Nullable Cache cache, List<RetryPolicy> retry, @Nullable CachePolicy cachePolicy,
                        @Nullable Duration timeout, Durability durability, Supplier<Scheduler> scheduler,
                        Clock clock, @Nullable GraphDefinition graph) {
    this(name, input, output, saved, finalValue, body, checkpointer, store, cache, retry, cachePolicy, timeout,
        durability, scheduler, clock, graph, Instrumentation.none());
  }

  /** The same entrypoint, taking {@code in} and returning {@code out} (a graph's view typed by its schemas). */
  public EntrypointSpec withTypes(JavaType in, JavaType out) {
    return new EntrypointSpec(name, in, out, saved, finalValue, body, checkpointer, store, cache, retry, cachePolicy,
        timeout, durability, scheduler, clock, graph, instrumentation);
  }

  /** The same entrypoint, saving its checkpoints in {@code saver} and using {@code memory} as its store. */
  public EntrypointSpec withPersistence(@Nullable CheckpointSaver saver, @Nullable Store memory) {
    return new EntrypointSpec(name, input, output, saved, finalValue, body, saver, memory, cache, retry, cachePolicy,
        timeout, durability, scheduler, clock, graph, instrumentation);
  }

  /** The same entrypoint, reporting its runs to {@code hook}. */
  public EntrypointSpec withInstrumentation(Instrumentation hook) {
    return new EntrypointSpec(name, input, output, saved, finalValue, body, checkpointer, store, cache, retry,
        cachePolicy, timeout, durability, scheduler, clock, graph, hook);
  }
}
