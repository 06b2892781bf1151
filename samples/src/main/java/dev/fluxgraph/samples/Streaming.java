package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.TypeRef;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import reactor.core.publisher.Mono;

/** "Streaming": custom data written from the body between two tasks, streamed with updates. */
public final class Streaming implements Sample {

  static final Task<Integer, Integer> ADD_ONE = Task.of("add_one", Integer.class, x -> Mono.just(x + 1));
  static final Task<Integer, Integer> ADD_TWO = Task.of("add_two", Integer.class, x -> Mono.just(x + 2));

  /** Writes "hello", calls add_one, writes "world", calls add_two, returns the sum. */
  public static Entrypoint<Map<String, Integer>, Integer> main(dev.fluxgraph.checkpoint.CheckpointSaver saver) {
    return Entrypoint.named("main").checkpointer(saver)
        .define(new TypeRef<Map<String, Integer>>() { }, TypeRef.of(Integer.class), (inputs, context) ->
            context.writer().write("hello")
                .then(ADD_ONE.call(inputs.get("x")))
                .flatMap(first -> context.writer().write("world")
                    .then(ADD_TWO.call(inputs.get("x")))
                    .map(second -> first + second)));
  }

  @Override
  public String name() {
    return "streaming";
  }

  @Override
  public String description() {
    return "stream custom data and updates (argument: x, default 1)";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    int x = args.isEmpty() ? 1 : Integer.parseInt(args.get(0));
    main(new InMemorySaver()).stream(Map.of("x", x), RunConfig.thread(UUID.randomUUID().toString()),
            StreamMode.CUSTOM, StreamMode.UPDATES)
        .doOnNext(chunk -> out.println(Printing.chunk(chunk)))
        .blockLast();
  }
}
