package dev.fluxgraph.graph;

import dev.fluxgraph.internal.MessagesReducer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
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
   * A message list, like LangGraph's {@code add_messages}. An update is one message-like value or a collection of
   * them: a {@link dev.fluxgraph.messages.Message} record, a string (a human message), a map with a {@code role}
   * ({@code user}, {@code assistant}, {@code system}, {@code developer}, {@code tool}) or a {@code type}
   * ({@code human}, {@code ai}, {@code system}, {@code tool}, {@code remove}), or a LangChain-serialized map
   * ({@code {"lc": 1, "type": "constructor", "id": [..., "HumanMessage"], "kwargs": {...}}}). Each is stored in
   * LangChain's JSON shape (the records' JSON: role-style maps get their {@code type}, unknown keys go to
   * {@code additional_kwargs}); a map with neither role nor type is stored as it is. A message without an id gets a
   * fresh one (in a graph, node updates get theirs before they are recorded, so a replay keeps them). A message whose
   * id is already in the list replaces it in place, others are appended; a {@code remove} message deletes the
   * message with its id (an unknown id is an error), and {@link dev.fluxgraph.messages.RemoveMessage#all()} deletes
   * every message before it. Anything else (a number, a null message) is refused with an
   * {@code IllegalArgumentException} naming it.
   */
  public static BinaryOperator<Object> messages() {
    return MessagesReducer.INSTANCE;
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
