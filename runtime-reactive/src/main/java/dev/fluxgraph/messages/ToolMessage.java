package dev.fluxgraph.messages;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The result of a tool call; LangChain's {@code ToolMessage}, JSON {@code {"content", "additional_kwargs",
 * "response_metadata", "type": "tool", "name", "id", "tool_call_id", "artifact", "status"}}.
 *
 * @param content            a string or a list of content blocks; null reads as {@code ""}
 * @param toolCallId         the id of the {@link ToolCall} answered
 * @param id                 the id, or null to have the message reducer assign one
 * @param name               the tool's name, or null (then left out of the JSON, as LangChain does)
 * @param status             {@code "success"} or {@code "error"}; null reads as {@code "success"}
 * @param artifact           a result not meant for the model (LangChain's {@code artifact}), or null
 * @param additionalKwargs   provider-specific extras; null reads as empty
 * @param responseMetadata   metadata; null reads as empty
 */
@JsonIgnoreProperties(value = "type", allowGetters = true, ignoreUnknown = true)
@JsonDeserialize(using = JsonDeserializer.None.class) // its own fields, not Message's coercion
@JsonSerialize(using = JsonSerializer.None.class)
@JsonPropertyOrder({"content", "additional_kwargs", "response_metadata", "type", "name", "id", "tool_call_id",
    "artifact", "status"})
public record ToolMessage(Object content, @JsonProperty("tool_call_id") String toolCallId, @Nullable String id,
                          @JsonInclude(JsonInclude.Include.NON_NULL) @Nullable String name, String status,
                          @Nullable Object artifact,
                          @JsonProperty("additional_kwargs") Map<String, Object> additionalKwargs,
                          @JsonProperty("response_metadata") Map<String, Object> responseMetadata)
    implements Message {

  public ToolMessage {
    content = Fields.content(content);
    Objects.requireNonNull(toolCallId, "toolCallId must not be null: a tool message answers a tool call");
    status = status == null ? "success" : status;
    if (!status.equals("success") && !status.equals("error")) {
      throw new IllegalArgumentException("a tool message's status is \"success\" or \"error\", got \"" + status
          + "\"");
    }
    additionalKwargs = Fields.map(additionalKwargs);
    responseMetadata = Fields.map(responseMetadata);
  }

  /** A successful result of the tool call {@code toolCallId}. */
  public static ToolMessage of(String toolCallId, Object content) {
    return new ToolMessage(content, toolCallId, null, null, "success", null, Map.of(), Map.of());
  }

  /** A failed tool call: its error text as content, status {@code "error"}. */
  public static ToolMessage error(String toolCallId, String error) {
    return new ToolMessage(error, toolCallId, null, null, "error", null, Map.of(), Map.of());
  }

  @Override
  @JsonProperty("type")
  public String type() {
    return "tool";
  }

  @Override
  public ToolMessage withId(String id) {
    return new ToolMessage(content, toolCallId, Fields.id(id), name, status, artifact, additionalKwargs,
        responseMetadata);
  }

  /** A copy naming the tool. */
  public ToolMessage withName(@Nullable String name) {
    return new ToolMessage(content, toolCallId, id, name, status, artifact, additionalKwargs, responseMetadata);
  }
}
