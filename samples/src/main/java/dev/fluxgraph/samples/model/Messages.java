package dev.fluxgraph.samples.model;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** LangGraph's {@code add_messages} for {@link ChatMessage}s. */
public final class Messages {

  private Messages() {
  }

  /**
   * {@code left} followed by {@code right}, where a message of {@code right} whose id is already in {@code left}
   * replaces it in place. Messages without an id get a new one, so they can be replaced later.
   */
  public static List<ChatMessage> add(List<ChatMessage> left, List<ChatMessage> right) {
    List<ChatMessage> merged = new ArrayList<>(left.size() + right.size());
    for (ChatMessage message : left) {
      merged.add(message.id() == null ? message.withId(UUID.randomUUID().toString()) : message);
    }
    for (ChatMessage message : right) {
      ChatMessage withId = message.id() == null ? message.withId(UUID.randomUUID().toString()) : message;
      int existing = -1;
      for (int i = 0; i < merged.size(); i++) {
        if (merged.get(i).id().equals(withId.id())) {
          existing = i;
          break;
        }
      }
      if (existing >= 0) {
        merged.set(existing, withId);
      } else {
        merged.add(withId);
      }
    }
    return merged;
  }
}
