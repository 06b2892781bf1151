package dev.fluxgraph.messages;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** Checks and defaults shared by the message records. */
final class Fields {

  private Fields() {
  }

  /** A string or a list of content blocks (copied); null is {@code ""}. */
  static Object content(@Nullable Object content) {
    if (content == null) {
      return "";
    }
    if (content instanceof String) {
      return content;
    }
    if (content instanceof List<?> blocks) {
      return Collections.unmodifiableList(new ArrayList<>(blocks));
    }
    throw new IllegalArgumentException("message content must be a string or a list of content blocks, got "
        + content.getClass().getSimpleName() + " " + content);
  }

  /** An unmodifiable copy keeping insertion order (JSON maps may hold nulls); null is empty. */
  static Map<String, Object> map(@Nullable Map<String, Object> map) {
    return map == null || map.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }

  static <T> List<T> list(@Nullable List<T> list) {
    return list == null || list.isEmpty() ? List.of() : Collections.unmodifiableList(new ArrayList<>(list));
  }

  static String id(String id) {
    Objects.requireNonNull(id, "id must not be null");
    if (id.isBlank()) {
      throw new IllegalArgumentException("a message id must not be blank");
    }
    return id;
  }
}
