package dev.fluxgraph.samples.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.errors.NodeTimeoutException;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.types.RetryPolicy;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.test.StepVerifier;

/** The real client against a local OpenAI-compatible server on a real socket. */
class OpenAiChatModelIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicInteger FLAKY_CALLS = new AtomicInteger();
  private static final List<String> AUTHORIZATIONS = new CopyOnWriteArrayList<>();
  private static DisposableServer server;
  private static OpenAiChatModel model;

  private static String event(String json) {
    return "data: " + json + "\n\n";
  }

  private static Flux<String> tokens(String... words) {
    return Flux.fromArray(words)
        .map(word -> event("{\"id\":\"cmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + word + "\"}}]}"))
        .concatWith(Flux.just("data: [DONE]\n\n"));
  }

  @BeforeAll
  static void start() {
    server = HttpServer.create().host("127.0.0.1").port(0)
        .route(routes -> routes.post("/v1/chat/completions", (request, response) -> request.receive().aggregate()
            .asString()
            .flatMap(body -> {
              AUTHORIZATIONS.add(String.valueOf(request.requestHeaders().get("Authorization")));
              JsonNode messages;
              try {
                messages = JSON.readTree(body).get("messages");
              } catch (Exception e) {
                return response.status(400).sendString(Mono.just("bad json")).then();
              }
              String last = messages.get(messages.size() - 1).get("content").asText();
              response.header("Content-Type", "text/event-stream");
              switch (last) {
                case "flaky":
                  if (FLAKY_CALLS.incrementAndGet() == 1) {
                    return response.status(500).sendString(Mono.just("{\"error\":\"overloaded\"}")).then();
                  }
                  return response.sendString(tokens("recovered")).then();
                case "slow":
                  return response.sendString(Mono.delay(Duration.ofSeconds(2)).thenMany(tokens("late"))).then();
                case "tools":
                  return response.sendString(Flux.just(
                      // a chunk boundary inside an event, and arguments split across events
                      "data: {\"id\":\"cmpl-2\",\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",",
                      "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"ci\"}}]}}]}\n\n",
                      event("{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"ty\\\": \\\"sf\\\"}\"}}]}}]}"),
                      "data: [DONE]\n\n")).then();
                default:
                  return response.sendString(tokens("Hello", " world", "!")).then();
              }
            })))
        .bindNow();
    model = new OpenAiChatModel("http://127.0.0.1:" + server.port() + "/v1", "test-key", "test-model");
  }

  @AfterAll
  static void stop() {
    server.disposeNow();
  }

  private static Entrypoint<String, String> chat(Task<String, ChatMessage> callModel) {
    return Entrypoint.named("chat").define(String.class, String.class,
        (text, context) -> callModel.call(text).map(ChatMessage::content));
  }

  private static Task<String, ChatMessage> callModel() {
    return Task.of("call_model", ChatMessage.class,
        (String text, TaskContext context) -> model.invoke(List.of(ChatMessage.user(text)), context));
  }

  @Test
  void tokensStreamAsMessagesWithTheTaskName() {
    List<StreamChunk> chunks = chat(callModel()).stream("hi", RunConfig.none(), StreamMode.MESSAGES,
        StreamMode.UPDATES).collectList().block(Duration.ofSeconds(10));
    List<StreamChunk> tokens = chunks.stream().filter(c -> c.mode() == StreamMode.MESSAGES).toList();
    assertEquals(3, tokens.size());
    assertEquals(List.of("Hello", " world", "!"), tokens.stream()
        .map(c -> ((Map<?, ?>) ((List<?>) c.data()).get(0)).get("content")).toList());
    assertEquals("call_model", ((Map<?, ?>) ((List<?>) tokens.get(0).data()).get(1)).get("langgraph_node"));
    assertEquals(StreamMode.MESSAGES, chunks.get(0).mode(), "tokens arrive before the task's update");
    assertEquals(Map.of("chat", "Hello world!"), chunks.get(chunks.size() - 1).data());
    assertTrue(AUTHORIZATIONS.contains("Bearer test-key"));
  }

  @Test
  void toolCallsAreAssembledFromFragments() {
    StepVerifier.create(model.invoke(List.of(ChatMessage.user("tools")),
            List.of(new ToolSpec("get_weather", "weather", Map.of("type", "object"))), null))
        .assertNext(message -> {
          assertEquals(List.of(new ToolCall("call_1", "get_weather", Map.of("city", "sf"))), message.toolCalls());
          assertEquals("", message.content());
        })
        .expectComplete()
        .verify(Duration.ofSeconds(10));
  }

  @Test
  void aServerErrorIsRetriedByTheDefaultPolicy() {
    Task<String, ChatMessage> retried = Task.of("call_model", ChatMessage.class,
            (String text, TaskContext context) -> model.invoke(List.of(ChatMessage.user(text)), context))
        .withRetry(RetryPolicy.defaults().withInitialInterval(Duration.ofMillis(10)).withJitter(false));
    StepVerifier.create(chat(retried).invoke("flaky", RunConfig.none()))
        .expectNext("recovered")
        .expectComplete()
        .verify(Duration.ofSeconds(10));
    assertEquals(2, FLAKY_CALLS.get());
  }

  @Test
  void aSlowResponseHitsTheTaskTimeout() {
    Task<String, ChatMessage> bounded = callModel().withTimeout(Duration.ofMillis(300));
    StepVerifier.create(chat(bounded).invoke("slow", RunConfig.none()))
        .expectErrorSatisfies(error -> assertEquals("call_model", ((NodeTimeoutException) error).node()))
        .verify(Duration.ofSeconds(10));
  }

  @Test
  void errorsNameTheStatus() {
    OpenAiChatModel nowhere = new OpenAiChatModel("http://127.0.0.1:" + server.port() + "/nothing-here", "", "m");
    StepVerifier.create(nowhere.invoke(List.of(ChatMessage.user("hi")), null))
        .expectErrorSatisfies(error -> {
          assertEquals(404, ((ModelHttpException) error).statusCode());
          assertTrue(error.getMessage().contains("HTTP 404"));
        })
        .verify(Duration.ofSeconds(10));
  }
}
