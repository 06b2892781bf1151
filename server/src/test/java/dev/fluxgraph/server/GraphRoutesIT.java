package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.CompiledGraph;
import dev.fluxgraph.graph.Reducers;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.internal.server.Assistants;
import dev.fluxgraph.messages.AiMessage;
import dev.fluxgraph.types.TypeRef;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Issue 14 items 4 and 6 over a real socket: the drawing, subgraphs and schemas Studio reads, and the server's own
 * stream modes ({@code messages}: the SDK's messages events; {@code events}: LangChain's stream events) for a graph
 * whose model node streams its answer token by token through {@code TaskContext.messages()}.
 */
class GraphRoutesIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(20);

  public record Question(@Nullable String question) {
  }

  public record Answer(@Nullable String answer) {
  }

  private static FluxgraphServer server;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() {
    Entrypoint<String, String> shout = Entrypoint.named("shout").define(String.class, String.class,
        (input, context) -> Mono.just(String.valueOf(input).toUpperCase()));
    CompiledGraph<Map<String, Object>> inner = StateGraph.ofMap()
        .addNode("look", (state, context) -> Mono.just(Map.of("seen", true)))
        .addNode("loud", shout)
        .setEntryPoint("look").addEdge("look", "loud").compile(CompileOptions.defaults().withName("inner"));
    CompiledGraph<Map<String, Object>> chat = StateGraph.ofMap()
        .withInput(Question.class).withOutput(Answer.class)
        .reducer("messages", Reducers.messages())
        .addNode("model", (state, context) -> Flux.just("Hel", "lo", " there")
            .concatMap(token -> context.messages().write(Map.of("type", "AIMessageChunk", "id", "answer-1",
                "content", token)))
            .then(Mono.just(Map.of("messages", List.of(AiMessage.of("Hello there").withId("answer-1")),
                "answer", "Hello there"))))
        .addNode("inner", inner)
        .setEntryPoint("model")
        .addConditionalEdges("model", state -> Mono.just(StateGraph.END), List.of("inner", StateGraph.END))
        .compile(CompileOptions.defaults().withName("chat").withCheckpointer(new InMemorySaver()));
    Entrypoint<Map<String, Object>, Map<String, Object>> mark = Entrypoint.named("mark").define(
        new TypeRef<Map<String, Object>>() { }, new TypeRef<Map<String, Object>>() { },
        (state, context) -> Mono.just(Map.of("marked", state.get("text"))));
    CompiledGraph<Map<String, Object>> middle = StateGraph.ofMap()
        .addNode("look", (state, context) -> Mono.just(Map.of("seen", true)))
        .addNode("loud", mark)
        .setEntryPoint("look").addEdge("look", "loud").compile(CompileOptions.defaults().withName("inner"));
    CompiledGraph<Map<String, Object>> outer = StateGraph.ofMap().addNode("inner", middle).setEntryPoint("inner")
        .compile(CompileOptions.defaults().withName("outer").withCheckpointer(new InMemorySaver()));
    server = FluxgraphServer.builder().discoverGraphs(false).port(0).graph("chat", chat.asEntrypoint())
        .graph("shout", shout).graph("outer", outer.asEntrypoint()).build().start().block(WAIT);
  }

  @AfterAll
  static void stop() {
    server.stop().block(WAIT);
  }

  @Test
  void theGraphIsDrawnAsTheReferenceAnswersIt() throws Exception {
    JsonNode graph = get("/assistants/chat/graph", 200);
    assertEquals(List.of("__start__", "model", "inner", "__end__"), ids(graph.get("nodes")));
    assertEquals(JSON.readTree("[{\"source\":\"__start__\",\"target\":\"model\"},"
        + "{\"source\":\"model\",\"target\":\"__end__\",\"conditional\":true},"
        + "{\"source\":\"model\",\"target\":\"inner\",\"conditional\":true},"
        + "{\"source\":\"inner\",\"target\":\"__end__\"}]"), graph.get("edges"));
    assertEquals("model", graph.get("nodes").get(1).get("data").get("name").asText());
    // by assistant id too, and with the subgraphs expanded (an entrypoint inside is one node)
    JsonNode xray = get("/assistants/" + Assistants.idOf("chat") + "/graph?xray=true", 200);
    assertEquals(List.of("__start__", "model", "__end__", "inner:look", "inner:loud:shout"), ids(xray.get("nodes")));
    assertTrue(xray.get("edges").toString().contains("{\"source\":\"inner:look\",\"target\":\"inner:loud:shout\"}"),
        xray::toString);
    assertEquals(List.of("__start__", "model", "__end__", "inner:look", "inner:loud"),
        ids(get("/assistants/chat/graph?xray=1", 200).get("nodes")));
    assertEquals(List.of("__start__", "shout", "__end__"), ids(get("/assistants/shout/graph", 200).get("nodes")));
  }

  @Test
  void subgraphsAndSchemasComeFromTheDeclaredTypes() throws Exception {
    JsonNode schemas = get("/assistants/chat/schemas", 200);
    assertEquals("chat", schemas.get("graph_id").asText());
    assertEquals(JSON.readTree("{\"question\":{\"type\":\"string\"}}"), schemas.get("input_schema").get("properties"),
        schemas::toString);
    assertEquals(JSON.readTree("{\"answer\":{\"type\":\"string\"}}"), schemas.get("output_schema").get("properties"));
    assertEquals("object", schemas.get("state_schema").get("type").asText());
    assertFalse(schemas.has("config_schema"), "no type is declared for it: missing, as the reference's document says");
    assertFalse(schemas.has("context_schema"));
    JsonNode shout = get("/assistants/shout/schemas", 200);
    assertEquals("string", shout.get("input_schema").get("type").asText(), shout::toString);

    JsonNode subgraphs = get("/assistants/chat/subgraphs", 200);
    assertEquals(List.of("inner"), fieldNames(subgraphs));
    assertEquals("object", subgraphs.get("inner").get("input_schema").get("type").asText());
    for (String key : List.of("input", "output", "state")) { // the reference JS server's keys too, the same schemas
      assertEquals(subgraphs.get("inner").get(key + "_schema"), subgraphs.get("inner").get(key), key);
    }
    assertEquals(List.of("inner", "inner|loud"), fieldNames(get("/assistants/chat/subgraphs?recurse=true", 200)));
    String nested = "/assistants/chat/subgraphs/" + URLEncoder.encode("inner|loud", StandardCharsets.UTF_8);
    assertEquals(List.of(), fieldNames(get(nested, 200)), "a nested namespace is found only with recurse");
    JsonNode loud = get(nested + "?recurse=true", 200);
    assertEquals(List.of("inner|loud"), fieldNames(loud));
    assertEquals("string", loud.get("inner|loud").get("output_schema").get("type").asText());
    assertEquals(List.of("inner"), fieldNames(get("/assistants/chat/subgraphs/inner", 200)));
    assertEquals(List.of(), fieldNames(get("/assistants/chat/subgraphs/nothing", 200)));
  }

  @Test
  void badRequestsAreRefusedWithADetail() throws Exception {
    assertTrue(get("/assistants/chat/graph?xray=maybe", 422).get("detail").asText().contains("xray"));
    assertTrue(get("/assistants/chat/graph?xray=-1", 422).get("detail").asText().contains("xray"));
    assertTrue(get("/assistants/chat/graph?depth=2", 422).get("detail").asText().contains("depth"));
    assertTrue(get("/assistants/chat/subgraphs?recurse=yes", 422).get("detail").asText().contains("recurse"));
    assertTrue(get("/assistants/chat/schemas?x=1", 422).get("detail").asText().contains("'x'"));
    assertTrue(get("/assistants/nope/graph", 404).get("detail").asText().contains("nope"));
    assertTrue(get("/assistants/nope/schemas", 404).has("detail"));
    assertTrue(get("/assistants/nope/subgraphs", 404).has("detail"));
    HttpResponse<String> withBody = send(HttpRequest.newBuilder(uri("/assistants/chat/schemas"))
        .method("GET", HttpRequest.BodyPublishers.ofString("{\"config\":{}}")));
    assertEquals(422, withBody.statusCode(), withBody.body());
    HttpResponse<String> mode = send(HttpRequest.newBuilder(uri("/runs/stream"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"assistant_id\":\"chat\",\"input\":{},\"stream_mode\":\"tokens\"}")));
    assertEquals(422, mode.statusCode(), mode.body());
    assertTrue(mode.body().contains("events"), mode.body());
  }

  @Test
  void messagesModeAccumulatesEachMessageAndCompletesItOnce() throws Exception {
    List<String[]> events = stream("\"messages\"");
    List<String> names = events.stream().map(event -> event[0]).filter(name -> !name.equals("metadata")).toList();
    assertEquals(List.of("messages/metadata", "messages/partial", "messages/partial", "messages/partial",
        "messages/complete"), names);
    JsonNode metadata = data(events, "messages/metadata").get(0);
    assertEquals("model", metadata.get("answer-1").get("metadata").get("langgraph_node").asText(), metadata::toString);
    List<String> partials = data(events, "messages/partial").stream()
        .map(partial -> partial.get(0).get("content").asText()).toList();
    assertEquals(List.of("Hel", "Hello", "Hello there"), partials);
    JsonNode complete = data(events, "messages/complete").get(0);
    assertEquals(1, complete.size());
    assertEquals("answer-1", complete.get(0).get("id").asText());
    assertEquals("ai", complete.get(0).get("type").asText());
    assertEquals("Hello there", complete.get(0).get("content").asText());
    assertFalse(events.stream().anyMatch(event -> event[0].equals("values")), "values were not asked for");
  }

  @Test
  void eventsModeShowsTheRunItsNodesAndTheModelStream() throws Exception {
    List<String[]> events = stream("[\"events\",\"updates\"]");
    String runId = data(events, "metadata").get(0).get("run_id").asText();
    List<JsonNode> stream = data(events, "events");
    List<String> kinds = stream.stream().map(event -> event.get("event").asText() + ":" + event.get("name").asText())
        .toList();
    assertEquals(List.of("on_chain_start:chat", "on_chain_start:model", "on_chat_model_start:chat_model",
        "on_chat_model_stream:chat_model", "on_chat_model_stream:chat_model", "on_chat_model_stream:chat_model",
        "on_chat_model_end:chat_model", "on_chain_end:model", "on_chain_end:chat"), kinds);
    JsonNode run = stream.get(0);
    assertEquals(runId, run.get("run_id").asText());
    assertEquals("2+2?", run.get("data").get("input").get("question").asText());
    JsonNode node = stream.get(1);
    assertEquals(List.of(runId), texts(node.get("parent_ids")));
    JsonNode model = stream.get(2);
    assertEquals(List.of(runId, node.get("run_id").asText()), texts(model.get("parent_ids")));
    assertEquals("model", model.get("metadata").get("langgraph_node").asText());
    assertEquals("lo", stream.get(4).get("data").get("chunk").get("content").asText());
    assertEquals("Hello there", stream.get(6).get("data").get("output").get("content").asText());
    assertEquals("Hello there", stream.get(8).get("data").get("output").get("answer").asText(), stream.get(8)::toString);
    assertTrue(stream.get(7).get("data").get("output").has("messages"));
    // what was asked for besides: updates only (no tasks or messages-tuple events, no subgraph chunks)
    assertEquals(List.of("metadata", "events", "updates"), events.stream().map(event -> event[0]).distinct().toList());
  }

  @Test
  void eventsModeShowsTheTasksOfSubgraphsAtAnyDepth() throws Exception {
    List<String[]> events = stream("outer", "{\"text\":\"hi\"}", "[\"events\",\"updates\"]");
    List<JsonNode> stream = data(events, "events");
    List<String> starts = stream.stream().filter(event -> event.get("event").asText().equals("on_chain_start"))
        .map(event -> event.get("name").asText()).toList();
    // a node that runs a graph or an entrypoint nested is two tasks, as the runtime's tasks mode shows them: the node,
    // then the nested call inside it (the reference too shows the node's chain, then the subgraph's)
    assertEquals(List.of("outer", "inner", "inner", "look", "loud", "loud"), starts, stream::toString);
    JsonNode look = stream.stream().filter(event -> event.get("name").asText().equals("look")).findFirst()
        .orElseThrow();
    assertTrue(look.get("metadata").get("langgraph_checkpoint_ns").asText().startsWith("inner:"), look::toString);
    assertEquals(starts.size(), stream.stream().filter(event -> event.get("event").asText().equals("on_chain_end"))
        .count(), stream::toString);
    JsonNode end = stream.get(stream.size() - 1);
    assertEquals("outer", end.get("name").asText());
    assertEquals("hi", end.get("data").get("output").get("marked").asText(), end::toString);
    assertTrue(events.stream().noneMatch(event -> event[0].startsWith("updates|")),
        "subgraph chunks only with stream_subgraphs");
  }

  private List<String[]> stream(String modes) throws Exception {
    return stream("chat", "{\"question\":\"2+2?\"}", modes);
  }

  private List<String[]> stream(String assistant, String input, String modes) throws Exception {
    String thread = post("/threads", "{}").get("thread_id").asText();
    return SseEvents.of(send(HttpRequest.newBuilder(uri("/threads/" + thread + "/runs/stream"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"assistant_id\":\"" + assistant + "\",\"input\":" + input
            + ",\"stream_mode\":" + modes + "}"))));
  }

  private static List<String> ids(JsonNode nodes) {
    List<String> ids = new ArrayList<>();
    nodes.forEach(node -> ids.add(node.get("id").asText()));
    return ids;
  }

  private static List<String> texts(JsonNode array) {
    List<String> texts = new ArrayList<>();
    array.forEach(item -> texts.add(item.asText()));
    return texts;
  }

  private static List<String> fieldNames(JsonNode object) {
    List<String> names = new ArrayList<>();
    object.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static List<JsonNode> data(List<String[]> events, String name) throws Exception {
    List<JsonNode> data = new ArrayList<>();
    for (String[] event : events) {
      if (event[0].equals(name)) {
        data.add(JSON.readTree(event[2]));
      }
    }
    return data;
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }

  private JsonNode get(String path, int status) throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(uri(path)).GET());
    assertEquals(status, response.statusCode(), response.body());
    return JSON.readTree(response.body());
  }

  private JsonNode post(String path, String body) throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)));
    assertEquals(200, response.statusCode(), response.body());
    return JSON.readTree(response.body());
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(request.timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
  }
}
