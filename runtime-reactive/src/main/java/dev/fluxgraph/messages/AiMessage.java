package dev.fluxgraph.messages;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A message from the model; LangChain's {@code AIMessage}, JSON {@code {"content", "additional_kwargs",
 * "response_metadata", "type": "ai", "name", "id", "tool_calls", "invalid_tool_calls", "usage_metadata"}}.
 *
 * @param content            a string or a list of content blocks; null reads as {@code ""}
 * @param id                 the id, or null to have the message reducer assign one (a model client that streams
 *                           tokens gives the tokens and the final message the same id, so that the
 *                           {@code messages} stream does not show the message twice)
 * @param name               an optional author name; left out of the JSON when null (as LangChain does)
 * @param toolCalls          the tools the model asks to call; null reads as none
 * @param invalidToolCalls   tool calls that could not be parsed, as LangChain records them; null reads as none
 * @param usageMetadata      token counts, or null (then left out of the JSON, as LangChain does)
 * @param additionalKwargs   provider-specific extras; null reads as empty
 * @param responseMetadata   response metadata (model name, finish reason...); null reads as empty
 */
@JsonIgnoreProperties(value = "type", allowGetters = true, ignoreUnknown = true)
@JsonDeserialize(using = JsonDeserializer.None.class) // its own fields, not Message's coercion
@JsonSerialize(using = JsonSerializer.None.class)
@JsonPropertyOrder({"content", "additional_kwargs", "response_metadata", "type", "name", "id", "tool_calls",
    "invalid_tool_calls", "usage_metadata"})
public record AiMessage(Object content, @Nullable String id,
                        @JsonInclude(JsonInclude.Include.NON_NULL) @Nullable String name,
                        @JsonProperty("tool_calls") List<ToolCall> toolCalls,
                        @JsonProperty("invalid_tool_calls") List<Map<String, Object>> invalidToolCalls,
                        @JsonProperty("usage_metadata") @JsonInclude(JsonInclude.Include.NON_NULL)
                        @Nullable UsageMetadata usageMetadata,
                        @JsonProperty("additional_kwargs") Map<String, Object> additionalKwargs,
                        @JsonProperty("response_metadata") Map<String, Object> responseMetadata)
    implements Message {

  public AiMessage {
    content = Fields.content(content);
    toolCalls = Fields.list(toolCalls);
    invalidToolCalls = Fields.list(invalidToolCalls);
    additionalKwargs = Fields.map(additionalKwargs);
    responseMetadata = Fields.map(responseMetadata);
  }

  /** A model message with this text, no tool calls and no id. */
  public static AiMessage of(String content) {
    return new AiMessage(content, null, null, List.of(), List.of(), null, Map.of(), Map.of());
  }

  /** A model message asking for these tool calls (content may be empty). */
  public static AiMessage of(String content, List<ToolCall> toolCalls) {
    return new AiMessage(content, null, null, toolCalls, List.of(), null, Map.of(), Map.of());
  }

  @Override
  @JsonProperty("type")
  public String type() {
    return "ai";
  }

  @Override
  public AiMessage withId(String id) {
    return new AiMessage(content, Fields.id(id), name, toolCalls, invalidToolCalls, usageMetadata, additionalKwargs,
        responseMetadata);
  }

  /** A copy with these token counts. */
  public AiMessage withUsage(@Nullable UsageMetadata usage) {
    return new AiMessage(content, id, name, toolCalls, invalidToolCalls, usage, additionalKwargs, responseMetadata);
  }

  /** A copy with this response metadata. */
  public AiMessage withResponseMetadata(Map<String, Object> metadata) {
    return new AiMessage(content, id, name, toolCalls, invalidToolCalls, usageMetadata, additionalKwargs, metadata);
  }
}
