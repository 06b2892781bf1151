package dev.fluxgraph.graph;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BinaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * Reducers for {@link StateGraph#reducer}: how a state key combines its current value with an update. Reducers
 * see plain JSON values (maps, lists, strings, numbers, booleans, null), as the state is stored.
 */
public final class Reducers {

  private Reducers() {
  }

  /** Appends: a list update adds all its elements, any other value is added as one element. */
  public static BinaryOperator<Object> append() {
    return (current, update) -> {
      List<Object> result = new ArrayList<>(asList(current));
      result.addAll(asList(update));
      return result;
    };
  }

  /**
   * A message list, like LangGraph's {@code add_messages}: each message of the update (one message or a list; a
   * message is an object with an {@code id}) replaces the message with the same id in place, or is appended; a
   * message without an id gets a fresh one; a message whose {@code type} is {@code "remove"} deletes the message
   * with its id.
   */
  public static BinaryOperator<Object> messages() {
    return (current, update) -> {
      List<Object> result = new ArrayList<>(asList(current));
      for (Object message : asList(update)) {
        if (!(message instanceof Map<?, ?> fields)) {
          throw new IllegalArgumentException("Reducers.messages() expects messages as objects with an id, got "
              + (message == null ? "null" : message.getClass().getSimpleName() + " " + message));
        }
        Object id = fields.get("id");
        if (id == null) {
          Map<String, Object> withId = new java.util.LinkedHashMap<>();
          fields.forEach((key, value) -> withId.put(String.valueOf(key), value));
          withId.put("id", UUID.randomUUID().toString());
          result.add(withId);
          continue;
        }
        int index = indexOf(result, id);
        if ("remove".equals(fields.get("type"))) {
          if (index < 0) {
            throw new IllegalArgumentException("cannot remove message '" + id + "': no message has that id");
          }
          result.remove(index);
        } else if (index >= 0) {
          result.set(index, message);
        } else {
          result.add(message);
        }
      }
      return result;
    };
  }

  private static int indexOf(List<Object> messages, Object id) {
    for (int i = 0; i < messages.size(); i++) {
      if (messages.get(i) instanceof Map<?, ?> existing && id.equals(existing.get("id"))) {
        return i;
      }
    }
    return -1;
  }

  private static List<?> asList(@Nullable Object value) {
    if (value == null) {
      return List.of();
    }
    if (value instanceof Collection<?> collection) {
      return new ArrayList<>(collection);
    }
    return List.of(value);
  }
}
