package dev.fluxgraph.types;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The state of a thread as of one checkpoint (SEMANTICS.md §4).
 *
 * @param values       the return value of the last run completed as of this checkpoint, typed as the
 *                     entrypoint's output (a graph: its state); null before any. In the snapshot of a nested
 *                     graph or entrypoint ({@link TaskState#state()}), plain JSON data
 * @param next         {@code [<entrypoint name>]} while a run is pending or paused, empty otherwise (a graph: the
 *                     nodes of the next superstep)
 * @param config       the config addressing this checkpoint (thread and checkpoint id; for a nested run's snapshot,
 *                     also its {@link RunConfig#checkpointNamespace() checkpoint namespace})
 * @param metadata     at least {@code source} (input, loop, update, fork) and {@code step}, and the run's
 *                     {@link RunConfig#withMetadata metadata} (whose values may be null, as JSON's may)
 * @param createdAt    when the checkpoint was created
 * @param parentConfig the config of the parent checkpoint, if any
 * @param tasks        the pending work, one task per name in {@code next}: for an entrypoint the entrypoint itself
 *                     (every pending interrupt of the run, the error of a failed run, no result); finished inner
 *                     tasks are not listed, they replay
 * @param interrupts   the pending interrupts (of every task)
 */
public record StateSnapshot(@Nullable Object values, List<String> next, RunConfig config,
                            Map<String, Object> metadata, Instant createdAt, @Nullable RunConfig parentConfig,
                            List<TaskState> tasks, List<Interrupt> interrupts) {
  public StateSnapshot {
    next = List.copyOf(next);
    Objects.requireNonNull(config, "config must not be null");
    metadata = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(metadata)); // keeps nulls
    Objects.requireNonNull(createdAt, "createdAt must not be null");
    tasks = List.copyOf(tasks);
    interrupts = List.copyOf(interrupts);
  }
}
