package dev.fluxgraph.messages;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import dev.fluxgraph.internal.MessageDeserializer;
import dev.fluxgraph.internal.MessageSerializer;
import dev.fluxgraph.internal.MessageShapes;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A chat message in LangChain's JSON shape. Deserializing into {@code Message} (for example a state field
 * {@code List<Message> messages}) accepts what {@link #of} accepts: LangChain's JSON (the record is picked by
 * {@code type}: {@code human}, {@code ai}, {@code system}, {@code tool}, {@code remove}, or a chunk type such as
 * {@code AIMessageChunk}), role-style maps, LangChain-serialized maps and strings.
 */
@JsonDeserialize(using = MessageDeserializer.class)
@JsonSerialize(using = MessageSerializer.class)
public sealed interface Message permits HumanMessage, AiMessage, SystemMessage, ToolMessage, RemoveMessage {

  /** LangChain's type: {@code human}, {@code ai}, {@code system}, {@code tool} or {@code remove}. */
  String type();

  /** A string, or a list of content blocks (strings or maps such as {@code {"type": "text", "text": ...}}). */
  Object content();

  /** The message's id; null until the message reducer assigns one. */
  @Nullable String id();

  /** An optional name of the author. */
  @Nullable String name();

  /** A copy with this id. */
  Message withId(String id);

  /** The content as text: the string, or the text blocks (strings, {@code {"type": "text"}} blocks) joined. */
  default String text() {
    if (content() instanceof String text) {
      return text;
    }
    StringBuilder text = new StringBuilder();
    for (Object block : (List<?>) content()) {
      if (block instanceof String part) {
        text.append(part);
      } else if (block instanceof Map<?, ?> map && "text".equals(map.get("type")) && map.get("text") != null) {
        text.append(map.get("text"));
      }
    }
    return text.toString();
  }

  /**
   * The message a message-like value stands for, coerced as {@code Reducers.messages()} does: a {@code Message}
   * as it is; a string as a human message; a map with a {@code role} ({@code user}, {@code assistant},
   * {@code system}, {@code developer}, {@code tool}) or a {@code type} ({@code human}, {@code ai}, ...), its other
   * keys read as the message's fields (unknown ones go to {@code additional_kwargs}; OpenAI-style tool calls are
   * converted); or a LangChain-serialized map ({@code {"lc": 1, "type": "constructor", "id": [..., "AIMessage"],
   * "kwargs": {...}}}).
   *
   * @throws IllegalArgumentException naming the value when it is none of these
   */
  static Message of(Object messageLike) {
    return MessageShapes.toMessage(messageLike);
  }
}
