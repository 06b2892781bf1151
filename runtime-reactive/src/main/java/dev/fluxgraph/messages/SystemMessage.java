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
import org.jspecify.annotations.Nullable;

/**
 * Instructions for the model; LangChain's {@code SystemMessage}, JSON {@code {"content", "additional_kwargs",
 * "response_metadata", "type": "system", "name", "id"}}. A role-style {@code developer} message becomes a system
 * message with {@code additional_kwargs.__openai_role__ = "developer"}, as in LangChain.
 *
 * @param content            a string or a list of content blocks; null reads as {@code ""}
 * @param id                 the id, or null to have the message reducer assign one
 * @param name               an optional author name; left out of the JSON when null (as LangChain does)
 * @param additionalKwargs   provider-specific extras; null reads as empty
 * @param responseMetadata   metadata; null reads as empty
 */
@JsonIgnoreProperties(value = "type", allowGetters = true, ignoreUnknown = true)
@JsonDeserialize(using = JsonDeserializer.None.class) // its own fields, not Message's coercion
@JsonSerialize(using = JsonSerializer.None.class)
@JsonPropertyOrder({"content", "additional_kwargs", "response_metadata", "type", "name", "id"})
public record SystemMessage(Object content, @Nullable String id,
                            @JsonInclude(JsonInclude.Include.NON_NULL) @Nullable String name,
                            @JsonProperty("additional_kwargs") Map<String, Object> additionalKwargs,
                            @JsonProperty("response_metadata") Map<String, Object> responseMetadata)
    implements Message {

  public SystemMessage {
    content = Fields.content(content);
    additionalKwargs = Fields.map(additionalKwargs);
    responseMetadata = Fields.map(responseMetadata);
  }

  /** A system message with this text and no id. */
  public static SystemMessage of(String content) {
    return new SystemMessage(content, null, null, Map.of(), Map.of());
  }

  @Override
  @JsonProperty("type")
  public String type() {
    return "system";
  }

  @Override
  public SystemMessage withId(String id) {
    return new SystemMessage(content, Fields.id(id), name, additionalKwargs, responseMetadata);
  }
}
