package dev.fluxgraph.internal.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.server.GraphFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** The served graphs' lookups with graph factories: per distinct configurable values, bounded, by assistant id. */
class ServedGraphsTest {

  private final List<Map<String, Object>> calls = new ArrayList<>();

  private final GraphFactory factory = config -> {
    calls.add(config.configurable());
    if (config.configurable().containsKey("fail")) {
      throw new IllegalArgumentException("unknown model");
    }
    if (config.configurable().containsKey("none")) {
      return null;
    }
    return Entrypoint.named("made").define(String.class, String.class, (input, context) -> Mono.just(input));
  };

  private final ServedGraphs served = new ServedGraphs(Map.of(), Map.of("agent", factory));

  @Test
  void equalValuesShareOneGraphWhateverTheirKeyOrder() {
    Map<String, Object> ab = new LinkedHashMap<>();
    ab.put("a", 1);
    ab.put("b", Map.of("x", List.of(1, 2)));
    Map<String, Object> ba = new LinkedHashMap<>();
    ba.put("b", Map.of("x", List.of(1, 2)));
    ba.put("a", 1);
    Entrypoint<?, ?> first = served.forRun("agent", ab);
    assertSame(first, served.forRun("agent", ba));
    assertSame(first, served.byAssistant(Assistants.idOf("agent"), ba));
    assertNotSame(first, served.forRun("agent", Map.of("a", 2)));
    assertEquals(2, calls.size());
    assertEquals("agent", served.idOf(first));
    assertEquals(java.util.Set.of("agent"), served.ids());
  }

  @Test
  void atMostSoManyGraphsAreKeptLeastRecentlyUsedFirstOut() {
    Entrypoint<?, ?> kept = served.forRun("agent", Map.of("n", 0));
    Entrypoint<?, ?> dropped = served.forRun("agent", Map.of("n", 1));
    for (int n = 2; n <= ServedGraphs.CACHED_PER_FACTORY; n++) {
      served.forRun("agent", Map.of("n", 0)); // used again: stays
      served.forRun("agent", Map.of("n", n));
    }
    assertSame(kept, served.forRun("agent", Map.of("n", 0)));
    assertNotSame(dropped, served.forRun("agent", Map.of("n", 1)), "the least recently used was built anew");
    assertEquals(ServedGraphs.CACHED_PER_FACTORY + 2, calls.size());
  }

  @Test
  void aFactoryThatFailsOrReturnsNothingIsNamed() {
    HttpProblem failed = assertThrows(HttpProblem.class, () -> served.forRun("agent", Map.of("fail", true)));
    assertEquals(422, failed.status());
    assertTrue(failed.getMessage().contains("graph factory of 'agent'") && failed.getMessage().contains("unknown model"),
        failed.getMessage());
    IllegalStateException none = assertThrows(IllegalStateException.class,
        () -> served.forRun("agent", Map.of("none", true)));
    assertTrue(none.getMessage().contains("returned no graph"), none.getMessage());
    assertEquals(404, assertThrows(HttpProblem.class, () -> served.byAssistant("nobody")).status());
  }

  @Test
  void oneIdNamesAGraphOrAFactory() {
    Entrypoint<?, ?> graph = Entrypoint.named("g").define(String.class, String.class,
        (input, context) -> Mono.just(input));
    IllegalArgumentException clash = assertThrows(IllegalArgumentException.class,
        () -> new ServedGraphs(Map.of("agent", graph), Map.of("agent", factory)));
    assertTrue(clash.getMessage().contains("'agent'"), clash.getMessage());
  }
}
