package dev.fluxgraph.samples.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A chat message as the OpenAI chat API and LangGraph's message reducer know it.
 *
 * @param role       system, user, assistant or tool
 * @param content    the text, possibly empty
 * @param toolCalls  tool calls requested by an assistant message
 * @param toolCallId for tool messages: the call answered
 * @param id         a stable id; the message reducer replaces messages by id
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record ChatMessage(String role, String content, List<ToolCall> toolCalls, @Nullable String toolCallId,
                          @Nullable String id) {
  public ChatMessage {
    Objects.requireNonNull(role, "role must not be null");
    content = content == null ? "" : content;
    toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
  }

  public static ChatMessage system(String content) {
    return new ChatMessage("system", content, List.of(), null, null);
  }

  public static ChatMessage user(String content) {
    return new ChatMessage("user", content, List.of(), null, null);
  }

  public static ChatMessage assistant(String content, List<ToolCall> toolCalls, @Nullable String id) {
    return new ChatMessage("assistant", content, toolCalls, null, id);
  }

  public static ChatMessage tool(String toolCallId, String content) {
    return new ChatMessage("tool", content, List.of(), toolCallId, null);
  }

  /** A copy with the given id. */
  public ChatMessage withId(String id) {
    return new ChatMessage(role, content, toolCalls, toolCallId, id);
  }

  /** A copy with other tool calls. */
  public ChatMessage withToolCalls(List<ToolCall> calls) {
    return new ChatMessage(role, content, calls, toolCallId, id);
  }
}
