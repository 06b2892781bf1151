package dev.fluxgraph.messages;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A tool call requested by the model; LangChain's {@code ToolCall}, JSON {@code {"name", "args", "id",
 * "type": "tool_call"}}. A {@link ToolMessage} answers it by its id.
 *
 * @param name the tool's name
 * @param args the arguments, as parsed JSON; null reads as empty
 * @param id   the call's id (providers assign it), or null
 */
@JsonIgnoreProperties(value = "type", allowGetters = true, ignoreUnknown = true)
@JsonPropertyOrder({"name", "args", "id", "type"})
public record ToolCall(String name, Map<String, Object> args, @Nullable String id) {

  public ToolCall {
    Objects.requireNonNull(name, "name must not be null");
    args = Fields.map(args);
  }

  public static ToolCall of(String name, Map<String, Object> args, String id) {
    return new ToolCall(name, args, id);
  }

  @JsonProperty("type")
  public String type() {
    return "tool_call";
  }
}
