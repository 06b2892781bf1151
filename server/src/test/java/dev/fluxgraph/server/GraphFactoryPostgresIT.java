package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.postgres.PostgresSaver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

/**
 * A factory's graph pauses on PostgreSQL; after a server restart the factory builds it again in the new process
 * from the same configurable values, and the run resumes from its checkpoint.
 */
class GraphFactoryPostgresIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static io.zonky.test.db.postgres.embedded.EmbeddedPostgres postgres;
  private static String url;
  private static final List<String> drafted = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void database() throws Exception {
    postgres = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder().start();
    url = "r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/postgres";
  }

  @AfterAll
  static void close() throws Exception {
    postgres.close();
  }

  /** One server process: a factory whose graph drafts with the configured model, then asks for approval. */
  private static <T> T withServer(Function<HttpClient, T> action) {
    try (PostgresSaver saver = PostgresSaver.connect(url)) {
      saver.setup().block(WAIT);
      FluxgraphServer server = FluxgraphServer.builder().discoverGraphs(false).port(0).checkpointer(saver)
          .graph("writer", config -> {
            String model = String.valueOf(config.configurable().getOrDefault("model", "small"));
            return StateGraph.ofMap()
                .addNode("draft", (state, context) -> {
                  drafted.add(model);
                  return Mono.just(Map.of("draft", model + " draft on " + state.get("topic")));
                })
                .addNode("approve", (state, context) -> context.interrupt("ok?", String.class)
                    .map(answer -> Map.of("verdict", answer + " by " + model)))
                .addEdge(StateGraph.START, "draft")
                .addEdge("draft", "approve")
                .compile(CompileOptions.defaults().withName("writer").withCheckpointer(saver))
                .asEntrypoint();
          })
          .build().start().block(WAIT);
      try {
        return action.apply(HttpClient.create().baseUrl("http://127.0.0.1:" + server.port()));
      } finally {
        server.stop().block(WAIT);
      }
    }
  }

  private static JsonNode post(HttpClient http, String path, String body) {
    String text = http.post().uri(path).send(ByteBufFlux.fromString(Mono.just(body)))
        .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8)).block(WAIT);
    try {
      return JSON.readTree(text);
    } catch (Exception e) {
      throw new AssertionError(text, e);
    }
  }

  @Test
  void aFactorysRunResumesInANewProcessFromPostgres() {
    String config = "\"config\":{\"configurable\":{\"model\":\"big\"}}";
    String thread = withServer(http -> {
      String id = post(http, "/threads", "{}").get("thread_id").asText();
      JsonNode paused = post(http, "/threads/" + id + "/runs/wait", "{\"assistant_id\":\"writer\","
          + "\"input\":{\"topic\":\"bees\"}," + config + "}");
      assertEquals("ok?", paused.get("__interrupt__").get(0).get("value").asText(), paused.toString());
      return id;
    });
    JsonNode done = withServer(http -> post(http, "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"writer\","
        + "\"command\":{\"resume\":\"yes\"}," + config + "}"));
    assertEquals("big draft on bees", done.get("draft").asText(), done.toString());
    assertEquals("yes by big", done.get("verdict").asText(), done.toString());
    assertEquals(List.of("big"), drafted, "the draft replays from PostgreSQL");
  }
}
