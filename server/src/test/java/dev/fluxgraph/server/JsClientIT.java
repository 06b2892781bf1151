package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.types.TypeRef;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * The official {@code @langchain/langgraph-sdk} (installed by {@code ./test.sh} with npm into
 * {@code src/test/js}) driving a server started here, through {@code src/test/js/e2e.mjs}.
 */
class JsClientIT {

  @Test
  void theOfficialClientDrivesTheServer() throws Exception {
    Path js = Path.of("src/test/js");
    assertTrue(Files.isDirectory(js.resolve("node_modules/@langchain/langgraph-sdk")),
        "run `npm ci` (./test.sh does) in server/src/test/js first");
    InMemorySaver saver = new InMemorySaver();
    Task<String, String> step1 = Task.of("step_1", String.class, q -> Mono.just(q + " bar"));
    Task<String, String> feedback = Task.of("human_feedback", String.class,
        (String q, TaskContext context) -> context.interrupt("Please provide feedback: " + q, String.class)
            .map(answer -> q + " " + answer));
    Task<String, String> step3 = Task.of("step_3", String.class, q -> Mono.just(q + " qux"));
    Task<Integer, Boolean> isEven = Task.of("is_even", Boolean.class, n -> Mono.just(n % 2 == 0));
    FluxgraphServer server = FluxgraphServer.builder().discoverGraphs(false).port(0)
        .graph("human_in_the_loop", Entrypoint.named("graph").checkpointer(saver)
            .define(String.class, String.class, (q, context) -> step1.call(q).flatMap(feedback::call)
                .flatMap(step3::call)))
        // runs.wait in the JS client expects an object (it checks `"__error__" in result`)
        .graph("simple_workflow", Entrypoint.named("workflow").checkpointer(saver)
            .define(new TypeRef<Map<String, Integer>>() { }, new TypeRef<Map<String, String>>() { }, (in, context) ->
                isEven.call(in.get("number")).map(even -> Map.of("message",
                    even ? "The number is even." : "The number is odd."))))
        .graph("failing", Entrypoint.named("failing").checkpointer(saver)
            .define(String.class, String.class, (in, context) -> Task.of("explode", String.class,
                (String s) -> Mono.<String>error(new IllegalStateException("boom: " + s))).call(in)))
        .graph("sleepy", Entrypoint.named("sleepy").checkpointer(saver)
            .define(String.class, String.class, (in, context) -> Task.of("nap", String.class,
                (String s) -> Mono.delay(Duration.ofMinutes(5)).thenReturn(s)).call(in)))
        .graph("review_graph", dev.fluxgraph.graph.StateGraph.ofMap()
            .reducer("log", dev.fluxgraph.graph.Reducers.append())
            .addNode("draft", (state, context) -> Mono.just(Map.of("text", "draft about " + state.get("topic"),
                "log", "draft")))
            .addNode("review", (state, context) -> context.interrupt("approve " + state.get("text") + "?",
                String.class).map(verdict -> Map.<String, Object>of("verdict", verdict, "log", "review")))
            .addNode("publish", (state, context) -> Mono.delay(Duration.ofMillis(300))
                .thenReturn(Map.<String, Object>of("published", state.get("text"), "log", "publish")))
            .addEdge(dev.fluxgraph.graph.StateGraph.START, "draft")
            .addEdge("draft", "review")
            .addEdge("review", "publish")
            .compile(dev.fluxgraph.graph.CompileOptions.defaults().withName("review_graph").withCheckpointer(saver))
            .asEntrypoint())
        .graph("desk", dev.fluxgraph.graph.StateGraph.ofMap()
            .addNode("write", dev.fluxgraph.graph.StateGraph.ofMap()
                .addNode("draft", (state, context) -> Mono.just(Map.of("text", "draft about " + state.get("topic"))))
                .addNode("review", (state, context) -> context.interrupt("approve " + state.get("text") + "?",
                    String.class).map(verdict -> Map.<String, Object>of("verdict", verdict)))
                .addEdge(dev.fluxgraph.graph.StateGraph.START, "draft")
                .addEdge("draft", "review")
                .compile(dev.fluxgraph.graph.CompileOptions.defaults().withName("reviewer")))
            .setEntryPoint("write")
            .compile(dev.fluxgraph.graph.CompileOptions.defaults().withName("desk").withCheckpointer(saver))
            .asEntrypoint())
        .build().start().block(Duration.ofSeconds(10));
    try {
      Process node = new ProcessBuilder("node", "e2e.mjs", "http://127.0.0.1:" + server.port())
          .directory(js.toFile()).redirectErrorStream(true).start();
      boolean finished = node.waitFor(120, TimeUnit.SECONDS);
      String output = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!finished) {
        node.destroyForcibly();
      }
      assertTrue(finished, "node did not finish:\n" + output);
      assertEquals(0, node.exitValue(), output);
      assertTrue(output.contains("all checks passed"), output);
    } finally {
      server.stop().block(Duration.ofSeconds(10));
    }
  }

}
