package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.Reducers;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.messages.AiMessage;
import dev.fluxgraph.messages.Message;
import dev.fluxgraph.messages.ToolCall;
import dev.fluxgraph.messages.ToolMessage;
import dev.fluxgraph.postgres.PostgresSaver;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * Issue 13 items 5 to 7 over a real socket, state on PostgreSQL: a tool-calling graph whose messages are the
 * records takes role-style and LangChain-serialized input, keeps LangChain's JSON, streams each message once in
 * {@code messages} mode, and its checkpoint, task and debug events carry what the SDK's clients read.
 */
class MessagesServerIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(20);

  /** A state typed with the message records. */
  record Chat(List<Message> messages) {
  }

  private static EmbeddedPostgres postgres;
  private static PostgresSaver saver;
  private static FluxgraphServer server;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() throws Exception {
    postgres = EmbeddedPostgres.builder().start();
    saver = PostgresSaver.connect("r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/postgres");
    saver.setup().block(WAIT);
    var agent = StateGraph.ofMap()
        .reducer("messages", Reducers.messages())
        .addNode("agent", (state, context) -> {
          List<?> messages = (List<?>) state.get("messages");
          boolean answered = Message.of(messages.get(messages.size() - 1)) instanceof ToolMessage;
          return Mono.just(Map.of("messages", answered ? AiMessage.of("It is 18 C.")
              : AiMessage.of("", List.of(ToolCall.of("weather", Map.of("city", "Paris"), "call_1")))));
        })
        .addNode("tools", (state, context) -> Mono.just(Map.of("messages",
            ToolMessage.of("call_1", "18 C").withName("weather"))))
        .setEntryPoint("agent")
        .addConditionalEdges("agent", state -> {
          List<?> messages = (List<?>) state.get("messages");
          Message last = Message.of(messages.get(messages.size() - 1));
          return Mono.just(last instanceof AiMessage ai && !ai.toolCalls().isEmpty() ? "tools" : StateGraph.END);
        })
        .addEdge("tools", "agent")
        .compile(CompileOptions.defaults().withName("agent").withCheckpointer(saver));
    var typed = StateGraph.of(Chat.class)
        .reducer("messages", Reducers.messages())
        .addNode("reply", (state, context) -> Mono.just(Map.of("messages",
            AiMessage.of("you said " + state.messages().get(state.messages().size() - 1).text()))))
        .setEntryPoint("reply")
        .compile(CompileOptions.defaults().withName("typed").withCheckpointer(saver));
    server = FluxgraphServer.builder().discoverGraphs(false).port(0).checkpointer(saver)
        .graph("agent", agent.asEntrypoint()).graph("typed", typed.asEntrypoint()).build().start().block(WAIT);
  }

  @AfterAll
  static void stop() throws Exception {
    server.stop().block(WAIT);
    saver.close();
    postgres.close();
  }

  @Test
  void roleStyleInputBecomesLangChainsMessagesStreamedOnceAndSaved() throws Exception {
    String thread = post("/threads", "{}").get("thread_id").asText();
    List<String[]> events = sse("/threads/" + thread + "/runs/stream", "{\"assistant_id\":\"agent\","
        + "\"input\":{\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}]},"
        + "\"stream_mode\":[\"messages-tuple\",\"values\"]}");
    List<JsonNode> messages = data(events, "messages");
    assertEquals(List.of("ai", "tool", "ai"), messages.stream().map(m -> m.get(0).get("type").asText()).toList());
    assertEquals(List.of("agent", "tools", "agent"),
        messages.stream().map(m -> m.get(1).get("langgraph_node").asText()).toList());
    assertEquals("{\"name\":\"weather\",\"args\":{\"city\":\"Paris\"},\"id\":\"call_1\",\"type\":\"tool_call\"}",
        messages.get(0).get(0).get("tool_calls").get(0).toString());
    assertEquals("call_1", messages.get(1).get(0).get("tool_call_id").asText());

    JsonNode state = get("/threads/" + thread + "/state").get("values").get("messages");
    assertEquals(4, state.size(), state::toString);
    JsonNode human = state.get(0);
    assertEquals("human", human.get("type").asText());
    assertEquals("Weather in Paris?", human.get("content").asText());
    assertEquals(JSON.readTree("{}"), human.get("additional_kwargs"));
    assertTrue(human.get("id").isTextual());
    // the ids streamed are the ids kept, and the last values event is the saved state
    for (int i = 0; i < 3; i++) {
      assertEquals(state.get(i + 1).get("id"), messages.get(i).get(0).get("id"));
    }
    List<JsonNode> values = data(events, "values");
    assertEquals(state, values.get(values.size() - 1).get("messages"));
    // second channel: the checkpoint row holds LangChain's JSON
    String saved = TestSql.first(postgres, "SELECT channel_values -> '__state__' -> 'messages' -> 2 ->> 'type' "
        + "FROM fluxgraph_checkpoints WHERE thread_id = '" + thread + "' ORDER BY checkpoint_id DESC LIMIT 1");
    assertEquals("tool", saved);
  }

  @Test
  void aJavaScriptClientsSerializedMessagesAreReadIntoATypedState() throws Exception {
    String thread = post("/threads", "{}").get("thread_id").asText();
    // what JSON.stringify makes of `new HumanMessage("hello")` in @langchain/core
    JsonNode result = post("/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"typed\",\"input\":{\"messages\":"
        + "[{\"lc\":1,\"type\":\"constructor\",\"id\":[\"langchain_core\",\"messages\",\"HumanMessage\"],"
        + "\"kwargs\":{\"content\":\"hello\",\"additional_kwargs\":{},\"response_metadata\":{}}}]}}");
    JsonNode messages = result.get("messages");
    assertEquals(List.of("human", "ai"), List.of(messages.get(0).get("type").asText(),
        messages.get(1).get("type").asText()), result::toString);
    assertEquals("you said hello", messages.get(1).get("content").asText());
    assertTrue(messages.get(1).get("tool_calls").isArray());
    messages.forEach(message -> assertTrue(message.get("id").isTextual(), message::toString));
  }

  @Test
  void checkpointTaskAndDebugEventsCarryWhatClientsRead() throws Exception {
    String thread = post("/threads", "{}").get("thread_id").asText();
    List<String[]> events = sse("/threads/" + thread + "/runs/stream", "{\"assistant_id\":\"agent\","
        + "\"input\":{\"messages\":\"hi\"},\"stream_mode\":[\"checkpoints\",\"tasks\",\"debug\"]}");
    String runId = data(events, "metadata").get(0).get("run_id").asText();
    List<JsonNode> checkpoints = data(events, "checkpoints");
    assertEquals(JSON.readTree("{}"), checkpoints.get(0).get("values"), "the input checkpoint shows the empty state");
    JsonNode previous = null;
    for (JsonNode checkpoint : checkpoints) {
      assertEquals(thread, checkpoint.get("metadata").get("thread_id").asText(), checkpoint::toString);
      assertEquals(runId, checkpoint.get("metadata").get("run_id").asText(), checkpoint::toString);
      JsonNode address = checkpoint.get("checkpoint");
      assertEquals(thread, address.get("thread_id").asText());
      assertEquals("", address.get("checkpoint_ns").asText());
      assertEquals(checkpoint.get("config").get("configurable").get("checkpoint_id"), address.get("checkpoint_id"));
      assertTrue(address.has("checkpoint_map"));
      if (previous == null) {
        assertTrue(checkpoint.get("parent_checkpoint").isNull(), checkpoint::toString);
      } else {
        assertEquals(previous.get("checkpoint"), checkpoint.get("parent_checkpoint"));
      }
      previous = checkpoint;
    }
    List<JsonNode> starts = new ArrayList<>();
    data(events, "tasks").stream().filter(task -> task.has("triggers")).forEach(starts::add);
    assertFalse(starts.isEmpty());
    starts.forEach(task -> assertEquals("[\"branch:to:" + task.get("name").asText() + "\"]",
        task.get("triggers").toString()));
    List<JsonNode> debugCheckpoints = data(events, "debug").stream()
        .filter(event -> event.get("type").asText().equals("checkpoint")).map(event -> event.get("payload")).toList();
    assertEquals(checkpoints, debugCheckpoints);

    JsonNode history = post("/threads/" + thread + "/history", "{\"limit\":20}");
    JsonNode oldest = history.get(history.size() - 1);
    assertEquals(JSON.readTree("{}"), oldest.get("values"));
    assertEquals(thread, oldest.get("metadata").get("thread_id").asText());
    assertEquals("[\"__pregel_pull\",\"__start__\"]", oldest.get("tasks").get(0).get("path").toString());
    assertNotNull(history.get(history.size() - 2).get("tasks").get(0));
    assertEquals("[\"__pregel_pull\",\"agent\"]", history.get(history.size() - 2).get("tasks").get(0).get("path")
        .toString());
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

  private List<String[]> sse(String path, String body) throws Exception {
    return SseEvents.of(send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body))));
  }

  private JsonNode post(String path, String body) throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)));
    assertEquals(200, response.statusCode(), response.body());
    return JSON.readTree(response.body());
  }

  private JsonNode get(String path) throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(uri(path)).GET());
    assertEquals(200, response.statusCode(), response.body());
    return JSON.readTree(response.body());
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(request.timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
  }
}
