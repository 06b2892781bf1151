package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.StateGraph;
import io.netty.handler.codec.http.HttpMethod;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

/**
 * Issue 13 item 7 over a socket: a ThreadState task whose node is a subgraph carries {@code checkpoint:
 * {thread_id, checkpoint_ns}} before the subgraph has run (as the reference servers answer), the checkpoint events'
 * tasks carry it as {@code state: {configurable: ...}}, and it is the namespace the subgraph then records under. And
 * what RemoteGraph's {@code getState} sends: {@code POST .../state/checkpoint} with a checkpoint without an id.
 */
class SubgraphAddressServerIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static FluxgraphServer server;
  private static HttpClient http;

  @BeforeAll
  static void start() {
    var reviewer = StateGraph.ofMap()
        .addNode("draft", (state, context) -> Mono.just(Map.of("text", "draft about " + state.get("topic"))))
        .addNode("review", (state, context) -> context.interrupt("approve " + state.get("text") + "?", String.class)
            .map(answer -> Map.of("verdict", answer)))
        .addEdge(StateGraph.START, "draft")
        .addEdge("draft", "review")
        .compile(CompileOptions.defaults().withName("reviewer"));
    var desk = StateGraph.ofMap()
        .addNode("plan", (state, context) -> Mono.just(Map.of("planned", true)))
        .addNode("write", reviewer)
        .addEdge(StateGraph.START, "plan")
        .addEdge("plan", "write")
        .compile(CompileOptions.defaults().withName("desk").withCheckpointer(new InMemorySaver()));
    server = FluxgraphServer.builder().graph("desk", desk.asEntrypoint()).port(0).discoverGraphs(false).build()
        .start().block(WAIT);
    http = HttpClient.create().baseUrl("http://127.0.0.1:" + server.port());
  }

  @AfterAll
  static void stop() {
    server.stop().block(WAIT);
  }

  private static String call(String method, String path, String body, int expectedStatus) {
    return http.request(HttpMethod.valueOf(method)).uri(path)
        .send(ByteBufFlux.fromString(Mono.just(body)))
        .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8).defaultIfEmpty("")
            .map(text -> {
              assertEquals(expectedStatus, response.status().code(), text);
              return text;
            }))
        .block(WAIT);
  }

  private static JsonNode send(String method, String path, String body, int expectedStatus) {
    return parse(call(method, path, body, expectedStatus));
  }

  private static JsonNode parse(String text) {
    try {
      return JSON.readTree(text);
    } catch (java.io.IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The data of the SSE events named {@code event}. */
  private static List<JsonNode> events(String body, String event) {
    List<JsonNode> found = new ArrayList<>();
    for (String block : body.replace("\r\n", "\n").split("\n\n")) {
      String name = null;
      String data = null;
      for (String line : block.split("\n")) {
        if (line.startsWith("event: ")) {
          name = line.substring(7);
        } else if (line.startsWith("data: ")) {
          data = line.substring(6);
        }
      }
      if (event.equals(name) && data != null) {
        found.add(parse(data));
      }
    }
    return found;
  }

  @Test
  void aSubgraphTaskThatHasNotRunIsAddressedByItsNamespace() {
    String thread = send("POST", "/threads", "{}", 200).get("thread_id").asText();
    send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"desk\",\"input\":{\"topic\":\"otters\"},"
        + "\"interrupt_before\":[\"write\"]}", 200);

    JsonNode state = send("GET", "/threads/" + thread + "/state", "", 200);
    assertEquals("[\"write\"]", state.get("next").toString());
    JsonNode task = state.get("tasks").get(0);
    JsonNode checkpoint = task.get("checkpoint");
    assertEquals(thread, checkpoint.get("thread_id").asText(), task.toString());
    String namespace = checkpoint.get("checkpoint_ns").asText();
    assertTrue(namespace.startsWith("write:") && namespace.length() > 6, namespace);
    assertFalse(checkpoint.has("checkpoint_id"), "the reference's config has no checkpoint id yet: " + checkpoint);
    assertTrue(task.get("state").isNull(), task.toString());
    JsonNode deep = send("GET", "/threads/" + thread + "/state?subgraphs=true", "", 200).get("tasks").get(0);
    assertEquals(checkpoint, deep.get("checkpoint"));
    assertTrue(deep.get("state").isNull(), "nothing of the subgraph to show yet: " + deep);
    JsonNode history = send("POST", "/threads/" + thread + "/history", "{}", 200);
    assertEquals(checkpoint, history.get(0).get("tasks").get(0).get("checkpoint"));
    for (JsonNode earlier : history) {
      for (JsonNode other : earlier.get("tasks")) {
        if (!other.get("name").asText().equals("write")) {
          assertTrue(other.get("checkpoint").isNull(), "a plain node addresses nothing: " + other);
        }
      }
    }

    // the subgraph then runs and pauses under that namespace
    send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"desk\"}", 200);
    JsonNode waiting = send("GET", "/threads/" + thread + "/state", "", 200).get("tasks").get(0);
    assertEquals(checkpoint, waiting.get("checkpoint"), "still the namespace only, as the reference's: " + waiting);
    JsonNode paused = send("GET", "/threads/" + thread + "/state?subgraphs=true", "", 200).get("tasks").get(0);
    assertTrue(paused.get("checkpoint").isNull(), "the reference's task shows the state instead: " + paused);
    assertEquals(namespace, paused.get("state").get("checkpoint").get("checkpoint_ns").asText());
    assertTrue(paused.get("state").get("checkpoint").get("checkpoint_id").isTextual(), paused.toString());
    assertEquals("[\"review\"]", paused.get("state").get("next").toString());
  }

  @Test
  void checkpointEventsAddressTheSubgraphItsChunksThenCome() {
    String thread = send("POST", "/threads", "{}", 200).get("thread_id").asText();
    String body = call("POST", "/threads/" + thread + "/runs/stream", "{\"assistant_id\":\"desk\","
        + "\"input\":{\"topic\":\"owls\"},\"stream_mode\":[\"checkpoints\",\"debug\",\"updates\"],"
        + "\"stream_subgraphs\":true}", 200);

    String announced = null;
    for (JsonNode event : events(body, "checkpoints")) {
      for (JsonNode task : event.get("tasks")) {
        assertTrue(task.has("state"), task.toString());
        if (task.get("name").asText().equals("write")) {
          JsonNode configurable = task.get("state").get("configurable");
          assertEquals(thread, configurable.get("thread_id").asText(), task.toString());
          assertFalse(configurable.has("checkpoint_id"), task.toString());
          announced = configurable.get("checkpoint_ns").asText();
        } else {
          assertTrue(task.get("state").isNull(), task.toString());
        }
      }
    }
    assertNotNull(announced, body);
    assertFalse(events(body, "updates|" + announced).isEmpty(), "the subgraph's updates under " + announced + ": "
        + body);
    String debugged = null;
    for (JsonNode event : events(body, "debug")) {
      if (event.get("type").asText().equals("checkpoint")) {
        for (JsonNode task : event.get("payload").get("tasks")) {
          if (task.get("name").asText().equals("write")) {
            debugged = task.get("state").get("configurable").get("checkpoint_ns").asText();
          }
        }
      }
    }
    assertEquals(announced, debugged);
    assertEquals(announced, send("GET", "/threads/" + thread + "/state", "", 200).get("tasks").get(0)
        .get("checkpoint").get("checkpoint_ns").asText());
  }

  @Test
  void aCheckpointWithoutAnIdAddressesTheLatestState() {
    String thread = send("POST", "/threads", "{}", 200).get("thread_id").asText();
    String path = "/threads/" + thread + "/state/checkpoint";
    JsonNode none = send("POST", path, "{\"checkpoint\":{\"thread_id\":\"" + thread + "\"}}", 200);
    assertTrue(none.get("values").isNull() && none.get("checkpoint").get("checkpoint_id").isNull(), none.toString());
    send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"desk\",\"input\":{\"topic\":\"otters\"}}",
        200);
    JsonNode latest = send("GET", "/threads/" + thread + "/state", "", 200);

    // RemoteGraph.getState(config) sends the config's thread id only (and checkpoint_map when it has one)
    JsonNode remote = send("POST", path, "{\"checkpoint\":{\"thread_id\":\"" + thread + "\",\"checkpoint_map\":{}}}",
        200);
    assertEquals(latest, remote);
    assertEquals(latest, send("POST", path, "{}", 200));
    assertEquals(latest, send("POST", path, "{\"checkpoint\":null}", 200));
    JsonNode deep = send("POST", path, "{\"checkpoint\":{\"thread_id\":\"" + thread + "\"},\"subgraphs\":true}", 200);
    assertEquals("[\"review\"]", deep.get("tasks").get(0).get("state").get("next").toString(), deep.toString());

    // a nested namespace without an id: that graph's latest state
    String namespace = latest.get("tasks").get(0).get("checkpoint").get("checkpoint_ns").asText();
    JsonNode nested = send("POST", path, "{\"checkpoint\":{\"thread_id\":\"" + thread + "\",\"checkpoint_ns\":\""
        + namespace + "\"}}", 200);
    assertEquals(namespace, nested.get("checkpoint").get("checkpoint_ns").asText());
    assertEquals("[\"review\"]", nested.get("next").toString());
    assertTrue(send("POST", path, "{\"checkpoint\":{\"checkpoint_ns\":\"write:nope\"}}", 404).get("detail")
        .asText().contains("write:nope"));

    JsonNode other = send("POST", path, "{\"checkpoint\":{\"thread_id\":\"someone-else\"}}", 422);
    assertTrue(other.get("detail").asText().contains("checkpoint.thread_id"), other.toString());
    send("POST", path, "{\"checkpoint\":{\"checkpoint_id\":5}}", 422);
    send("POST", path, "{\"checkpoint\":\"latest\"}", 422);
  }
}
