package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.Reducers;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.postgres.PostgresSaver;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A thread keeps the configurable values of its last run (its {@code config}), and a graph factory's graph for them is
 * the one its state is read and updated with, as the reference rebuilds a thread's graph from the thread's config: a
 * node only those values name can be an update's {@code as_node}. In memory and on PostgreSQL, over a socket.
 */
class ThreadGraphConfigIT {

  /** A graph whose one node is named by {@code configurable.nodeName} ("default" without it). */
  private static FluxgraphServer.Builder dynamic(FluxgraphServer.Builder builder, CheckpointSaver saver) {
    return builder.graph("dynamic", config -> {
      String node = config.configurable().get("nodeName") instanceof String name ? name : "default";
      return StateGraph.ofMap()
          .reducer("messages", Reducers.append(), List.of())
          .addNode(node, (state, context) -> reactor.core.publisher.Mono.just(Map.of("messages", List.of(node))))
          .setEntryPoint(node)
          .compile(CompileOptions.defaults().withName("dynamic").withCheckpointer(saver)).asEntrypoint();
    });
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aThreadsStateIsUpdatedWithTheGraphOfItsLastRun(boolean postgres) {
    @Nullable String url = postgres ? ServerFixture.database(ThreadGraphConfigIT.class).url() : null;
    @Nullable PostgresSaver pg = url == null ? null : PostgresSaver.connect(url);
    CheckpointSaver saver = pg == null ? new InMemorySaver() : pg;
    if (pg != null) {
      pg.setup().block(Duration.ofSeconds(30));
    }
    try {
      run(url, saver);
    } finally {
      if (pg != null) {
        pg.close();
      }
    }
  }

  private static void run(@Nullable String url, CheckpointSaver saver) {
    ServerFixture.withServers(url, 1, builder -> dynamic(builder, saver), apis -> {
      ApiClient api = apis.get(0);
      String assistant = api.post("/assistants", "{\"graph_id\":\"dynamic\",\"config\":{\"configurable\":"
          + "{\"nodeName\":\"assistant\"}}}").json().get("assistant_id").asText();
      String thread = api.post("/threads", "{}").json().get("thread_id").asText();
      ApiClient.Reply ran = api.post("/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"" + assistant
          + "\",\"input\":{\"messages\":[\"input\"]}}");
      assertEquals(200, ran.status(), ran.body());
      JsonNode record = api.get("/threads/" + thread).json();
      assertEquals("assistant", record.at("/config/configurable/nodeName").asText(), record.toString());

      ApiClient.Reply update = api.post("/threads/" + thread + "/state", "{\"values\":{\"messages\":[\"update\"]},"
          + "\"as_node\":\"assistant\"}");
      assertEquals(200, update.status(), update.body());
      assertEquals("[\"input\",\"assistant\",\"update\"]",
          api.get("/threads/" + thread + "/state").json().at("/values/messages").toString());

      String copy = api.post("/threads/" + thread + "/copy", "{}").json().get("thread_id").asText();
      ApiClient.Reply copied = api.post("/threads/" + copy + "/state", "{\"values\":{\"messages\":[\"again\"]},"
          + "\"as_node\":\"assistant\"}");
      assertEquals(200, copied.status(), copied.body());

      String plain = api.post("/threads", "{}").json().get("thread_id").asText();
      assertEquals(200, api.post("/threads/" + plain + "/runs/wait", "{\"assistant_id\":\"dynamic\",\"input\":{}}")
          .status());
      assertEquals(422, api.post("/threads/" + plain + "/state", "{\"values\":{},\"as_node\":\"assistant\"}")
          .status(), "a thread whose run named no node keeps the default graph");
    });
  }
}
