package dev.fluxgraph.bench;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.types.RunConfig;
import java.util.function.IntConsumer;
import reactor.core.publisher.Mono;

/**
 * The 1-task runs of {@link RuntimeBenchmark}, written against API that every version of the engine has, so that
 * {@link HookOverheadBenchmark} can load it next to an older engine. Each consumer runs one workflow run (blocking)
 * and deletes its thread.
 */
public final class OneTaskWorkload {

  private OneTaskWorkload() {
  }

  /** A 1-task run on {@code InMemorySaver}, a fresh thread per run. */
  public static IntConsumer withSaver() {
    InMemorySaver saver = new InMemorySaver();
    Task<Integer, Integer> addOne = Task.of("add_one", Integer.class, n -> Mono.just(n + 1));
    Entrypoint<Integer, Integer> oneTask = Entrypoint.named("one_task").checkpointer(saver)
        .define(Integer.class, Integer.class, (n, context) -> addOne.call(n));
    return i -> {
      String thread = "one-" + i;
      oneTask.invoke(i, RunConfig.thread(thread)).block();
      saver.deleteThread(thread).block();
    };
  }

  /** A 1-task run without a checkpointer. */
  public static IntConsumer withoutSaver() {
    Task<Integer, Integer> addOne = Task.of("add_one", Integer.class, n -> Mono.just(n + 1));
    Entrypoint<Integer, Integer> oneTask = Entrypoint.named("one_task")
        .define(Integer.class, Integer.class, (n, context) -> addOne.call(n));
    return i -> oneTask.invoke(i, RunConfig.none()).block();
  }
}
