package dev.fluxgraph.store;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A value in the {@link Store}.
 *
 * @param namespace the namespace path, e.g. {@code ["users", "42", "memories"]}
 * @param key       the key within the namespace
 * @param value     the JSON-compatible value
 * @param createdAt when the key was first written
 * @param updatedAt when it was last written
 */
public record Item(List<String> namespace, String key, Map<String, Object> value, Instant createdAt,
                   Instant updatedAt) {
  public Item {
    namespace = List.copyOf(namespace);
    Objects.requireNonNull(key, "key must not be null");
    value = Collections.unmodifiableMap(new LinkedHashMap<>(value));
    Objects.requireNonNull(createdAt, "createdAt must not be null");
    Objects.requireNonNull(updatedAt, "updatedAt must not be null");
  }
}
