package dev.fluxgraph.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.errors.SerializationException;
import dev.fluxgraph.store.NamespaceQuery;
import java.time.Duration;
import java.util.Collection;
import java.util.Comparator;
import java.util.TreeSet;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** The rules every Store implementation applies to namespaces, keys, ttls and values. */
public final class StoreKeys {

  /** Namespaces compared label by label, a prefix before its extensions. */
  public static final Comparator<List<String>> NAMESPACE_ORDER = (a, b) -> {
    for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
      int c = a.get(i).compareTo(b.get(i));
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(a.size(), b.size());
  };

  private StoreKeys() {
  }

  /**
   * What {@code Store.listNamespaces} returns for the namespaces holding items: those matching the query's prefix
   * and suffix, cut to its depth, deduplicated, sorted, then paged.
   */
  public static List<List<String>> selectNamespaces(Collection<List<String>> namespaces, NamespaceQuery query) {
    TreeSet<List<String>> selected = new TreeSet<>(NAMESPACE_ORDER);
    for (List<String> namespace : namespaces) {
      if (startsWith(namespace, query.prefix()) && endsWith(namespace, query.suffix())) {
        selected.add(List.copyOf(namespace.size() > query.maxDepth()
            ? namespace.subList(0, query.maxDepth()) : namespace));
      }
    }
    return selected.stream().skip(query.offset()).limit(query.limit()).toList();
  }

  public static boolean startsWith(List<String> namespace, List<String> prefix) {
    return namespace.size() >= prefix.size() && namespace.subList(0, prefix.size()).equals(prefix);
  }

  private static boolean endsWith(List<String> namespace, List<String> suffix) {
    return namespace.size() >= suffix.size()
        && namespace.subList(namespace.size() - suffix.size(), namespace.size()).equals(suffix);
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
