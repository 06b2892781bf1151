package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.Reducers;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.messages.AiMessage;
import dev.fluxgraph.messages.Message;
import dev.fluxgraph.store.InMemoryStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
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
        .withContext(Who.class)
        .addNode("read", (state, context) -> {
          Map<String, Object> seen = new LinkedHashMap<>();
          seen.put("configurable", context.config().configurable());
          seen.put("context", context.context(Map.class).orElse(Map.of()));
          return Mono.just(Map.of("seen", seen));
        })
        .setEntryPoint("read")
        .compile(CompileOptions.defaults().withName("reader").withCheckpointer(saver));
    var chat = StateGraph.of(Chat.class)
        .reducer("messages", Reducers.messages())
        .addNode("reply", (state, context) -> Mono.just(Map.of("count", 1)))
        .setEntryPoint("reply")
        .compile(CompileOptions.defaults().withName("chat").withCheckpointer(saver));
    var mapChat = StateGraph.ofMap()
        .reducer("messages", Reducers.messages())
        .reducer("notes", Reducers.append())
        .addNode("reply", (state, context) -> Mono.just(Map.of()))
        .setEntryPoint("reply")
        .compile(CompileOptions.defaults().withName("map_chat").withCheckpointer(saver));
    var pause = StateGraph.ofMap()
        .addNode("first", (state, context) -> Mono.just(Map.of("first", true)))
        .addNode("second", (state, context) -> Mono.just(Map.of("second", true)))
        .setEntryPoint("first").addEdge("first", "second")
        .compile(CompileOptions.defaults().withName("pause").withCheckpointer(saver).withInterruptBefore("second"));
    var talker = StateGraph.ofMap()
        .reducer("messages", Reducers.messages())
        .addNode("model", (state, context) -> Flux.just("Hel", "lo")
            .concatMap(token -> context.messages().write(Map.of("type", "AIMessageChunk", "id", "said-1",
                "content", token)))
            .then(Mono.just(Map.of("messages", List.of(AiMessage.of("Hello").withId("said-1"))))))
        .setEntryPoint("model")
        .compile(CompileOptions.defaults().withName("talker").withCheckpointer(saver));
    var notes = StateGraph.ofMap()
        .reducer("items", Reducers.append(), List.of())
        .addNode("note", (state, context) -> Mono.just(Map.of("items", List.of("n"))))
        .setEntryPoint("note")
        .compile(CompileOptions.defaults().withName("notes").withCheckpointer(saver));
    var stepper = StateGraph.ofMap() // a node named as the graph's id, as the reference's agent graph has
        .addNode("stepper", (state, context) -> Mono.just(Map.of("s", 1)))
        .addNode("after", (state, context) -> Mono.just(Map.of("a", 1)))
        .setEntryPoint("stepper").addEdge("stepper", "after")
        .compile(CompileOptions.defaults().withName("stepper").withCheckpointer(saver));
    server = FluxgraphServer.builder().discoverGraphs(false).port(0).checkpointer(saver).store(new InMemoryStore())
        .graph("pause", pause.asEntrypoint())
        .graph("notes", notes.asEntrypoint())
        .graph("stepper", stepper.asEntrypoint())
        .graph("talker", talker.asEntrypoint())
        .graph("reader", reader.asEntrypoint())
        .graph("chat", chat.asEntrypoint())
        .graph("map_chat", mapChat.asEntrypoint())
        .graphConfig("reader", Map.of("configurable", Map.of("model", "small", "k", 1), "context",
            Map.of("who", "system")))
        .truncateEndpoint(true)
        .build().start().block(WAIT);
    api = new ApiClient(server.port());
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.stop().block(WAIT);
    }
  }

  /** The reader graph's declared run context. */
  record Who(@Nullable String who, int level) {
  }

  /** A state typed with a messages key. */
  record Chat(@Nullable List<Message> messages, @Nullable Integer count) {
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
    assertEquals(JSON.readTree("{\"model\":\"small\",\"k\":2,\"user_id\":\"u-1\"}"), configurable);
  }

  /**
   * A graph's own assistant carries the server's config for that graph (the reference's per-graph config), and its
   * runs get it as defaults under their own values; a config for a graph not served is refused at build.
   */
  @Test
  void graphConfigIsTheGraphsAssistantsDefaults() throws Exception {
    JsonNode system = api.post("/assistants/search", "{\"graph_id\":\"reader\",\"metadata\":{\"created_by\":"
        + "\"system\"}}").json();
    assertEquals(1, system.size(), system.toString());
    assertEquals(JSON.readTree("{\"configurable\":{\"model\":\"small\",\"k\":1}}"), system.get(0).get("config"));
    assertEquals(JSON.readTree("{\"who\":\"system\"}"), system.get(0).get("context"));
    JsonNode seen = api.post("/runs/wait", "{\"assistant_id\":\"reader\",\"input\":{},\"config\":"
        + "{\"configurable\":{\"k\":3}}}").json().path("seen");
    assertEquals(JSON.readTree("{\"model\":\"small\",\"k\":3}"), seen.get("configurable"));
    assertEquals(JSON.readTree("{\"who\":\"system\"}"), seen.get("context"));
    FluxgraphServer.Builder wrong = FluxgraphServer.builder().discoverGraphs(false).port(0)
        .graph("reader", StateGraph.ofMap().addNode("n", (state, context) -> Mono.just(Map.of()))
            .setEntryPoint("n").compile().asEntrypoint())
        .graphConfig("writer", Map.of());
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, wrong::build);
    assertTrue(refused.getMessage().contains("'writer'"), refused.getMessage());
  }

  /**
   * A key whose reducer is {@code Reducers.messages()} is marked {@code "langgraph_type": "messages"} in the schemas
   * that have it (a record state's three), and listed so in a map state's state schema; other keys are not marked.
   */
  @Test
  void messagesKeysAreMarkedInTheSchemas() {
    JsonNode typed = api.get("/assistants/chat/schemas").json();
    for (String name : List.of("input_schema", "output_schema", "state_schema")) {
      assertEquals("messages", typed.path(name).path("properties").path("messages").path("langgraph_type").asText(),
          name + ": " + typed.path(name));
      assertFalse(typed.path(name).path("properties").path("count").has("langgraph_type"), typed.toString());
    }
    JsonNode map = api.get("/assistants/map_chat/schemas").json().path("state_schema").path("properties");
    assertEquals("messages", map.path("messages").path("langgraph_type").asText(), map.toString());
    assertEquals("array", map.path("messages").path("type").asText(), map.toString());
    assertFalse(map.has("notes"), map.toString());
  }

  /**
   * A graph that declares its run context's type ({@code StateGraph.withContext}) has a {@code context_schema},
   * generated from it; one that declares none has none (and no {@code config_schema}: Fluxgraph declares no type for
   * {@code configurable}).
   */
  @Test
  void aDeclaredContextTypeIsTheContextSchema() {
    JsonNode schemas = api.get("/assistants/reader/schemas").json();
    JsonNode context = schemas.path("context_schema");
    assertEquals("object", context.path("type").asText(), schemas.toString());
    assertEquals("string", context.at("/properties/who/type").asText(), context.toString());
    assertEquals("integer", context.at("/properties/level/type").asText(), context.toString());
    assertFalse(schemas.has("config_schema"), schemas.toString());
    assertFalse(api.get("/assistants/chat/schemas").json().has("context_schema"));
  }

  /** A copied thread's checkpoints name the copy in their metadata's {@code thread_id}, as the reference's copy. */
  @Test
  void copyNamesTheCopyInItsCheckpoints() {
    String original = thread();
    assertEquals(200, api.post("/threads/" + original + "/runs/wait", "{\"assistant_id\":\"reader\",\"input\":{}}")
        .status());
    String copy = api.post("/threads/" + original + "/copy", "{}").json().get("thread_id").asText();
    JsonNode history = api.post("/threads/" + copy + "/history", "{}").json();
    assertTrue(history.size() > 1, history.toString());
    for (JsonNode state : history) {
      assertEquals(copy, state.path("metadata").path("thread_id").asText(), state.toString());
    }
    for (JsonNode state : api.post("/threads/" + original + "/history", "{}").json()) {
      assertEquals(original, state.path("metadata").path("thread_id").asText(), state.toString());
    }
  }

  /**
   * After {@code POST /threads/{id}/state} the thread's status follows its new state: still {@code interrupted} while
   * a node is next (the reference leaves a paused thread paused), {@code idle} once nothing is.
   */
  @Test
  void updatingAPausedThreadKeepsItInterrupted() {
    String thread = thread();
    assertEquals(200, api.post("/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"pause\",\"input\":{}}")
        .status());
    assertEquals("interrupted", api.get("/threads/" + thread).json().get("status").asText());
    ApiClient.Reply update = api.post("/threads/" + thread + "/state", "{\"values\":{\"note\":1}}");
    assertEquals(200, update.status(), update.body());
    assertEquals("interrupted", api.get("/threads/" + thread).json().get("status").asText());
    assertEquals("second", api.get("/threads/" + thread + "/state").json().get("next").get(0).asText());
    ApiClient.Reply asSecond = api.post("/threads/" + thread + "/state",
        "{\"values\":{\"second\":false},\"as_node\":\"second\"}");
    assertEquals(200, asSecond.status(), asSecond.body());
    assertEquals("idle", api.get("/threads/" + thread).json().get("status").asText());
  }

  /**
   * In {@code messages} mode with {@code values}, a values event's {@code messages/complete} comes right after it (the
   * reference derives it from that event), so a run ends with it.
   */
  @Test
  void messagesCompleteFollowsItsValues() throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + server.port() + "/runs/stream"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"assistant_id\":\"talker\",\"input\":{\"messages\":"
            + "[{\"type\":\"human\",\"content\":\"hi\",\"id\":\"h-1\"}]},\"stream_mode\":[\"messages\","
            + "\"values\"]}"))
        .build(), HttpResponse.BodyHandlers.ofString());
    List<String> names = SseEvents.of(response).stream().map(event -> event[0]).toList();
    assertEquals(List.of("metadata", "values", "messages/complete", "messages/metadata", "messages/partial",
        "messages/partial", "values", "messages/complete"), names);
  }

  /**
   * {@code POST /internal/truncate} (served when enabled) deletes the threads, the assistants created through the
   * API and the store's items, keeping the graphs' own assistants; {@code runs} alone is refused; a server without
   * it answers 404.
   */
  @Test
  void truncateDeletesWhatItIsAskedTo() {
    String thread = thread();
    assertEquals(200, api.post("/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"reader\",\"input\":{}}")
        .status());
    String created = api.post("/assistants", "{\"graph_id\":\"reader\",\"name\":\"mine\"}").json()
        .get("assistant_id").asText();
    assertEquals(204, api.send("PUT", "/store/items", "{\"namespace\":[\"a\",\"b\"],\"key\":\"k\","
        + "\"value\":{\"v\":1}}").status());
    assertEquals(422, api.post("/internal/truncate", "{\"runs\":true}").status());
    assertEquals(422, api.post("/internal/truncate", "{\"threads\":\"yes\"}").status());
    assertEquals(422, api.post("/internal/truncate", "{\"everything\":true}").status());
    ApiClient.Reply store = api.post("/internal/truncate", "{\"store\":true}");
    assertEquals(200, store.status(), store.body());
    assertEquals(0, api.post("/store/items/search", "{\"namespace_prefix\":[\"a\"]}").json().get("items").size());
    assertEquals(200, api.get("/threads/" + thread).status()); // not asked for
    ApiClient.Reply all = api.post("/internal/truncate",
        "{\"threads\":true,\"runs\":true,\"checkpointer\":true,\"assistants\":true}");
    assertEquals(200, all.status(), all.body());
    assertEquals(true, all.json().get("ok").asBoolean());
    assertEquals(404, api.get("/threads/" + thread).status());
    assertEquals(0, api.post("/threads/search", "{}").json().size());
    assertEquals(404, api.get("/assistants/" + created).status());
    assertEquals(200, api.get("/assistants/reader").status());
    FluxgraphServer plain = FluxgraphServer.builder().discoverGraphs(false).port(0)
        .graph("reader", StateGraph.ofMap().addNode("n", (state, context) -> Mono.just(Map.of()))
            .setEntryPoint("n").compile().asEntrypoint())
        .build().start().block(WAIT);
    try {
      assertEquals(404, new ApiClient(plain.port()).post("/internal/truncate", "{\"threads\":true}").status());
    } finally {
      plain.stop().block(WAIT);
    }
  }

  private static List<String[]> stream(String path, String body) throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + server.port() + path))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), response.body());
    return SseEvents.of(response);
  }

  /**
   * A key's initial value shows from the thread's first checkpoint on, and a task's start event carries
   * {@code interrupts: []} as its end does, in {@code tasks} and in {@code debug}.
   */
  @Test
  void initialValuesAndTaskStartsOverTheWire() throws Exception {
    List<String[]> events = stream("/threads/" + thread() + "/runs/stream",
        "{\"assistant_id\":\"notes\",\"input\":{\"items\":[\"a\"]},\"stream_mode\":[\"tasks\",\"checkpoints\","
            + "\"debug\"]}");
    List<JsonNode> checkpoints = new java.util.ArrayList<>();
    int starts = 0;
    for (String[] event : events) {
      JsonNode data = JSON.readTree(event[2]);
      if (event[0].equals("checkpoints")) {
        checkpoints.add(data);
      } else if (event[0].equals("tasks") && data.has("triggers")) {
        starts++;
        assertEquals(JSON.readTree("[]"), data.get("interrupts"), data.toString());
      } else if (event[0].equals("debug") && data.path("type").asText().equals("task")) {
        assertEquals(JSON.readTree("[]"), data.path("payload").get("interrupts"), data.toString());
      }
    }
    assertEquals(1, starts, events.stream().map(e -> e[0]).toList().toString());
    assertEquals(JSON.readTree("{\"items\":[]}"), checkpoints.get(0).get("values"), checkpoints.toString());
    assertEquals(JSON.readTree("{\"items\":[\"a\"]}"), checkpoints.get(1).get("values"));
    assertEquals(JSON.readTree("{\"items\":[\"a\",\"n\"]}"), checkpoints.get(2).get("values"));
  }

  /**
   * {@code threads.create}'s {@code supersteps} take the reference's input step: {@code as_node: "__input__"} saves
   * the input checkpoint (state unchanged, next {@code __start__}), {@code "__start__"} applies the input.
   */
  @Test
  void superstepsTakeTheInputStep() {
    ApiClient.Reply created = api.post("/threads", "{\"metadata\":{\"graph_id\":\"notes\"},\"supersteps\":["
        + "{\"updates\":[{\"as_node\":\"__input__\",\"values\":{\"items\":[\"a\"]}}]},"
        + "{\"updates\":[{\"as_node\":\"__start__\",\"values\":{\"items\":[\"a\"]}}]}]}");
    assertEquals(200, created.status(), created.body());
    JsonNode history = api.post("/threads/" + created.json().get("thread_id").asText() + "/history", "{}").json();
    assertEquals(2, history.size(), history.toString());
    assertEquals("[\"__start__\"]", history.get(1).get("next").toString());
    assertEquals("{\"items\":[]}", history.get(1).get("values").toString());
    assertEquals("input", history.get(1).path("metadata").path("source").asText());
    assertEquals("[\"note\"]", history.get(0).get("next").toString());
    assertEquals("{\"items\":[\"a\"]}", history.get(0).get("values").toString());
  }

  /** An update's {@code as_node} naming the graph's id is the node of that name when the graph has one. */
  @Test
  void asNodeNamingAGraphsOwnNodeIsThatNode() {
    ApiClient.Reply created = api.post("/threads", "{\"metadata\":{\"graph_id\":\"stepper\"},\"supersteps\":["
        + "{\"updates\":[{\"as_node\":\"stepper\",\"values\":{\"s\":2}}]}]}");
    assertEquals(200, created.status(), created.body());
    String thread = created.json().get("thread_id").asText();
    assertEquals("[\"after\"]", api.get("/threads/" + thread + "/state").json().get("next").toString());
    ApiClient.Reply update = api.post("/threads/" + thread + "/state", "{\"values\":{\"s\":3},\"as_node\":"
        + "\"stepper\"}");
    assertEquals(200, update.status(), update.body());
    JsonNode state = api.get("/threads/" + thread + "/state").json();
    assertEquals("[\"after\"]", state.get("next").toString());
    assertEquals(3, state.path("values").path("s").asInt(), state.toString());
  }

  /** A run continuing a paused thread's checkpoint shows that checkpoint first in {@code debug}. */
  @Test
  void aContinuedRunShowsItsCheckpointFirst() throws Exception {
    String thread = thread();
    stream("/threads/" + thread + "/runs/stream", "{\"assistant_id\":\"pause\",\"input\":{},\"stream_mode\":"
        + "\"debug\"}");
    JsonNode latest = api.get("/threads/" + thread + "/state").json().get("checkpoint");
    List<String> ids = new java.util.ArrayList<>();
    for (String[] event : stream("/threads/" + thread + "/runs/stream", "{\"assistant_id\":\"pause\","
        + "\"stream_mode\":\"debug\",\"checkpoint\":" + latest + "}")) {
      JsonNode data = JSON.readTree(event[2]);
      if (event[0].equals("debug") && data.path("type").asText().equals("checkpoint")) {
        ids.add(data.at("/payload/checkpoint/checkpoint_id").asText());
      }
    }
    assertEquals(2, ids.size(), ids.toString());
    assertEquals(latest.get("checkpoint_id").asText(), ids.get(0));
  }
}
