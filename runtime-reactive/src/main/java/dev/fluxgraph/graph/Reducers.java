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
          result.add(withFreshId(fields));
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

  /**
   * The message with a fresh id. The id is also written into the update's own map when it can be, so that every
   * reduction of the same update (a node's conditional edges see the state with its update applied before the
   * superstep is reduced) gives the message the same id.
   */
  @SuppressWarnings("unchecked")
  private static Map<?, ?> withFreshId(Map<?, ?> message) {
    String id = UUID.randomUUID().toString();
    try {
      ((Map<String, Object>) message).put("id", id);
      return message;
    } catch (UnsupportedOperationException | ClassCastException e) {
      Map<String, Object> copy = new java.util.LinkedHashMap<>();
      message.forEach((key, value) -> copy.put(String.valueOf(key), value));
      copy.put("id", id);
      return copy;
    }
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
