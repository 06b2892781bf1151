package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.TypeRef;
import java.util.Map;
import java.util.UUID;
import reactor.core.publisher.Mono;

/** The README's quick start: the reference's is-even / format-message workflow, invoked and streamed. */
public final class QuickStart {

  private QuickStart() {
  }

  public static void main(String[] args) {
    Task<Integer, Boolean> isEven = Task.of("is_even", Boolean.class, n -> Mono.just(n % 2 == 0));
    Task<Boolean, String> formatMessage = Task.of("format_message", String.class,
        even -> Mono.just(even ? "The number is even." : "The number is odd."));

    Entrypoint<Map<String, Integer>, String> workflow = Entrypoint.named("workflow")
        .checkpointer(new InMemorySaver())
        .define(new TypeRef<Map<String, Integer>>() { }, TypeRef.of(String.class),
            (inputs, context) -> isEven.call(inputs.get("number")).flatMap(formatMessage::call));

    int number = args.length > 0 ? Integer.parseInt(args[0]) : 7;
    RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
    System.out.println(workflow.invoke(Map.of("number", number), config).block());
    workflow.stream(Map.of("number", number + 1), config, StreamMode.UPDATES)
        .doOnNext(chunk -> System.out.println(chunk.mode().wireName() + ": " + chunk.data()))
        .blockLast();
  }
}
