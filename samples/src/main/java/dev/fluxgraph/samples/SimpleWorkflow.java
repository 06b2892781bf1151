package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.TypeRef;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import reactor.core.publisher.Mono;

/** "Creating a simple workflow": is_even, then format_message. Argument: the number (default 7). */
public final class SimpleWorkflow implements Sample {

  static final Task<Integer, Boolean> IS_EVEN = Task.of("is_even", Boolean.class, n -> Mono.just(n % 2 == 0));
  static final Task<Boolean, String> FORMAT_MESSAGE = Task.of("format_message", String.class,
      even -> Mono.just(even ? "The number is even." : "The number is odd."));

  /** The workflow, on the given checkpointer. */
  public static Entrypoint<Map<String, Integer>, String> workflow(dev.fluxgraph.checkpoint.CheckpointSaver saver) {
    return Entrypoint.named("workflow").checkpointer(saver)
        .define(new TypeRef<Map<String, Integer>>() { }, TypeRef.of(String.class),
            (inputs, context) -> IS_EVEN.call(inputs.get("number")).flatMap(FORMAT_MESSAGE::call));
  }

  @Override
  public String name() {
    return "simple-workflow";
  }

  @Override
  public String description() {
    return "is_even / format_message: classify a number (argument: the number, default 7)";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    int number = args.isEmpty() ? 7 : Integer.parseInt(args.get(0));
    out.println(workflow(new InMemorySaver())
        .invoke(Map.of("number", number), RunConfig.thread(UUID.randomUUID().toString())).block());
  }
}
