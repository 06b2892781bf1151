package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Final;
import dev.fluxgraph.types.RunConfig;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.List;
import java.util.UUID;
import reactor.core.publisher.Mono;

/**
 * "Decouple return value from saved value": accumulate returns the previous total and saves the new one.
 * Invoked with 1, 2, 3 it prints 0, 1, 3.
 */
public final class FinalAccumulate implements Sample {

  /** The accumulator. */
  public static Entrypoint<Integer, Integer> accumulate(CheckpointSaver saver) {
    return Entrypoint.named("accumulate").checkpointer(saver)
        .defineFinal(Integer.class, Integer.class, Integer.class, (n, context) -> {
          int previous = context.previous().orElse(0);
          return Mono.just(Final.of(previous, previous + n));
        });
  }

  @Override
  public String name() {
    return "final-accumulate";
  }

  @Override
  public String description() {
    return "Final: return the previous total, save the new one (arguments: numbers, default 1 2 3)";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    Entrypoint<Integer, Integer> accumulate = accumulate(new InMemorySaver());
    RunConfig config = RunConfig.thread("my-thread-" + UUID.randomUUID());
    for (String n : args.isEmpty() ? List.of("1", "2", "3") : args) {
      out.println(accumulate.invoke(Integer.parseInt(n), config).block());
    }
  }
}
