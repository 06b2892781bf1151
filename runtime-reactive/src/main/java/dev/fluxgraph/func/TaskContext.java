package dev.fluxgraph.func;

import dev.fluxgraph.internal.Scope;
import dev.fluxgraph.store.Store;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.TypeRef;
import java.util.Optional;
import java.util.OptionalInt;
import reactor.core.publisher.Mono;

/**
 * What a running task (or entrypoint body) can reach: the run's config, the stream writer, the store, the
 * run-scoped context object, and {@code interrupt}. Passed to task bodies that take it, and available anywhere
 * inside a run through {@link #current()}.
 */
public interface TaskContext {

  /** The config the run was started with. */
  RunConfig config();

  /** Writes {@code CUSTOM} chunks to the run's stream, under this scope's namespace. */
  StreamWriter writer();

  /**
   * Writes {@code MESSAGES} chunks: each chunk reaches {@code stream(...)} as {@code [messageChunk, metadata]}
   * where metadata holds {@code langgraph_node} (this task's or entrypoint's name), {@code langgraph_checkpoint_ns}
   * and {@code thread_id}. Model clients use it to stream tokens as they arrive. A chunk with an {@code id} (a map's
   * {@code "id"}, or a {@link dev.fluxgraph.messages.Message}'s) marks that message as streamed: when a graph node
   * then returns the whole message under the same id, the stream does not show it again (a node's other new
   * messages are shown once when it ends).
   */
  StreamWriter messages();

  /** The entrypoint's store. @throws IllegalStateException if the entrypoint has none */
  Store store();

  /**
   * The run-scoped context object of {@link RunConfig#withContext}, if it is a {@code type}; in a graph that declares
   * {@code type} as its context ({@code StateGraph.withContext}), a map context (e.g. a server run's JSON
   * {@code context}) is read as a {@code type}, as the reference coerces the context into its {@code context_schema}.
   *
   * @throws dev.fluxgraph.errors.SerializationException if such a map cannot be read as a {@code type}
   */
  <C> Optional<C> context(Class<C> type);

  /**
   * Graph API: how many supersteps the graph's invocation may still run, counting the one running this node, before
   * the recursion limit (the run's {@code RunConfig.withRecursionLimit}, else {@code CompileOptions.withRecursionLimit},
   * 25 by default) ends it with
   * {@code GraphRecursionException}: the limit in the invocation's first superstep, 1 in its last allowed one (the
   * reference's {@code RemainingSteps}; {@code remainingSteps().getAsInt() == 1} is its {@code IsLastStep}). A node
   * near the limit can wind down instead, e.g. answer without calling a tool once fewer than 2 remain. The budget
   * starts anew with every invocation, resumes included, as the recursion limit does. Tasks a node calls see the
   * node's value; a graph nested in the node counts its own. Empty outside a graph node (in an entrypoint body,
   * a task it calls, or an entrypoint nested in a node).
   */
  default OptionalInt remainingSteps() {
    return OptionalInt.empty();
  }

  /**
   * Attaches an attribute to the observation of this task (of the run, in an entrypoint body) when the workflow has
   * an {@link dev.fluxgraph.instrument.Instrumentation}; does nothing otherwise. A span attribute, not a metric tag:
   * e.g. a model call's {@code gen_ai.usage.input_tokens}. Setting a key again replaces its value.
   */
  void attribute(String key, String value);

  /**
   * Pauses the run for human input, or emits the answer when resuming. The {@code i}-th interrupt of a scope
   * execution is answered by the resume value recorded for it; when there is none the run pauses: this
   * {@code Mono} never emits, the engine records the interrupt and ends the run once every running task has
   * finished or paused. On resume the scope runs again from the top. Cold: the interrupt is counted when
   * subscribed.
   *
   * @param value      shown to the human (must be JSON-serializable)
   * @param resumeType the type the answer is read as
   */
  <T> Mono<T> interrupt(Object value, Class<T> resumeType);

  /** {@link #interrupt(Object, Class)} with a generic answer type. */
  <T> Mono<T> interrupt(Object value, TypeRef<T> resumeType);

  /**
   * The context of the task or entrypoint body this is subscribed from, read from the Reactor
   * {@code Context}. Errors with {@link IllegalStateException} outside a run.
   */
  static Mono<TaskContext> current() {
    return Mono.deferContextual(context -> {
      Scope scope = Scope.from(context);
      return scope == null
          ? Mono.error(new IllegalStateException("TaskContext.current() was used outside a running entrypoint; "
              + "use it from an entrypoint or task body, or from a publisher they subscribe to"))
          : Mono.just(scope);
    });
  }
}
