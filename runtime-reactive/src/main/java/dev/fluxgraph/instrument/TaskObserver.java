package dev.fluxgraph.instrument;

import org.jspecify.annotations.Nullable;

/**
 * What one executed task call reports: the {@link ScopeObserver} reports of its body (its own task calls, retries,
 * interrupts, attributes) and exactly one {@link #taskEnded}. Returned by {@link ScopeObserver#taskStarted}.
 */
public interface TaskObserver extends ScopeObserver {

  /** Ignores everything. */
  TaskObserver NOOP = new Noop();

  /**
   * The call ended. A call paused on interrupts ends as {@link TaskOutcome#INTERRUPTED} when its run stops (its
   * {@code Mono} never completes: the run cancels it), not as {@link TaskOutcome#CANCELLED}, which is for a call
   * whose caller or run went away.
   *
   * @param attempts how many attempts of its body ran (1 without retries; 0 when the cache answered it)
   * @param error    the last attempt's failure, for {@link TaskOutcome#ERROR}; null otherwise
   */
  void taskEnded(TaskOutcome outcome, int attempts, @Nullable Throwable error);

  /** What {@link #NOOP} is: every report ignored. */
  final class Noop implements TaskObserver {
    private Noop() {
    }

    @Override
    public TaskObserver taskStarted(String task, String callId, boolean nested) {
      return this;
    }

    @Override
    public void taskReplayed(String task, String callId) {
    }

    @Override
    public void interrupted(String interruptId) {
    }

    @Override
    public void retrying(int failedAttempts, Throwable error) {
    }

    @Override
    public void attribute(String key, String value) {
    }

    @Override
    public void taskEnded(TaskOutcome outcome, int attempts, @Nullable Throwable error) {
    }
  }
}
