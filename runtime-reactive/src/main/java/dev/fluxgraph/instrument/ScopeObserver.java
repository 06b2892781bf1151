package dev.fluxgraph.instrument;

import reactor.util.context.Context;

/**
 * What code running in a run reports to: the run's body ({@link RunObserver}) or a task's body ({@link
 * TaskObserver}). Tasks called from that code get their observer from here, so an implementation knows each task's
 * parent from the call tree, whichever threads the calls hop across.
 */
public interface ScopeObserver {

  /**
   * The Reactor context the body runs with, from the one it would have: e.g. with this scope's observation under
   * the key tracing libraries read, so that what the body calls (an HTTP client, a model) records its own work as a
   * child of it, also after thread hops with Reactor's context propagation. Called once per attempt of the body;
   * the default leaves it unchanged.
   */
  default Context contextOf(Context context) {
    return context;
  }

  /**
   * Runs {@code signal}: the subscription of an attempt of the body, or a request for its value, during which the
   * body's synchronous code runs (a {@code Mono.just} emits when requested) and its operators may schedule work on
   * other threads. E.g. with this scope's observation current on the thread for the time of it (opened and closed
   * there), so that thread-local based libraries, and Reactor's automatic context propagation capturing thread
   * locals when work is scheduled, see it rather than the caller's. The default just runs it. Not called on
   * {@link RunObserver#NOOP} and {@link TaskObserver#NOOP}.
   */
  default void inScope(Runnable signal) {
    signal.run();
  }

  /**
   * A task (or graph node, or nested entrypoint) called from this scope starts executing: its first attempt is
   * about to run. Not called for a call answered from the checkpoint ({@link #taskReplayed}), nor for one that the
   * run stopped before it could start (it runs when the thread resumes).
   *
   * @param task   the task's name
   * @param callId the call's id, stable across resumes of the thread
   * @param nested whether the call runs a nested entrypoint or graph rather than a task or node
   * @return what the task reports to; {@link TaskObserver#NOOP} to ignore it
   */
  TaskObserver taskStarted(String task, String callId, boolean nested);

  /** A task called from this scope was answered with the result the checkpoint holds: its body does not run. */
  void taskReplayed(String task, String callId);

  /** Code in this scope raised an interrupt (it was not answered yet): the run will pause on it. */
  void interrupted(String interruptId);

  /** An attempt of this scope's body failed with {@code error} and another follows after its retry policy's backoff. */
  void retrying(int failedAttempts, Throwable error);

  /**
   * An attribute that the body's code attaches to this scope's observation ({@code TaskContext.attribute}): a span
   * attribute such as a model's token usage, not a metric tag (metric tags are a fixed set).
   */
  void attribute(String key, String value);
}
