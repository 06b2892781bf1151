package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.CompiledGraph;
import dev.fluxgraph.graph.Reducers;
import dev.fluxgraph.graph.StateGraph;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

/**
 * Schemas and subgraph state over a socket: the reference API tests' weather graph (a subgraph with its own key
 * {@code city} and a breakpoint, under a router graph with another state: the subgraph passes only the shared keys,
 * and a run with no input continues past its breakpoint), and a graph with input and output schemas.
 */
class SchemaServerIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static FluxgraphServer server;
  private static HttpClient http;

  public record RouterState(@Nullable List<String> messages, @Nullable String route) {
  }

  public record WeatherState(@Nullable List<String> messages, @Nullable String city) {
  }

  public record Question(@Nullable String question) {
  }

  public record Answer(@Nullable String answer) {
  }

  @BeforeAll
  static void start() {
    CompiledGraph<WeatherState> weather = StateGraph.of(WeatherState.class)
        .reducer("messages", Reducers.append())
        .addNode("model_node", (state, context) -> Mono.just(Map.of("city", "San Francisco")))
        .addNode("weather_node", (state, context) -> Mono.just(Map.of("messages",
            List.of("It's sunny in " + state.city()))))
        .addEdge(StateGraph.START, "model_node")
        .addEdge("model_node", "weather_node")
        .compile(CompileOptions.defaults().withName("weather_graph").withInterruptBefore("weather_node"));
    CompiledGraph<RouterState> router = StateGraph.of(RouterState.class)
        .reducer("messages", Reducers.append())
        .addNode("router_node", (state, context) -> Mono.just(Map.of("route", "weather")))
        .addNode("weather_graph", weather)
        .addEdge(StateGraph.START, "router_node")
        .addEdge("router_node", "weather_graph")
        .compile(CompileOptions.defaults().withName("weather").withCheckpointer(new InMemorySaver()));
    CompiledGraph<Map<String, Object>> oracle = StateGraph.ofMap().withInput(Question.class).withOutput(Answer.class)
        .addNode("think", (state, context) -> Mono.just(Map.of("notes", "thinking about " + state.get("question"))))
        .addNode("answer", (state, context) -> Mono.just(Map.of("answer", "42, " + state.get("notes"))))
        .addEdge(StateGraph.START, "think")
        .addEdge("think", "answer")
        .compile(CompileOptions.defaults().withName("oracle").withCheckpointer(new InMemorySaver()));
    server = FluxgraphServer.builder().graph("weather", router.asEntrypoint())
        .graph("oracle", oracle.asEntrypoint(Question.class, Answer.class)).graph("oracle_map", oracle.asEntrypoint())
        .port(0).discoverGraphs(false).build()
        .start().block(WAIT);
    http = HttpClient.create().baseUrl("http://127.0.0.1:" + server.port());
  }

  @AfterAll
  static void stop() {
    server.stop().block(WAIT);
  }

  private static JsonNode send(String method, String path, String body) {
    return send(method, path, body, 200);
  }

  private static JsonNode send(String method, String path, String body, int status) {
    return http.request(io.netty.handler.codec.http.HttpMethod.valueOf(method)).uri(path)
        .send(ByteBufFlux.fromString(Mono.just(body)))
        .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8).defaultIfEmpty("")
            .map(text -> {
              assertEquals(status, response.status().code(), text);
              try {
                return text.startsWith("event:") ? JSON.createObjectNode().put("sse", text) : JSON.readTree(text);
              } catch (Exception e) {
                throw new AssertionError(text, e);
              }
            }))
        .block(WAIT);
  }

  @Test
  void theSubgraphPassesSharedKeysStopsAtItsBreakpointAndContinuesWithoutInput() {
    String thread = send("POST", "/threads", "{}").get("thread_id").asText();
    String events = send("POST", "/threads/" + thread + "/runs/stream", "{\"assistant_id\":\"weather\","
        + "\"input\":{\"messages\":[\"what's the weather in sf\"]},\"stream_mode\":[\"updates\"],"
        + "\"stream_subgraphs\":true}").get("sse").asText();
    assertTrue(events.contains("data: {\"router_node\":{\"route\":\"weather\"}}"), events);
    assertTrue(events.contains("data: {\"model_node\":{\"city\":\"San Francisco\"}}"), events);
    assertTrue(events.contains("data: {\"__interrupt__\":[]}"), events);

    JsonNode state = send("GET", "/threads/" + thread + "/state?subgraphs=true", "");
    assertEquals("weather_graph", state.get("next").get(0).asText(), state.toString());
    assertEquals(0, state.get("interrupts").size(), state.toString());
    assertEquals("weather_node", state.get("tasks").get(0).get("state").get("next").get(0).asText(),
        state.toString());
    assertEquals("interrupted", send("GET", "/threads/" + thread, "").get("status").asText());

    JsonNode done = send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"weather\","
        + "\"input\":null}");
    assertEquals(List.of("what's the weather in sf", "what's the weather in sf", "It's sunny in San Francisco"),
        JSON.convertValue(done.get("messages"), List.class), done.toString());
    assertEquals("weather", done.get("route").asText());
    assertFalse(done.has("city") && !done.get("city").isNull(), "the subgraph's own key stays its own: " + done);
    assertEquals(0, send("GET", "/threads/" + thread + "/state", "").get("next").size());
  }

  @Test
  void aGraphWithSchemasAnswersItsOutputAndShowsItsWholeState() {
    String thread = send("POST", "/threads", "{}").get("thread_id").asText();
    JsonNode answer = send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"oracle\","
        + "\"input\":{\"question\":\"why\"},\"stream_mode\":[\"updates\"]}");
    assertEquals("42, thinking about why", answer.get("answer").asText(), answer.toString());
    JsonNode values = send("GET", "/threads/" + thread + "/state", "").get("values");
    assertEquals("why", values.get("question").asText(), values.toString());
    assertEquals("thinking about why", values.get("notes").asText(), values.toString());
  }

  @Test
  void anInputKeyOutsideTheInputSchemaFailsTheRunBeforeAnythingIsSaved() {
    String thread = send("POST", "/threads", "{}").get("thread_id").asText();
    JsonNode refused = send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"oracle_map\","
        + "\"input\":{\"question\":\"why\",\"notes\":\"sneaked\"}}");
    assertEquals("InvalidUpdateException", refused.get("__error__").get("error").asText(), refused.toString());
    assertTrue(refused.get("__error__").get("message").asText().contains("'notes', which is not in its input schema"),
        refused.toString());
    assertEquals(0, send("POST", "/threads/" + thread + "/history", "{}").size(), "no checkpoint was saved");
    // read as the typed view's input record, the JSON's other keys are not part of the input
    assertEquals("42, thinking about why", send("POST", "/threads/" + thread + "/runs/wait",
        "{\"assistant_id\":\"oracle\",\"input\":{\"question\":\"why\",\"notes\":\"sneaked\"}}")
        .get("answer").asText());
  }
}
