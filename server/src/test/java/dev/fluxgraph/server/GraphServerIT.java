package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.Reducers;
import dev.fluxgraph.graph.StateGraph;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

/** A StateGraph served over a real socket: per-node updates, next nodes, breakpoints, update-state as a node. */
class GraphServerIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static FluxgraphServer server;
  private static HttpClient http;

  @BeforeAll
  static void start() {
    var graph = StateGraph.ofMap()
        .addNode("draft", (state, context) -> Mono.just(Map.of("text", "draft about " + state.get("topic"))))
        .addNode("review", (state, context) -> context.interrupt("approve?", String.class)
            .map(answer -> Map.of("verdict", answer)))
        .addNode("publish", (state, context) -> Mono.just(Map.of("published", state.get("text"))))
        .addEdge(StateGraph.START, "draft")
        .addEdge("draft", "review")
        .addEdge("review", "publish")
        .compile(CompileOptions.defaults().withName("essay").withCheckpointer(new InMemorySaver())
            .withInterruptBefore("publish"));
    var reviewer = StateGraph.ofMap()
        .addNode("draft", (state, context) -> Mono.just(Map.of("text", "draft about " + state.get("topic"))))
        .addNode("review", (state, context) -> context.interrupt("approve " + state.get("text") + "?", String.class)
            .map(answer -> Map.of("verdict", answer)))
        .addEdge(StateGraph.START, "draft")
        .addEdge("draft", "review")
        .compile(CompileOptions.defaults().withName("reviewer"));
    var desk = StateGraph.ofMap()
        .addNode("write", reviewer)
        .addNode("publish", (state, context) -> Mono.just(Map.of("published", state.get("text"))))
        .addEdge(StateGraph.START, "write")
        .addEdge("write", "publish")
        .compile(CompileOptions.defaults().withName("desk").withCheckpointer(new InMemorySaver()));
    var gate = StateGraph.ofMap()
        .reducer("notes", Reducers.append())
        .addNode("draft", (state, context) -> Mono.just(Map.<String, Object>of("notes", "drafted")))
        .addNode("publish", (state, context) -> Mono.just(Map.<String, Object>of("notes", "published")))
        .addEdge(StateGraph.START, "draft")
        .addEdge("draft", "publish")
        .compile(CompileOptions.defaults().withName("gate").withCheckpointer(new InMemorySaver())
            .withInterruptBefore("publish"));
    server = FluxgraphServer.builder().graph("essay", graph.asEntrypoint()).graph("desk", desk.asEntrypoint())
        .graph("gate", gate.asEntrypoint())
        .port(0).discoverGraphs(false).build()
        .start().block(Duration.ofSeconds(10));
    http = HttpClient.create().baseUrl("http://127.0.0.1:" + server.port());
  }

  @AfterAll
  static void stop() {
    server.stop().block(Duration.ofSeconds(10));
  }

  private static JsonNode send(String method, String path, String body, int expectedStatus) {
    return http.request(io.netty.handler.codec.http.HttpMethod.valueOf(method)).uri(path)
        .send(ByteBufFlux.fromString(Mono.just(body)))
        .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8).defaultIfEmpty("")
            .map(text -> {
              assertEquals(expectedStatus, response.status().code(), text);
              try {
                return text.startsWith("event:") || text.isEmpty() ? JSON.createObjectNode().put("sse", text)
                    : JSON.readTree(text);
              } catch (Exception e) {
                throw new AssertionError(text, e);
              }
            }))
        .block(Duration.ofSeconds(10));
  }

  @Test
  void aRunStoppedAtABreakpointLeavesItsThreadInterruptedWhateverItStreamed() {
    for (String[] run : List.of(new String[] {"/runs/wait", ""},
        new String[] {"/runs/stream", ",\"stream_mode\":[\"values\"]"},
        new String[] {"/runs/stream", ",\"stream_mode\":[\"updates\"]"})) {
      String what = run[0] + run[1];
      String threadId = send("POST", "/threads", "{}", 200).get("thread_id").asText();
      send("POST", "/threads/" + threadId + run[0], "{\"assistant_id\":\"gate\",\"input\":{}" + run[1] + "}", 200);
      JsonNode state = send("GET", "/threads/" + threadId + "/state", "", 200);
      assertEquals("publish", state.get("next").get(0).asText(), what + ": " + state);
      assertEquals("interrupted", send("GET", "/threads/" + threadId, "", 200).get("status").asText(), what);

      JsonNode proceeded = send("POST", "/threads/" + threadId + "/runs/wait", "{\"assistant_id\":\"gate\"}", 200);
      assertEquals("[\"drafted\",\"published\"]", proceeded.get("notes").toString(), what);
      assertEquals("idle", send("GET", "/threads/" + threadId, "", 200).get("status").asText(), what);
    }
  }

  @Test
  void aGraphPausesShowsItsNextNodesAndContinuesAfterUpdateState() {
    String thread = send("POST", "/threads", "{}", 200).get("thread_id").asText();
    String first = send("POST", "/threads/" + thread + "/runs/stream",
        "{\"assistant_id\":\"essay\",\"input\":{\"topic\":\"bees\"},\"stream_mode\":[\"updates\"]}", 200)
        .get("sse").asText();
    assertTrue(first.contains("data: {\"draft\":{\"text\":\"draft about bees\"}}"), first);
    assertTrue(first.contains("\"__interrupt__\""), first);
    JsonNode state = send("GET", "/threads/" + thread + "/state", "", 200);
    assertEquals("review", state.get("next").get(0).asText());
    assertEquals("approve?", state.get("tasks").get(0).get("interrupts").get(0).get("value").asText());

    JsonNode resumed = send("POST", "/threads/" + thread + "/runs/wait",
        "{\"assistant_id\":\"essay\",\"command\":{\"resume\":\"yes\"}}", 200);
    // paused at the breakpoint before publish: the run's last values chunk, as the reference's join answers
    assertEquals("{\"__interrupt__\":[]}", resumed.toString());
    JsonNode beforePublish = send("GET", "/threads/" + thread + "/state", "", 200);
    assertEquals("yes", beforePublish.get("values").get("verdict").asText());
    assertEquals("publish", beforePublish.get("next").get(0).asText());

    send("POST", "/threads/" + thread + "/state", "{\"values\":{\"text\":\"edited\"},\"as_node\":\"review\"}", 200);
    JsonNode edited = send("GET", "/threads/" + thread + "/state", "", 200);
    assertEquals("edited", edited.get("values").get("text").asText());
    assertEquals("publish", edited.get("next").get(0).asText());
    JsonNode done = send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"essay\",\"input\":null}",
        200);
    assertEquals("edited", done.get("published").asText());
    assertEquals(0, send("GET", "/threads/" + thread + "/state", "", 200).get("next").size());
  }

  @Test
  void aCommandWithUpdateAndGotoSteersTheGraph() {
    String thread = send("POST", "/threads", "{}", 200).get("thread_id").asText();
    send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"essay\",\"input\":{\"topic\":\"owls\"}}",
        200);
    JsonNode steered = send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"essay\","
        + "\"command\":{\"resume\":\"fine\",\"update\":{\"text\":\"rewritten\"}}}", 200);
    assertEquals("{\"__interrupt__\":[]}", steered.toString(), "paused at the breakpoint before publish");
    JsonNode beforePublish = send("GET", "/threads/" + thread + "/state", "", 200);
    assertEquals("fine", beforePublish.get("values").get("verdict").asText());
    assertEquals("publish", beforePublish.get("next").get(0).asText());
    JsonNode published = send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"essay\"}", 200);
    assertEquals("rewritten", published.get("published").asText());
    JsonNode again = send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"essay\","
        + "\"command\":{\"goto\":\"publish\",\"update\":{\"text\":\"v2\"}}}", 200);
    assertEquals("v2", again.get("published").asText());
    JsonNode refused = send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"essay\","
        + "\"command\":{\"goto\":\"nowhere\"}}", 422);
    assertTrue(refused.get("detail").asText().contains("'nowhere'"), refused.toString());
    send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"essay\",\"command\":{\"goto\":[1]}}", 422);
    send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"essay\",\"command\":\"go\"}", 422);
  }

  @Test
  void aPausedSubgraphsStateIsShownWithSubgraphsTrue() {
    String thread = send("POST", "/threads", "{}", 200).get("thread_id").asText();
    send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"desk\",\"input\":{\"topic\":\"otters\"}}",
        200);
    JsonNode flat = send("GET", "/threads/" + thread + "/state", "", 200);
    JsonNode task = flat.get("tasks").get(0);
    assertEquals("write", task.get("name").asText());
    assertEquals("[\"__pregel_pull\",\"write\"]", task.get("path").toString());
    assertEquals("approve draft about otters?", task.get("interrupts").get(0).get("value").asText());
    assertTrue(task.get("state").isNull(), task.toString());
    JsonNode checkpoint = task.get("checkpoint");
    String namespace = checkpoint.get("checkpoint_ns").asText();
    assertTrue(namespace.startsWith("write:"), checkpoint.toString());
    assertEquals(thread, checkpoint.get("thread_id").asText());
    assertFalse(checkpoint.has("checkpoint_id"), "the reference's task config names the namespace only: "
        + checkpoint);

    JsonNode deep = send("GET", "/threads/" + thread + "/state?subgraphs=true", "", 200);
    JsonNode nested = deep.get("tasks").get(0).get("state");
    assertEquals("{\"topic\":\"otters\",\"text\":\"draft about otters\"}", nested.get("values").toString());
    assertEquals("[\"review\"]", nested.get("next").toString());
    assertEquals("review", nested.get("tasks").get(0).get("name").asText());
    assertEquals(task.get("interrupts"), nested.get("tasks").get(0).get("interrupts"));
    assertFalse(nested.has("interrupts"), "a task's nested state has no interrupts key, as the reference's: " + nested);
    assertEquals(namespace, nested.get("checkpoint").get("checkpoint_ns").asText());
    assertEquals(flat.get("checkpoint").get("checkpoint_id"), nested.get("metadata").get("parents").get(""));

    // the nested state by its checkpoint (what the JS client's getState(thread, checkpoint) sends)
    JsonNode addressed = send("POST", "/threads/" + thread + "/state/checkpoint", "{\"checkpoint\":"
        + checkpoint + ",\"subgraphs\":true}", 200);
    assertEquals(nested.get("values"), addressed.get("values"));
    assertEquals(nested.get("tasks"), addressed.get("tasks"));
    assertEquals(404, http.post().uri("/threads/" + thread + "/state/checkpoint")
        .send(ByteBufFlux.fromString(Mono.just("{\"checkpoint\":{\"checkpoint_id\":"
            + flat.get("checkpoint").get("checkpoint_id") + ",\"checkpoint_ns\":\"write:nope\"}}")))
        .response().block(Duration.ofSeconds(10)).status().code());
    JsonNode history = send("POST", "/threads/" + thread + "/history", "{\"limit\":1,\"subgraphs\":true}", 200);
    assertEquals(nested.get("values"), history.get(0).get("tasks").get(0).get("state").get("values"));
    assertTrue(send("POST", "/threads/" + thread + "/history", "{\"limit\":1}", 200).get(0).get("tasks").get(0)
        .get("state").isNull());
    JsonNode nestedHistory = send("POST", "/threads/" + thread + "/history", "{\"checkpoint\":{\"checkpoint_ns\":\""
        + namespace + "\"}}", 200);
    // each state the subgraph recorded, newest first, then its input
    assertEquals(3, nestedHistory.size(), nestedHistory.toString());
    assertEquals(nested.get("values"), nestedHistory.get(0).get("values"));
    assertEquals("[\"draft\"]", nestedHistory.get(1).get("next").toString());
    assertEquals("[\"__start__\"]", nestedHistory.get(2).get("next").toString());
    // each has a checkpoint of its own, names the one before it as parent, and can be read and listed from
    JsonNode older = nestedHistory.get(1).get("checkpoint");
    assertEquals(older, nestedHistory.get(0).get("parent_checkpoint"));
    assertEquals(nestedHistory.get(2).get("checkpoint"), nestedHistory.get(1).get("parent_checkpoint"));
    assertTrue(nestedHistory.get(2).get("parent_checkpoint").isNull(), nestedHistory.toString());
    assertEquals(nestedHistory.get(1).get("values"), send("POST", "/threads/" + thread + "/state/checkpoint",
        "{\"checkpoint\":" + older + "}", 200).get("values"));
    JsonNode fromOlder = send("POST", "/threads/" + thread + "/history", "{\"checkpoint\":" + older + "}", 200);
    assertEquals(List.of(older, nestedHistory.get(2).get("checkpoint")),
        List.of(fromOlder.get(0).get("checkpoint"), fromOlder.get(1).get("checkpoint")), fromOlder.toString());
    assertEquals(2, fromOlder.size(), fromOlder.toString());
    // its states are writes of the thread's checkpoint, with no metadata of their own to patch: refused, not ignored
    JsonNode unpatchable = send("PATCH", "/threads/" + thread + "/state", "{\"metadata\":{\"tag\":\"x\"},"
        + "\"checkpoint\":" + older + "}", 422);
    assertTrue(unpatchable.get("detail").asText().contains("cannot be patched"), unpatchable.toString());
    send("PATCH", "/threads/" + thread + "/state", "{\"metadata\":{\"tag\":\"x\"},\"checkpoint\":{\"checkpoint_ns\":"
        + "\"write:nope\"}}", 404);
    send("PATCH", "/threads/" + thread + "/state", "{\"metadata\":{\"tag\":\"x\"},\"checkpoint\":{\"checkpoint_ns\":\""
        + namespace + "\",\"checkpoint_id\":\"" + flat.get("checkpoint").get("checkpoint_id").asText() + "#9\"}}",
        404);
    assertFalse(send("GET", "/threads/" + thread + "/state", "", 200).get("metadata").has("tag"));

    JsonNode refused = send("POST", "/threads/" + thread + "/state", "{\"values\":{\"text\":\"edited\"},"
        + "\"checkpoint\":" + checkpoint + "}", 422);
    assertTrue(refused.get("detail").asText().contains(namespace), refused.toString());
    send("GET", "/threads/" + thread + "/state?subgraphs=maybe", "", 422);
    send("POST", "/threads/" + thread + "/history", "{\"subgraphs\":\"yes\"}", 422);

    JsonNode done = send("POST", "/threads/" + thread + "/runs/wait",
        "{\"assistant_id\":\"desk\",\"command\":{\"resume\":\"yes\"}}", 200);
    assertEquals("draft about otters", done.get("published").asText());
    assertEquals(0, send("GET", "/threads/" + thread + "/state?subgraphs=true", "", 200).get("tasks").size());
  }

  @Test
  void updateStateAsAnUnknownNodeIsAClientError() {
    String thread = send("POST", "/threads", "{}", 200).get("thread_id").asText();
    send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"essay\",\"input\":{\"topic\":\"x\"}}", 200);
    JsonNode error = send("POST", "/threads/" + thread + "/state", "{\"values\":{\"text\":\"e\"},\"as_node\":\"nope\"}",
        422);
    assertTrue(error.get("detail").asText().contains("'nope' is not a node"), error.toString());
  }
}
