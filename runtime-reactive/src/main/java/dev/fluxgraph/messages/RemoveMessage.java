package dev.fluxgraph.messages;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An instruction to {@code Reducers.messages()}: delete the message with this id, or, with {@link #all()}, every
 * message before it in the update (LangChain's {@code RemoveMessage} and {@code REMOVE_ALL_MESSAGES}). JSON
 * {@code {"content": "", "additional_kwargs": {}, "response_metadata": {}, "type": "remove", "id"}} (no
 * {@code name}: LangChain leaves a null name out). Never part of a state: the reducer applies it.
 *
 * @param id the id of the message to delete, or {@link #REMOVE_ALL}
 */
@JsonIgnoreProperties(value = {"type", "content", "name", "additional_kwargs", "response_metadata"},
    allowGetters = true, ignoreUnknown = true)
@JsonDeserialize(using = JsonDeserializer.None.class) // its own fields, not Message's coercion
@JsonSerialize(using = JsonSerializer.None.class)
@JsonPropertyOrder({"content", "additional_kwargs", "response_metadata", "type", "name", "id"})
public record RemoveMessage(String id) implements Message {

  /** The id that removes every message: the state keeps only the messages after it in the same update. */
  public static final String REMOVE_ALL = "__remove_all__";

  public RemoveMessage {
    id = Fields.id(id);
  }

  /** Deletes the message with this id (an error in the reducer when there is none). */
  public static RemoveMessage of(String id) {
    return new RemoveMessage(id);
  }

  /** Deletes every message; the messages after it in the same update are the new list. */
  public static RemoveMessage all() {
    return new RemoveMessage(REMOVE_ALL);
  }

  @Override
  @JsonProperty("type")
  public String type() {
    return "remove";
  }

  @Override
  @JsonProperty("content")
  public Object content() {
    return "";
  }

  @Override
  @JsonIgnore // always null, and LangChain leaves a null name out
  public @Nullable String name() {
    return null;
  }

  @JsonProperty("additional_kwargs")
  Map<String, Object> additionalKwargs() {
    return Map.of();
  }

  @JsonProperty("response_metadata")
  Map<String, Object> responseMetadata() {
    return Map.of();
  }

  @Override
  public RemoveMessage withId(String id) {
    return new RemoveMessage(id);
  }

  @JsonIgnore
  public boolean removesAll() {
    return id.equals(REMOVE_ALL);
  }
}
