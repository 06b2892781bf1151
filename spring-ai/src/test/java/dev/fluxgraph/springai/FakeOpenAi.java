package dev.fluxgraph.springai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * A local OpenAI-compatible {@code POST /v1/chat/completions} on a real socket (port 0), answering server-sent events
 * as OpenAI streams them: {@code chat.completion.chunk}s with content deltas, tool-call deltas split across events,
 * a finish reason, then a usage chunk without choices, then {@code [DONE]}. What it answers depends on the last
 * message: {@code "hi"} three tokens; {@code "weather?"} a {@code get_weather} call, and after the tool's answer
 * (a last message with role {@code tool}) a sentence quoting it; {@code "flaky"} HTTP 500 on its first request, then
 * a token; {@code "bad"} HTTP 400 always; {@code "hang"} one token and then nothing, never ending (it completes
 * {@link #hangClosed()} when the client closes the connection). Every request body is recorded.
 */
final class FakeOpenAi implements AutoCloseable {

  static final int PROMPT_TOKENS = 7;
  static final int COMPLETION_TOKENS = 3;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<JsonNode> requests = new CopyOnWriteArrayList<>();
  private final AtomicInteger flakyCalls = new AtomicInteger();
  private final CompletableFuture<Void> hangClosed = new CompletableFuture<>();
  private final DisposableServer server;

  FakeOpenAi() {
    server = HttpServer.create().host("127.0.0.1").port(0)
        .route(routes -> routes.post("/v1/chat/completions", (request, response) -> request.receive().aggregate()
            .asString()
            .flatMap(body -> {
              JsonNode json;
              try {
                json = JSON.readTree(body);
              } catch (Exception e) {
                return response.status(400).sendString(Mono.just("{\"error\":\"bad json\"}")).then();
              }
              requests.add(json);
              JsonNode messages = json.get("messages");
              JsonNode last = messages.get(messages.size() - 1);
              String content = last.path("content").asText("");
              if ("tool".equals(last.path("role").asText())) {
                return sse(response, tokens("chatcmpl-3", "It is " + content + " in sf")).then();
              }
              switch (content) {
                case "weather?":
                  return sse(response, toolCall()).then();
                case "flaky":
                  if (flakyCalls.incrementAndGet() == 1) {
                    return response.status(500).header("Content-Type", "application/json")
                        .sendString(Mono.just("{\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}"))
                        .then();
                  }
                  return sse(response, tokens("chatcmpl-4", "recovered")).then();
                case "bad":
                  return response.status(400).header("Content-Type", "application/json")
                      .sendString(Mono.just("{\"error\":{\"message\":\"no such model\","
                          + "\"type\":\"invalid_request_error\"}}"))
                      .then();
                case "hang":
                  request.withConnection(connection -> connection.onDispose(() -> hangClosed.complete(null)));
                  return sse(response, Flux.just(event(delta("chatcmpl-5", "{\"content\":\"wait\"}", null)))
                      .concatWith(Flux.never())).then();
                default:
                  return sse(response, tokens("chatcmpl-1", "Hello", " world", "!")).then();
              }
            })))
        .bindNow();
  }

  /** The API root to configure Spring AI with ({@code spring.ai.openai.base-url}). */
  String baseUrl() {
    return "http://127.0.0.1:" + server.port() + "/v1";
  }

  /** Every request body received, in order. */
  List<JsonNode> requests() {
    return List.copyOf(requests);
  }

  /** Completes when the client closed the connection of a {@code "hang"} request. */
  CompletableFuture<Void> hangClosed() {
    return hangClosed;
  }

  @Override
  public void close() {
    server.disposeNow();
  }

  private static reactor.netty.NettyOutbound sse(reactor.netty.http.server.HttpServerResponse response,
                                                 Flux<String> events) {
    return response.header("Content-Type", "text/event-stream").sendString(events);
  }

  private static Flux<String> tokens(String id, String... tokens) {
    Flux<String> deltas = Flux.fromArray(tokens)
        .map(token -> event(delta(id, "{\"content\":" + quote(token) + "}", null)));
    return Flux.concat(Flux.just(event(delta(id, "{\"role\":\"assistant\",\"content\":\"\"}", null))), deltas,
        Flux.just(event(delta(id, "{}", "stop")), event(usage(id)), "data: [DONE]\n\n"));
  }

  /** A get_weather call: id and name first, the arguments in two fragments, then the finish reason and usage. */
  private static Flux<String> toolCall() {
    String id = "chatcmpl-2";
    return Flux.just(
        event(delta(id, "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_1\","
            + "\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}", null)),
        event(delta(id, "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"ci\"}}]}", null)),
        event(delta(id, "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"ty\\\": \\\"sf\\\"}\"}}]}",
            null)),
        event(delta(id, "{}", "tool_calls")),
        event(usage(id)),
        "data: [DONE]\n\n");
  }

  private static String delta(String id, String delta, String finishReason) {
    return "{\"id\":\"" + id + "\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
        + "\"model\":\"test-model\",\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":"
        + (finishReason == null ? "null" : "\"" + finishReason + "\"") + "}]}";
  }

  private static String usage(String id) {
    return "{\"id\":\"" + id + "\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
        + "\"model\":\"test-model\",\"choices\":[],\"usage\":{\"prompt_tokens\":" + PROMPT_TOKENS
        + ",\"completion_tokens\":" + COMPLETION_TOKENS + ",\"total_tokens\":" + (PROMPT_TOKENS + COMPLETION_TOKENS)
        + "}}";
  }

  private static String event(String json) {
    return "data: " + json + "\n\n";
  }

  private static String quote(String text) {
    try {
      return JSON.writeValueAsString(text);
    } catch (Exception e) {
      throw new IllegalArgumentException(e);
    }
  }
}
