package dev.fluxgraph.internal;

import dev.fluxgraph.messages.RemoveMessage;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.BinaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * {@code Reducers.messages()}: LangGraph's {@code add_messages}. The update (one message-like value or a
 * collection) is coerced to messages ({@link MessageShapes}), each without an id gets a fresh one; a message whose id
 * is already in the list replaces it in place, a new one is appended, a remove message deletes its id (an unknown id
 * is an error) and {@link RemoveMessage#REMOVE_ALL} drops everything before it. The graph loop also calls
 * {@link #prepare} on node updates before recording them, so assigned ids replay.
 */
public final class MessagesReducer implements BinaryOperator<Object> {

  public static final MessagesReducer INSTANCE = new MessagesReducer();

  private MessagesReducer() {
  }

  @Override
  public Object apply(@Nullable Object current, @Nullable Object update) {
    List<Object> merged = new ArrayList<>();
    for (Object message : asList(current)) { // the state's own messages are canonical already: only ids are checked
      merged.add(message instanceof Map<?, ?> map && map.get("id") != null ? message : withId(message));
    }
    List<Map<String, Object>> right = new ArrayList<>();
    for (Object message : asList(update)) {
      right.add(withId(message));
    }
    for (int i = right.size() - 1; i >= 0; i--) {
      if (removal(right.get(i)) && RemoveMessage.REMOVE_ALL.equals(right.get(i).get("id"))) {
        merged.clear();
        right = right.subList(i + 1, right.size());
        break;
      }
    }
    Map<Object, Integer> byId = new HashMap<>();
    for (int i = 0; i < merged.size(); i++) {
      if (merged.get(i) instanceof Map<?, ?> map) {
        byId.put(map.get("id"), i);
      }
    }
    Set<Object> removed = new HashSet<>();
    for (Map<String, Object> message : right) {
      Object id = message.get("id");
      Integer existing = byId.get(id);
      if (removal(message)) {
        if (existing == null) {
          throw new IllegalArgumentException("cannot remove message '" + id + "': no message has that id");
        }
        removed.add(id);
      } else if (existing != null) {
        removed.remove(id);
        merged.set(existing, message);
      } else {
        byId.put(id, merged.size());
        merged.add(message);
      }
    }
    if (!removed.isEmpty()) {
      merged.removeIf(message -> message instanceof Map<?, ?> map && removed.contains(map.get("id")));
    }
    return merged;
  }

  /**
   * The update's messages in their canonical form with ids: a list for a collection, one message otherwise (null
   * stays null). Ids assigned here are also written into the update's own maps when they can be.
   */
  public @Nullable Object prepare(@Nullable Object update) {
    if (update == null) {
      return null;
    }
    if (update instanceof Collection<?> messages) {
      List<Object> prepared = new ArrayList<>(messages.size());
      for (Object message : messages) {
        prepared.add(withId(message));
      }
      return prepared;
    }
    return withId(update);
  }

  /** The canonical message, with a fresh id when it has none. */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> withId(@Nullable Object message) {
    if (message == null) {
      throw new IllegalArgumentException("Reducers.messages() got a null message");
    }
    Map<String, Object> canonical = MessageShapes.toPlain(message);
    if (canonical.get("id") == null) {
      String id = UUID.randomUUID().toString();
      canonical.put("id", id);
      if (message instanceof Map<?, ?> original) { // so that reducing the same update again gives the same id
        try {
          ((Map<String, Object>) original).put("id", id);
        } catch (UnsupportedOperationException | ClassCastException immutable) {
          // an immutable update: the graph loop prepared node updates before recording them
        }
      }
    }
    return canonical;
  }

  private static boolean removal(Map<String, Object> message) {
    return "remove".equals(message.get("type"));
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
