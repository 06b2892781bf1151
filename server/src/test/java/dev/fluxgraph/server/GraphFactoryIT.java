package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.store.Store;
import dev.fluxgraph.types.RunConfig;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

/**
 * Graph factories over a real socket: a graph built per run from the request's {@code config.configurable}, cached
 * per distinct values, its runs' state readable afterwards, a failing factory answered with a message naming it,
 * and factories from a {@link GraphProvider}.
 */
class GraphFactoryIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(10);
  /** The configurable values each call of the factory got, in call order. */
  private static final List<Map<String, Object>> built = new CopyOnWriteArrayList<>();
  private static final CheckpointSaver saver = new InMemorySaver();
  private static FluxgraphServer server;
  private static HttpClient http;

  /** An "agent" whose model is picked by the run's configurable {@code model} (default "small"). */
  static Entrypoint<?, ?> agent(RunConfig config, CheckpointSaver checkpointer) {
    built.add(config.configurable());
    if (Boolean.TRUE.equals(config.configurable().get("broken"))) {
      throw new IllegalStateException("no such model");
    }
    String model = String.valueOf(config.configurable().getOrDefault("model", "small"));
    return StateGraph.ofMap()
        .addNode("model", (state, context) -> Mono.just(Map.of("answer", model + " says hi to "
            + state.get("name"), "seen", context.config().configurable())))
        .setEntryPoint("model")
        .compile(CompileOptions.defaults().withName("agent").withCheckpointer(checkpointer))
        .asEntrypoint();
  }

  @BeforeAll
  static void start() {
    server = FluxgraphServer.builder().graph("agent", config -> agent(config, saver))
        .port(0).discoverGraphs(false).build()
        .start().block(WAIT);
    http = HttpClient.create().baseUrl("http://127.0.0.1:" + server.port());
  }

  @AfterAll
  static void stop() {
    server.stop().block(WAIT);
  }

  private static JsonNode send(HttpClient client, String method, String path, String body, int expectedStatus) {
    return client.request(io.netty.handler.codec.http.HttpMethod.valueOf(method)).uri(path)
        .send(ByteBufFlux.fromString(Mono.just(body)))
        .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8).defaultIfEmpty("")
            .map(text -> {
              assertEquals(expectedStatus, response.status().code(), text);
              try {
                return text.isEmpty() ? JSON.createObjectNode() : JSON.readTree(text);
              } catch (Exception e) {
                throw new AssertionError(text, e);
              }
            }))
        .block(WAIT);
  }

  private static JsonNode send(String method, String path, String body, int expectedStatus) {
    return send(http, method, path, body, expectedStatus);
  }

  private static String wait(String thread, String configurable) {
    return send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"agent\",\"input\":{\"name\":\"ann\"},"
        + "\"config\":{\"configurable\":" + configurable + "}}", 200).get("answer").asText();
  }

  private static long builtWith(Map<String, Object> configurable) {
    return built.stream().filter(configurable::equals).count();
  }

  @Test
  void eachRunGetsTheGraphBuiltFromItsConfigurableValuesBuiltOncePerDistinctValues() {
    String thread = send("POST", "/threads", "{}", 200).get("thread_id").asText();
    assertEquals("big says hi to ann", wait(thread, "{\"model\":\"big\",\"thread_id\":\"ignored\"}"));
    assertEquals("tiny says hi to ann", wait(thread, "{\"model\":\"tiny\"}"));
    assertEquals("big says hi to ann", wait(thread, "{\"model\":\"big\"}"));
    assertEquals(1, builtWith(Map.of("model", "big")), built.toString());
    assertEquals(1, builtWith(Map.of("model", "tiny")), built.toString());
    assertTrue(built.stream().noneMatch(values -> values.containsKey("thread_id")), built.toString());

    // the run itself sees its configurable values; the thread's state is readable with the factory's graph
    JsonNode state = send("GET", "/threads/" + thread + "/state", "", 200);
    assertEquals("big says hi to ann", state.get("values").get("answer").asText());
    assertEquals("big", state.get("values").get("seen").get("model").asText());
    assertEquals("agent", send("GET", "/threads/" + thread, "", 200).get("metadata").get("graph_id").asText());
    assertEquals("agent", send("GET", "/assistants/agent", "", 200).get("graph_id").asText());
  }

  @Test
  void aStatelessStreamedRunUsesTheFactoryToo() {
    String events = http.post().uri("/runs/stream")
        .send(ByteBufFlux.fromString(Mono.just("{\"assistant_id\":\"agent\",\"input\":{\"name\":\"bo\"},"
            + "\"stream_mode\":[\"values\"],\"config\":{\"configurable\":{\"model\":\"fast\"}}}")))
        .responseContent().aggregate().asString(StandardCharsets.UTF_8).block(WAIT);
    assertTrue(events.contains("\"answer\":\"fast says hi to bo\""), events);
  }

  @Test
  void aFailingFactoryIsAnErrorNamingTheGraph() {
    String thread = send("POST", "/threads", "{}", 200).get("thread_id").asText();
    JsonNode problem = send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"agent\","
        + "\"input\":{\"name\":\"x\"},\"config\":{\"configurable\":{\"broken\":true}}}", 422);
    assertTrue(problem.get("detail").asText().contains("graph factory of 'agent'"), problem.toString());
    assertTrue(problem.get("detail").asText().contains("no such model"), problem.toString());
    JsonNode invalid = send("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"agent\","
        + "\"input\":{\"name\":\"x\"},\"config\":{\"configurable\":[1]}}", 422);
    assertTrue(invalid.get("detail").asText().contains("config.configurable must be an object"), invalid.toString());
  }

  /** A provider with a factory, found through a services file on the context class loader. */
  public static final class FactoryProvider implements GraphProvider {
    @Override
    public Map<String, Entrypoint<?, ?>> graphs(CheckpointSaver checkpointer, Store store) {
      return Map.of();
    }

    @Override
    public Map<String, GraphFactory> graphFactories(CheckpointSaver checkpointer, Store store) {
      return Map.of("provided", config -> agent(config, checkpointer));
    }
  }

  @Test
  void aGraphProviderMayServeFactories(@TempDir Path services) throws Exception {
    Path file = services.resolve("META-INF/services/" + GraphProvider.class.getName());
    Files.createDirectories(file.getParent());
    Files.writeString(file, FactoryProvider.class.getName() + "\n");
    Thread thread = Thread.currentThread();
    ClassLoader original = thread.getContextClassLoader();
    FluxgraphServer provided;
    try (URLClassLoader loader = new URLClassLoader(new URL[] {services.toUri().toURL()}, original)) {
      thread.setContextClassLoader(loader);
      provided = FluxgraphServer.builder().port(0).build();
    } finally {
      thread.setContextClassLoader(original);
    }
    provided.start().block(WAIT);
    try {
      HttpClient client = HttpClient.create().baseUrl("http://127.0.0.1:" + provided.port());
      String id = send(client, "POST", "/threads", "{}", 200).get("thread_id").asText();
      assertEquals("huge says hi to cy", send(client, "POST", "/threads/" + id + "/runs/wait",
          "{\"assistant_id\":\"provided\",\"input\":{\"name\":\"cy\"},\"config\":{\"configurable\":"
              + "{\"model\":\"huge\"}}}", 200).get("answer").asText());
      assertEquals("huge says hi to cy", send(client, "GET", "/threads/" + id + "/state", "", 200)
          .get("values").get("answer").asText());
    } finally {
      provided.stop().block(WAIT);
    }
  }
}
