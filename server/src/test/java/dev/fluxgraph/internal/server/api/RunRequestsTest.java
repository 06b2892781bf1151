package dev.fluxgraph.internal.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.internal.server.ServedGraphs;
import dev.fluxgraph.types.Durability;
import dev.fluxgraph.types.FluxgraphJson;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** The server's default durability: for run requests that name none, and only for those. */
class RunRequestsTest {

  private static final ServedGraphs GRAPHS = new ServedGraphs(Map.of("echo", Entrypoint.named("echo")
      .define(String.class, String.class, (in, context) -> Mono.just(in))));

  @Test
  void aRequestWithoutDurabilityGetsTheDefaultAndOneWithItsOwnKeepsIt() throws Exception {
    assertEquals(Durability.EXIT, parse(Durability.EXIT, "{\"assistant_id\":\"echo\",\"input\":\"x\"}"));
    assertEquals(Durability.SYNC, parse(Durability.EXIT,
        "{\"assistant_id\":\"echo\",\"input\":\"x\",\"durability\":\"sync\"}"));
    assertNull(parse(null, "{\"assistant_id\":\"echo\",\"input\":\"x\"}"));
  }

  private static @Nullable Durability parse(@Nullable Durability fallback, String json) throws Exception {
    JsonNode body = FluxgraphJson.mapper().readTree(json);
    return new RunRequests(GRAPHS, fallback).parse(body, false).durability();
  }
}
