package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.server.refgraphs.ReferenceGraphs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code threads.updateState} into a paused subgraph's {@code checkpoint_ns} (the reference's "human in the loop -
 * modification") over a socket, in memory and on PostgreSQL: the edited state shows under the namespace, the thread's
 * continuation goes on from it, the histories list the thread's checkpoints and the subgraph's states, and what
 * cannot be honoured is a 422 naming the problem. On PostgreSQL the update is checked through plain SQL too: a write
 * of the thread's paused checkpoint, no checkpoint of its own.
 */
class NestedUpdateServerIT {

  /** The reference's weather graph (its port in {@link ReferenceGraphs}). */
  private static FluxgraphServer.Builder weather(FluxgraphServer.Builder builder, CheckpointSaver saver) {
    return builder.graph("weather", ReferenceGraphs.weather(CompileOptions.defaults().withName("weather")
        .withCheckpointer(saver)));
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aPausedSubgraphsStateIsUpdatedThroughItsNamespaceAndTheThreadGoesOnFromIt(boolean postgres) {
    ServerFixture.@Nullable Database database = postgres ? ServerFixture.database(NestedUpdateServerIT.class) : null;
    @Nullable PostgresSaver pg = database == null ? null : PostgresSaver.connect(database.url());
    CheckpointSaver saver = pg == null ? new InMemorySaver() : pg;
    try {
      if (pg != null) {
        pg.setup().block(Duration.ofSeconds(30));
      }
      scenario(database, saver);
    } finally {
      if (pg != null) {
        pg.close();
      }
    }
  }

  private static void scenario(ServerFixture.@Nullable Database database, CheckpointSaver saver) {
    ServerFixture.withServers(database == null ? null : database.url(), 1, builder -> weather(builder, saver),
        apis -> updateAndContinue(apis.get(0), database));
  }

  private static void updateAndContinue(ApiClient api, ServerFixture.@Nullable Database database) {
    String thread = api.post("/threads", "{}").json().get("thread_id").asText();
    ApiClient.Reply paused = api.post("/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"weather\","
        + "\"input\":{\"messages\":[{\"role\":\"human\",\"content\":\"SF\",\"id\":\"initial-message\"}]}}");
    assertEquals(200, paused.status(), paused.body());
    assertEquals("{\"__interrupt__\":[]}", paused.body(), "the last values chunk of a run paused at a breakpoint");
    assertEquals("interrupted", status(api, thread));
    JsonNode state = api.get("/threads/" + thread + "/state").json();
    JsonNode checkpoint = state.get("tasks").get(0).get("checkpoint");
    String namespace = checkpoint.get("checkpoint_ns").asText();
    assertTrue(namespace.startsWith("weather_graph:"), checkpoint.toString());
    String pausedAt = state.get("checkpoint").get("checkpoint_id").asText();

    ApiClient.Reply updated = api.post("/threads/" + thread + "/state",
        "{\"values\":{\"city\":\"LA\"},\"checkpoint\":" + checkpoint + "}");
    assertEquals(200, updated.status(), updated.body());
    JsonNode inner = api.post("/threads/" + thread + "/state/checkpoint", "{\"checkpoint\":" + checkpoint + "}")
        .json();
    assertEquals("LA", inner.at("/values/city").asText(), inner.toString());
    assertEquals("[\"weather_node\"]", inner.get("next").toString());
    assertEquals("weather_node", inner.at("/tasks/0/name").asText());
    JsonNode root = api.get("/threads/" + thread + "/state").json();
    assertEquals(pausedAt, root.at("/checkpoint/checkpoint_id").asText(), "no checkpoint of the thread is added");
    assertEquals("interrupted", status(api, thread));

    refused(api, thread, "{\"values\":{\"city\":\"NY\"},\"checkpoint\":{\"thread_id\":\"" + thread
        + "\",\"checkpoint_ns\":\"weather_graph:nope\"}}", "no nested graph ran under that namespace");
    refused(api, thread, "{\"values\":{\"city\":\"NY\"},\"as_node\":\"nowhere\",\"checkpoint\":" + checkpoint
        + "}", "not a node of graph 'weather_graph'");
    ObjectNode older = checkpoint.deepCopy();
    older.put("checkpoint_id", api.post("/threads/" + thread + "/history", "{}").json().get(2)
        .at("/checkpoint/checkpoint_id").asText());
    refused(api, thread, "{\"values\":{\"city\":\"NY\"},\"checkpoint\":" + older + "}", "not the thread's latest");

    if (database != null) { // the update is a write of the paused checkpoint, beside the subgraph's states
      assertEquals("1", database.first("SELECT count(*) FROM fluxgraph_writes WHERE thread_id = '" + thread
          + "' AND checkpoint_id = '" + pausedAt + "' AND channel = '__update__' AND value->'values'->>'city' = "
          + "'LA'"));
      assertEquals("0", database.first("SELECT count(*) FROM fluxgraph_checkpoints WHERE thread_id = '" + thread
          + "' AND checkpoint_ns <> ''"));
    }

    ApiClient.Reply done = api.post("/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"weather\"}");
    assertEquals(200, done.status(), done.body());
    JsonNode messages = done.json().get("messages");
    assertEquals(2, messages.size(), done.body());
    assertEquals("It's sunny in LA!", messages.get(1).get("content").asText());
    assertTrue(!messages.get(0).has("name"), "a message without a name has no name key: " + messages.get(0));
    assertEquals("idle", status(api, thread));

    JsonNode history = api.post("/threads/" + thread + "/history", "{}").json();
    assertEquals(4, history.size(), history.toString());
    JsonNode innerHistory = api.post("/threads/" + thread + "/history", "{\"checkpoint\":" + checkpoint + "}")
        .json();
    List<String> nexts = new ArrayList<>();
    innerHistory.forEach(entry -> nexts.add(entry.get("next").toString()));
    assertEquals(List.of("[]", "[\"weather_node\"]", "[\"weather_node\"]", "[\"model_node\"]", "[\"__start__\"]"),
        nexts, innerHistory.toString());
    assertEquals("update", innerHistory.at("/1/metadata/source").asText());
    refused(api, thread, "{\"values\":{\"city\":\"NY\"},\"checkpoint\":" + checkpoint + "}", "no run is pending");
  }

  private static String status(ApiClient api, String thread) {
    ApiClient.Reply reply = api.get("/threads/" + thread);
    assertEquals(200, reply.status(), reply.body());
    return reply.json().path("status").asText(reply.body());
  }

  private static void refused(ApiClient api, String thread, String body, String reason) {
    ApiClient.Reply reply = api.post("/threads/" + thread + "/state", body);
    assertEquals(422, reply.status(), reply.body());
    assertTrue(reply.detail().contains(reason), reply.body());
  }
}
