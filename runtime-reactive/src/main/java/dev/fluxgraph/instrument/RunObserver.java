package dev.fluxgraph.instrument;

import org.jspecify.annotations.Nullable;

/**
 * What one run reports: every {@link ScopeObserver} report of its body, its checkpoint writes, and exactly one
 * {@link #runEnded}. Returned by {@link Instrumentation#runStarted}.
 */
public interface RunObserver extends ScopeObserver {

  /** Ignores everything; the engine skips the work it would only do for an observer when it sees this one. */
  RunObserver NOOP = new Noop();

  /**
   * The run is about to write to its checkpointer; the returned {@link Completion} is told when that write ended
   * (so an implementation measures the latency with its own clock). Writes in the background ({@code ASYNC}
   * durability) are reported as well.
   */
  Completion checkpointWriteStarted(CheckpointWrite kind);

  /**
   * The run ended: once per run, after its last report. A pause on interrupts (or at a graph breakpoint) ends it as
   * {@link RunOutcome#INTERRUPTED}, with the value or interrupts delivered; the run's tasks still waiting for answers
   * end as {@link TaskOutcome#INTERRUPTED} just before.
   *
   * @param error the failure, for {@link RunOutcome#ERROR}; null otherwise
   */
  void runEnded(RunOutcome outcome, @Nullable Throwable error);

  /** The end of something started earlier. */
  @FunctionalInterface
  interface Completion {
    /** Ignores the end. */
    Completion NOOP = error -> { };

    /** It ended, failed with {@code error} or (null) successfully. */
    void ended(@Nullable Throwable error);
  }

  /** What {@link #NOOP} is: every report ignored. */
  final class Noop implements RunObserver {
    private Noop() {
    }

    @Override
    public TaskObserver taskStarted(String task, String callId, boolean nested) {
      return TaskObserver.NOOP;
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
    public Completion checkpointWriteStarted(CheckpointWrite kind) {
      return Completion.NOOP;
    }

    @Override
    public void runEnded(RunOutcome outcome, @Nullable Throwable error) {
    }
  }
}
