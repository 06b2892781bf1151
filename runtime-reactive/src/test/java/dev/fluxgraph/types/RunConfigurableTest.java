package dev.fluxgraph.types;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.func.Entrypoint;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** {@link RunConfig#withConfigurable}: per-run values, copied, kept by the other copies, readable inside a run. */
class RunConfigurableTest {

  @Test
  void valuesAreCopiedKeptByOtherCopiesAndPartOfEquality() {
    Map<String, Object> values = new HashMap<>(Map.of("model", "big"));
    RunConfig config = RunConfig.thread("t").withConfigurable(values);
    values.put("model", "changed");
    assertEquals(Map.of("model", "big"), config.configurable());
    assertThrows(UnsupportedOperationException.class, () -> config.configurable().put("x", 1));
    RunConfig copied = config.withCheckpointId("c").withMetadata(Map.of("k", 1)).withDurability(Durability.SYNC)
        .withContext("ctx").withCheckpointNamespace("");
    assertEquals(Map.of("model", "big"), copied.configurable());
    assertEquals(RunConfig.thread("t").withConfigurable(Map.of("model", "big")), config);
    assertEquals(RunConfig.thread("t").withConfigurable(Map.of("model", "big")).hashCode(), config.hashCode());
    assertNotEquals(RunConfig.thread("t"), config);
    assertEquals(Map.of(), RunConfig.none().configurable());
    assertTrue(config.toString().contains("configurable={model=big}"), config.toString());
  }

  @Test
  void theThreadAndCheckpointAreNotConfigurableValues() {
    for (String key : List.of("thread_id", "checkpoint_id", "checkpoint_ns")) {
      IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
          () -> RunConfig.none().withConfigurable(Map.of(key, "x")));
      assertTrue(error.getMessage().contains("'" + key + "'"), error.getMessage());
    }
  }

  @Test
  void aRunReadsItsValuesFromItsContext() {
    Entrypoint<String, String> echo = Entrypoint.named("echo").define(String.class, String.class,
        (input, context) -> Mono.just(input + " with " + context.config().configurable().get("model")));
    assertEquals("hi with tiny", echo.invoke("hi", RunConfig.none().withConfigurable(Map.of("model", "tiny")))
        .block(Duration.ofSeconds(5)));
  }
}
