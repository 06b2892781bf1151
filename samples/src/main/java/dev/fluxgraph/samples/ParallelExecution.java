package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.TypeRef;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.List;
import java.util.UUID;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** "Parallel execution": add_one on every number at once. Arguments: the numbers (default 1 2 3). */
public final class ParallelExecution implements Sample {

  static final Task<Integer, Integer> ADD_ONE = Task.of("add_one", Integer.class, n -> Mono.just(n + 1));

  /** The workflow: every call starts at once; results keep the input order. */
  public static Entrypoint<List<Integer>, List<Integer>> graph(dev.fluxgraph.checkpoint.CheckpointSaver saver) {
    return Entrypoint.named("graph").checkpointer(saver)
        .define(new TypeRef<List<Integer>>() { }, new TypeRef<List<Integer>>() { },
            (numbers, context) -> Flux.fromIterable(numbers).flatMapSequential(ADD_ONE::call).collectList());
  }

  @Override
  public String name() {
    return "parallel-add-one";
  }

  @Override
  public String description() {
    return "add_one called in parallel over a list (arguments: numbers, default 1 2 3)";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    List<Integer> numbers = args.isEmpty() ? List.of(1, 2, 3) : args.stream().map(Integer::parseInt).toList();
    out.println(Printing.json(graph(new InMemorySaver())
        .invoke(numbers, RunConfig.thread(UUID.randomUUID().toString())).block()));
  }
}
