package dev.fluxgraph.func;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamMode;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

class SmokeTest {

  @Test
  void isEven() {
    Task<Integer, Boolean> isEven = Task.of("is_even", Boolean.class, n -> Mono.just(n % 2 == 0));
    Task<Boolean, String> format = Task.of("format_message", String.class,
        even -> Mono.just(even ? "The number is even." : "The number is odd."));
    Entrypoint<Map<String, Integer>, String> workflow = Entrypoint.named("workflow")
        .define(new dev.fluxgraph.types.TypeRef<Map<String, Integer>>() { }, dev.fluxgraph.types.TypeRef.of(String.class),
            (inputs, ctx) -> isEven.call(inputs.get("number")).flatMap(format::call));
    assertEquals("The number is odd.", workflow.invoke(Map.of("number", 7), RunConfig.none()).block());
    System.out.println(workflow.stream(Map.of("number", 8), RunConfig.none(), StreamMode.UPDATES, StreamMode.VALUES,
        StreamMode.TASKS, StreamMode.CHECKPOINTS).collectList().block());
  }

}
