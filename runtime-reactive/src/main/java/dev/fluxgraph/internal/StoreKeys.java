package dev.fluxgraph.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.errors.SerializationException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** The rules every Store implementation applies to namespaces, keys, ttls and values. */
public final class StoreKeys {

  private StoreKeys() {
  }

  /** @throws IllegalArgumentException for an empty namespace, an empty label or one with '.', a blank key */
  public static void validate(List<String> namespace, String key) {
    validateNamespace(namespace);
    if (key.isBlank()) {
      throw new IllegalArgumentException("key must not be blank");
    }
  }

  public static void validateNamespace(List<String> namespace) {
    if (namespace.isEmpty()) {
      throw new IllegalArgumentException("namespace must not be empty");
    }
    for (String label : namespace) {
      if (label == null || label.isEmpty() || label.contains(".")) {
        throw new IllegalArgumentException("namespace labels must be non-empty and must not contain '.': "
            + namespace);
      }
    }
  }

  /** @throws IllegalArgumentException for a ttl that is not positive */
  public static void validateTtl(@Nullable Duration ttl) {
    if (ttl != null && (ttl.isZero() || ttl.isNegative())) {
      throw new IllegalArgumentException("ttl must be positive, was " + ttl);
    }
  }

  /** The value as a JSON object; the error names the namespace and key. */
  public static JsonNode toJson(List<String> namespace, String key, Map<String, Object> value) {
    try {
      return Json.toTree(value, () -> "the value");
    } catch (SerializationException e) {
      throw new SerializationException("the value for key '" + key + "' in namespace " + namespace
          + " is not JSON-serializable: " + e.getMessage(), e);
    }
  }
}
