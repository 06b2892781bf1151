package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.store.InMemoryStore;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * Behaviour the reference server's own API test suite expects and {@code scripts/reference-suite.sh} measured
 * missing, each checked over a real socket on a server of its own (in memory).
 */
class ReferenceBehaviourIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static FluxgraphServer server;
  private static ApiClient api;

  @BeforeAll
  static void start() {
    InMemorySaver saver = new InMemorySaver();
    var reader = StateGraph.ofMap()
        .addNode("read", (state, context) -> {
          Map<String, Object> seen = new LinkedHashMap<>();
          seen.put("configurable", context.config().configurable());
          seen.put("context", context.context(Map.class).orElse(Map.of()));
          return Mono.just(Map.of("seen", seen));
        })
        .setEntryPoint("read")
        .compile(CompileOptions.defaults().withName("reader").withCheckpointer(saver));
    server = FluxgraphServer.builder().discoverGraphs(false).port(0).checkpointer(saver).store(new InMemoryStore())
        .graph("reader", reader.asEntrypoint())
        .build().start().block(WAIT);
    api = new ApiClient(server.port());
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.stop().block(WAIT);
    }
  }

  private static String thread() {
    return api.post("/threads", "{}").json().get("thread_id").asText();
  }

  /** A run's {@code config.configurable.user_id} reaches the graph, as the reference's does (it keeps the request's). */
  @Test
  void userIdReachesTheGraph() throws Exception {
    ApiClient.Reply reply = api.post("/threads/" + thread() + "/runs/wait",
        "{\"assistant_id\":\"reader\",\"input\":{},\"config\":{\"configurable\":{\"user_id\":\"u-1\",\"k\":2}}}");
    assertEquals(200, reply.status(), reply.body());
    JsonNode configurable = reply.json().path("seen").path("configurable");
    assertEquals(JSON.readTree("{\"user_id\":\"u-1\",\"k\":2}"), configurable);
  }
}
