package dev.fluxgraph.samples.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.types.FluxgraphJson;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

/**
 * A client of the OpenAI-compatible {@code POST /chat/completions} API (OpenAI, vLLM, Ollama, llama.cpp) on
 * reactor-netty: always streams (server-sent events), writes each content token to the task's
 * {@code messages()} as it arrives, and assembles tool calls from their streamed fragments. Non-2xx answers fail
 * with {@link ModelHttpException}; timeouts and retries belong to the calling task's policies.
 */
public final class OpenAiChatModel implements ChatModel {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();
  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() { };

  private final HttpClient http;
  private final String model;

  /**
   * @param baseUrl the API root, e.g. {@code https://api.openai.com/v1} or {@code http://localhost:11434/v1}
   * @param apiKey  sent as a bearer token when not blank
   * @param model   the model name
   */
  public OpenAiChatModel(String baseUrl, String apiKey, String model) {
    Objects.requireNonNull(baseUrl, "baseUrl must not be null");
    Objects.requireNonNull(apiKey, "apiKey must not be null");
    this.model = Objects.requireNonNull(model, "model must not be null");
    String root = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    this.http = HttpClient.create().baseUrl(root).headers(headers -> {
      headers.set("Content-Type", "application/json");
      headers.set("Accept", "text/event-stream");
      if (!apiKey.isBlank()) {
        headers.set("Authorization", "Bearer " + apiKey);
      }
    });
  }

  @Override
  public Mono<ChatMessage> invoke(List<ChatMessage> messages, List<ToolSpec> tools, @Nullable TaskContext context) {
    return Mono.defer(() -> {
      String body = request(messages, tools);
      Completion completion = new Completion();
      return http.post().uri("/chat/completions")
          .send(ByteBufFlux.fromString(Mono.just(body)))
          .response((response, content) -> {
            int status = response.status().code();
            if (status / 100 != 2) {
              return content.aggregate().asString(StandardCharsets.UTF_8).defaultIfEmpty("")
                  .flatMap(text -> Mono.<Void>error(new ModelHttpException(status, text)));
            }
            return lines(content.asString(StandardCharsets.UTF_8))
                .concatMap(line -> completion.accept(line, context));
          })
          .then(Mono.fromCallable(completion::message));
    });
  }

  private String request(List<ChatMessage> messages, List<ToolSpec> tools) {
    ObjectNode request = JSON.createObjectNode();
    request.put("model", model);
    request.put("stream", true);
    ArrayNode wire = request.putArray("messages");
    for (ChatMessage message : messages) {
      ObjectNode node = wire.addObject();
      node.put("role", message.role());
      node.put("content", message.content());
      if (message.toolCallId() != null) {
        node.put("tool_call_id", message.toolCallId());
      }
      if (!message.toolCalls().isEmpty()) {
        ArrayNode calls = node.putArray("tool_calls");
        for (ToolCall call : message.toolCalls()) {
          ObjectNode wireCall = calls.addObject();
          wireCall.put("id", call.id());
          wireCall.put("type", "function");
          wireCall.putObject("function").put("name", call.name()).put("arguments", json(call.args()));
        }
      }
    }
    if (!tools.isEmpty()) {
      ArrayNode wireTools = request.putArray("tools");
      for (ToolSpec tool : tools) {
        ObjectNode function = wireTools.addObject().put("type", "function").putObject("function");
        function.put("name", tool.name()).put("description", tool.description());
        function.set("parameters", JSON.valueToTree(tool.parameters()));
      }
    }
    return request.toString();
  }

  /** Splits a stream of text chunks into lines, whatever the chunk boundaries. */
  static Flux<String> lines(Flux<String> chunks) {
    return Flux.defer(() -> {
      StringBuilder buffer = new StringBuilder();
      return chunks.concatMapIterable(chunk -> {
        buffer.append(chunk);
        List<String> lines = new ArrayList<>();
        int newline;
        while ((newline = buffer.indexOf("\n")) >= 0) {
          lines.add(buffer.substring(0, newline).replace("\r", ""));
          buffer.delete(0, newline + 1);
        }
        return lines;
      }).concatWith(Mono.fromCallable(buffer::toString).filter(rest -> !rest.isBlank()));
    });
  }

  private static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("tool arguments are not JSON-serializable", e);
    }
  }

  /** The assistant message being assembled from server-sent events. */
  private static final class Completion {
    private final StringBuilder content = new StringBuilder();
    private final TreeMap<Integer, String[]> calls = new TreeMap<>(); // index -> {id, name, arguments}
    private String id = "";

    Mono<Void> accept(String line, @Nullable TaskContext context) {
      if (!line.startsWith("data:")) {
        return Mono.empty();
      }
      String payload = line.substring(5).trim();
      if (payload.isEmpty() || payload.equals("[DONE]")) {
        return Mono.empty();
      }
      JsonNode event;
      try {
        event = JSON.readTree(payload);
      } catch (JsonProcessingException e) {
        return Mono.error(new IllegalStateException("the model endpoint sent an event that is not JSON: " + payload, e));
      }
      if (event.hasNonNull("id")) {
        id = event.get("id").asText();
      }
      JsonNode delta = event.path("choices").path(0).path("delta");
      for (JsonNode call : delta.path("tool_calls")) {
        String[] parts = calls.computeIfAbsent(call.path("index").asInt(calls.size()), index -> new String[] {"", "", ""});
        if (call.hasNonNull("id")) {
          parts[0] = call.get("id").asText();
        }
        JsonNode function = call.path("function");
        if (function.hasNonNull("name")) {
          parts[1] += function.get("name").asText();
        }
        if (function.hasNonNull("arguments")) {
          parts[2] += function.get("arguments").asText();
        }
      }
      String token = delta.path("content").isTextual() ? delta.get("content").asText() : "";
      if (token.isEmpty()) {
        return Mono.empty();
      }
      content.append(token);
      return context == null ? Mono.empty() : context.messages().write(ChatModel.tokenChunk(id, token));
    }

    ChatMessage message() throws JsonProcessingException {
      List<ToolCall> toolCalls = new ArrayList<>();
      for (String[] call : calls.values()) {
        Map<String, Object> args = call[2].isBlank() ? Map.of() : JSON.readValue(call[2], MAP);
        toolCalls.add(new ToolCall(call[0], call[1], args));
      }
      return ChatMessage.assistant(content.toString(), toolCalls, id.isEmpty() ? null : id);
    }
  }
}
