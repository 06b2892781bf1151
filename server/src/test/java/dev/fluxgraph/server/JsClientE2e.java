package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.Reducers;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.messages.AiMessage;
import dev.fluxgraph.messages.Message;
import dev.fluxgraph.messages.ToolCall;
import dev.fluxgraph.messages.ToolMessage;
import dev.fluxgraph.types.TypeRef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * What {@code src/test/js/e2e.mjs} (the official {@code @langchain/langgraph-sdk}, installed by {@code ./test.sh} with
 * npm) needs: the graphs it drives, and running it against a server's URL. Public for the other hosts' tests (the
 * Spring Boot autoconfigure module runs it against a WebFlux application), through the test jar.
 */
public final class JsClientE2e {

  /** {@code server/src/test/js}, from this module or from a sibling one. */
  static final Path DIRECTORY = Files.isDirectory(Path.of("src/test/js")) ? Path.of("src/test/js")
      : Path.of("../server/src/test/js");

  private JsClientE2e() {
  }

  /** Registers on {@code server} every graph e2e.mjs uses, their checkpoints in {@code saver}. */
  static FluxgraphServer.Builder graphs(FluxgraphServer.Builder server, CheckpointSaver saver) {
    graphs(saver).forEach(server::graph);
    return server;
  }

  /** Every graph e2e.mjs uses, by graph id, their checkpoints in {@code saver}. */
  public static Map<String, Entrypoint<?, ?>> graphs(CheckpointSaver saver) {
    Task<String, String> step1 = Task.of("step_1", String.class, q -> Mono.just(q + " bar"));
    Task<String, String> feedback = Task.of("human_feedback", String.class,
        (String q, TaskContext context) -> context.interrupt("Please provide feedback: " + q, String.class)
            .map(answer -> q + " " + answer));
    Task<String, String> step3 = Task.of("step_3", String.class, q -> Mono.just(q + " qux"));
    Task<Integer, Boolean> isEven = Task.of("is_even", Boolean.class, n -> Mono.just(n % 2 == 0));
    Map<String, Entrypoint<?, ?>> graphs = new LinkedHashMap<>();
    graphs.put("human_in_the_loop", Entrypoint.named("graph").checkpointer(saver)
            .define(String.class, String.class, (q, context) -> step1.call(q).flatMap(feedback::call)
                .flatMap(step3::call)));
        // runs.wait in the JS client expects an object (it checks `"__error__" in result`)
    graphs.put("simple_workflow", Entrypoint.named("workflow").checkpointer(saver)
            .define(new TypeRef<Map<String, Integer>>() { }, new TypeRef<Map<String, String>>() { }, (in, context) ->
                isEven.call(in.get("number")).map(even -> Map.of("message",
                    even ? "The number is even." : "The number is odd."))));
    graphs.put("failing", Entrypoint.named("failing").checkpointer(saver)
            .define(String.class, String.class, (in, context) -> Task.of("explode", String.class,
                (String s) -> Mono.<String>error(new IllegalStateException("boom: " + s))).call(in)));
    graphs.put("sleepy", Entrypoint.named("sleepy").checkpointer(saver)
            .define(String.class, String.class, (in, context) -> Task.of("nap", String.class,
                (String s) -> Mono.delay(Duration.ofMinutes(5)).thenReturn(s)).call(in)));
    graphs.put("review_graph", StateGraph.ofMap()
            .reducer("log", Reducers.append())
            .addNode("draft", (state, context) -> Mono.just(Map.of("text", "draft about " + state.get("topic"),
                "log", "draft")))
            .addNode("review", (state, context) -> context.interrupt("approve " + state.get("text") + "?",
                String.class).map(verdict -> Map.<String, Object>of("verdict", verdict, "log", "review")))
            .addNode("publish", (state, context) -> Mono.delay(Duration.ofMillis(300))
                .thenReturn(Map.<String, Object>of("published", state.get("text"), "log", "publish")))
            .addEdge(StateGraph.START, "draft")
            .addEdge("draft", "review")
            .addEdge("review", "publish")
            .compile(CompileOptions.defaults().withName("review_graph").withCheckpointer(saver))
            .asEntrypoint());
    graphs.put("desk", StateGraph.ofMap()
            .addNode("write", StateGraph.ofMap()
                .addNode("draft", (state, context) -> Mono.just(Map.of("text", "draft about " + state.get("topic"))))
                .addNode("review", (state, context) -> context.interrupt("approve " + state.get("text") + "?",
                    String.class).map(verdict -> Map.<String, Object>of("verdict", verdict)))
                .addEdge(StateGraph.START, "draft")
                .addEdge("draft", "review")
                .compile(CompileOptions.defaults().withName("reviewer")))
            .setEntryPoint("write")
            .compile(CompileOptions.defaults().withName("desk").withCheckpointer(saver))
            .asEntrypoint());
    graphs.put("chat_tools", StateGraph.ofMap()
            .reducer("messages", Reducers.messages())
            .addNode("agent", (state, context) -> {
              List<?> messages = (List<?>) state.get("messages");
              return Mono.just(Map.of("messages", Message.of(messages.get(messages.size() - 1)) instanceof ToolMessage
                  ? AiMessage.of("It is sunny.")
                  : AiMessage.of("", List.of(ToolCall.of("weather", Map.of("city", "Paris"), "call_1")))));
            })
            .addNode("tools", (state, context) -> Mono.just(Map.of("messages",
                ToolMessage.of("call_1", "sunny").withName("weather"))))
            .setEntryPoint("agent")
            .addConditionalEdges("agent", state -> {
              List<?> messages = (List<?>) state.get("messages");
              return Mono.just(Message.of(messages.get(messages.size() - 1)) instanceof AiMessage ai
                  && !ai.toolCalls().isEmpty() ? "tools" : StateGraph.END);
            })
            .addEdge("tools", "agent")
            .compile(CompileOptions.defaults().withName("chat_tools").withCheckpointer(saver))
            .asEntrypoint());
    // reads the run's config and context (assistants and per-run config checks)
    graphs.put("configured", StateGraph.ofMap()
            .addNode("read", (state, context) -> {
              Map<String, Object> seen = new LinkedHashMap<>();
              seen.put("configurable", context.config().configurable());
              seen.put("remaining", context.remainingSteps().getAsInt());
              seen.put("context", context.context(Map.class).orElse(Map.of()));
              return Mono.just(Map.<String, Object>of("seen", seen));
            })
            .setEntryPoint("read")
            .compile(CompileOptions.defaults().withName("configured").withCheckpointer(saver))
            .asEntrypoint());
    graphs.put("drawn_chat", drawnChat(saver));
    return graphs;
  }

  /**
   * e2e.mjs's graph for drawings, schemas and the server's own stream modes: a model node that streams its answer
   * token by token through {@code TaskContext.messages()}, a conditional edge with declared targets, a subgraph, and
   * input and output schemas.
   */
  private static Entrypoint<?, ?> drawnChat(CheckpointSaver saver) {
    var polish = StateGraph.ofMap()
        .addNode("polish", (state, context) -> Mono.just(Map.of("polished", true)))
        .setEntryPoint("polish").compile(CompileOptions.defaults().withName("polisher"));
    return StateGraph.ofMap().withInput(Question.class).withOutput(Answer.class)
        .reducer("messages", Reducers.messages())
        .addNode("model", (state, context) -> Flux.just("It", " is", " 4.")
            .concatMap(token -> context.messages().write(Map.of("type", "AIMessageChunk", "id", "answer-"
                + state.get("question").hashCode(), "content", token)))
            .then(Mono.just(Map.of("answer", "It is 4.", "messages", List.of(AiMessage.of("It is 4.")
                .withId("answer-" + state.get("question").hashCode()))))))
        .addNode("polisher", polish)
        .setEntryPoint("model")
        .addConditionalEdges("model", state -> Mono.just(StateGraph.END), List.of("polisher", StateGraph.END))
        .compile(CompileOptions.defaults().withName("drawn_chat").withCheckpointer(saver)).asEntrypoint();
  }

  /** The input schema of {@code drawn_chat}. */
  public record Question(@Nullable String question) {
  }

  /** The output schema of {@code drawn_chat}. */
  public record Answer(@Nullable String answer) {
  }

  /**
   * Runs {@code node e2e.mjs apiUrl} and fails (with its output) unless every check passed within two minutes; the
   * client sends {@code apiKey} in {@code x-api-key} (through {@code LANGGRAPH_API_KEY}), or no key when null.
   */
  public static String run(String apiUrl, @Nullable String apiKey) throws IOException, InterruptedException {
    assertTrue(Files.isDirectory(DIRECTORY.resolve("node_modules/@langchain/langgraph-sdk")),
        "run `npm ci` (./test.sh does) in server/src/test/js first");
    ProcessBuilder command = new ProcessBuilder("node", "e2e.mjs", apiUrl)
        .directory(DIRECTORY.toFile()).redirectErrorStream(true);
    // the SDK takes its key from the first of these that is set
    for (String name : List.of("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY")) {
      command.environment().remove(name);
    }
    if (apiKey != null) {
      command.environment().put("LANGGRAPH_API_KEY", apiKey);
    }
    Process node = command.start();
    boolean finished = node.waitFor(120, TimeUnit.SECONDS);
    if (!finished) {
      node.destroyForcibly();
    }
    String output = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(finished, "node did not finish:\n" + output);
    assertEquals(0, node.exitValue(), output);
    assertTrue(output.contains("all checks passed"), output);
    return output;
  }
}
