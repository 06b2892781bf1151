package dev.fluxgraph.bench;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.instrument.CheckpointWrite;
import dev.fluxgraph.instrument.Instrumentation;
import dev.fluxgraph.instrument.RunObserver;
import dev.fluxgraph.instrument.RunOutcome;
import dev.fluxgraph.instrument.TaskObserver;
import dev.fluxgraph.types.RunConfig;
import java.util.function.IntConsumer;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * {@link OneTaskWorkload}'s run with an installed hook that does nothing but is not {@link Instrumentation#none()}:
 * what the engine pays for reporting to an observer, without the observer's own costs.
 */
public final class HookedWorkload {

  private HookedWorkload() {
  }

  /** A 1-task run on {@code InMemorySaver} reporting to an empty observer. */
  public static IntConsumer withSaver() {
    InMemorySaver saver = new InMemorySaver();
    Task<Integer, Integer> addOne = Task.of("add_one", Integer.class, n -> Mono.just(n + 1));
    Entrypoint<Integer, Integer> oneTask = Entrypoint.named("one_task").checkpointer(saver)
        .instrumentation((workflow, config, context) -> EmptyObserver.INSTANCE)
        .define(Integer.class, Integer.class, (n, context) -> addOne.call(n));
    return i -> {
      String thread = "one-" + i;
      oneTask.invoke(i, RunConfig.thread(thread)).block();
      saver.deleteThread(thread).block();
    };
  }

  /** Ignores every report, as RunObserver.NOOP does, but the engine cannot tell. */
  private static final class EmptyObserver implements RunObserver {
    static final EmptyObserver INSTANCE = new EmptyObserver();

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
