package dev.fluxgraph.graph;

import dev.fluxgraph.func.TaskContext;
import reactor.core.publisher.Mono;

/**
 * A node of a {@link StateGraph}: reads the state, returns what to change. The {@code Mono} may emit a
 * {@code Map<String, Object>} partial update (keys are state keys; values are combined by the key's reducer, or
 * replace the old value), an instance of the state type (its non-null fields are the update), a
 * {@link dev.fluxgraph.types.Command} built with {@code goTo} and/or {@code update}, or nothing.
 *
 * <p>The context is a task context: a node may call tasks, raise interrupts, write custom chunks and use the
 * store. A node runs as a task of its superstep, so its result is checkpointed and replayed on resume.
 *
 * @param <S> the state type
 */
@FunctionalInterface
public interface NodeFunction<S> {
  Mono<?> apply(S state, TaskContext context);
}
