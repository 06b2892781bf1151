package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.Reducers;
import dev.fluxgraph.graph.Send;
import dev.fluxgraph.graph.StateGraph;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

/** A graph with Sends over a real socket: pending Send tasks in the thread state, Sends in {@code command.goto}. */
class SendServerIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static FluxgraphServer server;
  private static HttpClient http;

  @BeforeAll
  static void start() {
    var graph = StateGraph.ofMap()
        .reducer("results", Reducers.append())
        .addNode("split", (state, context) -> Mono.just(Map.of()))
        .addNode("work", (state, context) -> "b".equals(state.get("item"))
            ? context.interrupt("approve b?", String.class).map(answer -> Map.of("results", List.of(answer)))
            : Mono.just(Map.of("results", List.of(String.valueOf(state.get("item")).toUpperCase()))))
        .addEdge(StateGraph.START, "split")
        .addConditionalEdges("split", state -> Flux.fromIterable((List<?>) state.get("items"))
            .map(item -> new Send("work", Map.of("item", item))))
        .compile(CompileOptions.defaults().withName("fanout").withCheckpointer(new InMemorySaver()));
    server = FluxgraphServer.builder().graph("fanout", graph.asEntrypoint()).port(0).discoverGraphs(false).build()
        .start().block(Duration.ofSeconds(10));
    http = HttpClient.create().baseUrl("http://127.0.0.1:" + server.port());
  }

  @AfterAll
  static void stop() {
    server.stop().block(Duration.ofSeconds(10));
  }

  private static JsonNode send(String method, String path, String body, int expectedStatus) {
    return http.request(HttpMethod.valueOf(method)).uri(path)
        .send(ByteBufFlux.fromString(Mono.just(body)))
        .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8).defaultIfEmpty("")
            .map(text -> {
              assertEquals(expectedStatus, response.status().code(), text);
              try {
                return JSON.readTree(text);
              } catch (Exception e) {
                throw new AssertionError(text, e);
              }
            }))
        .block(Duration.ofSeconds(10));
  }

  @Test
  void pendingSendTasksHavePushPathsAndGotoAcceptsSends() {
    String thread = send("POST", "/threads", "{}", 200).get("thread_id").asText();
    send("POST", "/threads/" + thread + "/runs/wait",
        "{\"assistant_id\":\"fanout\",\"input\":{\"items\":[\"a\",\"b\",\"c\"]}}", 200);
    JsonNode state = send("GET", "/threads/" + thread + "/state", "", 200);
    assertEquals("[\"work\",\"work\",\"work\"]", state.get("next").toString());
    for (int i = 0; i < 3; i++) {
      assertEquals("[\"__pregel_push\"," + i + "]", state.get("tasks").get(i).get("path").toString());
    }
    assertEquals("approve b?", state.get("tasks").get(1).get("interrupts").get(0).get("value").asText());
    assertEquals("{\"results\":[\"A\"]}", state.get("tasks").get(0).get("result").toString());

    JsonNode done = send("POST", "/threads/" + thread + "/runs/wait",
        "{\"assistant_id\":\"fanout\",\"command\":{\"resume\":\"B!\"}}", 200);
    assertEquals("[\"A\",\"B!\",\"C\"]", done.get("results").toString());

    JsonNode more = send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"fanout\","
        + "\"command\":{\"goto\":[{\"node\":\"work\",\"input\":{\"item\":\"d\"}},{\"node\":\"work\",\"input\":"
        + "{\"item\":\"e\"}}]}}", 200);
    assertEquals("[\"A\",\"B!\",\"C\",\"D\",\"E\"]", more.get("results").toString());
    JsonNode refused = send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"fanout\","
        + "\"command\":{\"goto\":{\"node\":\"nowhere\",\"input\":{}}}}", 422);
    assertTrue(refused.get("detail").asText().contains("'nowhere'"), refused.toString());
    send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"fanout\","
        + "\"command\":{\"goto\":[\"work\",\"split\"]}}", 422);
  }
}
