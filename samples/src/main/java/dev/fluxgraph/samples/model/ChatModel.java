package dev.fluxgraph.samples.model;

import dev.fluxgraph.func.TaskContext;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * A chat model. {@link #invoke} streams the completion; when given a task's context, every token is written to
 * its {@code messages()} writer as it arrives, so {@code stream(..., MESSAGES)} shows it with the task's name.
 */
public interface ChatModel {

  /** The complete assistant message. Cold. */
  Mono<ChatMessage> invoke(List<ChatMessage> messages, List<ToolSpec> tools, @Nullable TaskContext context);

  /** {@link #invoke} without tools. */
  default Mono<ChatMessage> invoke(List<ChatMessage> messages, @Nullable TaskContext context) {
    return invoke(messages, List.of(), context);
  }

  /**
   * The model configured by the environment: {@code OPENAI_BASE_URL} (e.g. {@code https://api.openai.com/v1},
   * a vLLM, Ollama or llama.cpp server's {@code /v1}), {@code OPENAI_API_KEY} and {@code OPENAI_MODEL}
   * (default {@code gpt-4o-mini}); without {@code OPENAI_BASE_URL}, the deterministic {@link OfflineChatModel}.
   */
  static ChatModel fromEnvironment() {
    return fromEnvironment(System.getenv());
  }

  /** {@link #fromEnvironment()} over the given variables. */
  static ChatModel fromEnvironment(Map<String, String> environment) {
    String baseUrl = environment.get("OPENAI_BASE_URL");
    if (baseUrl == null || baseUrl.isBlank()) {
      return new OfflineChatModel();
    }
    return new OpenAiChatModel(baseUrl, environment.getOrDefault("OPENAI_API_KEY", ""),
        environment.getOrDefault("OPENAI_MODEL", "gpt-4o-mini"));
  }

  /** The text of a token chunk as written to {@code messages()}: LangGraph's AIMessageChunk shape. */
  static Map<String, Object> tokenChunk(String id, String content) {
    return Map.of("type", "AIMessageChunk", "id", id, "content", content);
  }
}
