package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.TypeRef;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import reactor.core.publisher.Mono;

/** "Call other entrypoints": main invokes multiply as a nested entrypoint. Prints {"product":42}. */
public final class CallingEntrypoints implements Sample {

  private static final TypeRef<Map<String, Integer>> INTS = new TypeRef<>() { };

  static final Entrypoint<Map<String, Integer>, Integer> MULTIPLY = Entrypoint.named("multiply")
      .define(INTS, TypeRef.of(Integer.class), (inputs, context) -> Mono.just(inputs.get("a") * inputs.get("b")));

  /** The main workflow; the nested one uses its checkpointer. */
  public static Entrypoint<Map<String, Integer>, Map<String, Integer>> main(
      dev.fluxgraph.checkpoint.CheckpointSaver saver) {
    return Entrypoint.named("main").checkpointer(saver)
        .define(INTS, INTS, (inputs, context) -> MULTIPLY.invoke(Map.of("a", inputs.get("x"), "b", inputs.get("y")))
            .map(product -> Map.of("product", product)));
  }

  @Override
  public String name() {
    return "calling-entrypoint";
  }

  @Override
  public String description() {
    return "an entrypoint invoking another one (arguments: x y, default 6 7)";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    int x = args.size() > 0 ? Integer.parseInt(args.get(0)) : 6;
    int y = args.size() > 1 ? Integer.parseInt(args.get(1)) : 7;
    out.println(Printing.json(main(new InMemorySaver())
        .invoke(Map.of("x", x, "y", y), RunConfig.thread(UUID.randomUUID().toString())).block()));
  }
}
