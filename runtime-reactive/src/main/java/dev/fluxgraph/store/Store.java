package dev.fluxgraph.store;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Long-term memory shared across threads: JSON-compatible maps under a namespace path and a key. All methods
 * are cold and thread-safe. Values are stored as JSON, so what comes back is plain JSON data (maps, lists,
 * strings, numbers, booleans, null). Implementations are checked by the abstract {@code StoreContract} test in
 * this module's test-jar.
 */
public interface Store {

  /** Creates or replaces the value under {@code namespace} and {@code key}; it never expires. */
  default Mono<Void> put(List<String> namespace, String key, Map<String, Object> value) {
    return put(namespace, key, value, null);
  }

  /** Creates or replaces the value; it expires after {@code ttl} (positive), or never when null. */
  Mono<Void> put(List<String> namespace, String key, Map<String, Object> value, @Nullable Duration ttl);

  /** The item, or empty when absent or expired; its expiry is left as it is. */
  default Mono<Item> get(List<String> namespace, String key) {
    return get(namespace, key, false);
  }

  /**
   * The item, or empty when absent or expired; with {@code refreshTtl}, an item put with a ttl expires that ttl after
   * this read (one without a ttl stays without).
   */
  Mono<Item> get(List<String> namespace, String key, boolean refreshTtl);

  /** Deletes the item; deleting an absent item is not an error. */
  Mono<Void> delete(List<String> namespace, String key);

  /**
   * Items whose namespace starts with {@code namespacePrefix} and whose value matches every filter, most
   * recently updated first (ties by namespace, then key), paged by the options' offset and limit. With the options'
   * {@code refreshTtl}, the items returned that were put with a ttl expire that ttl after this search.
   */
  Flux<Item> search(List<String> namespacePrefix, SearchOptions options);

  /** The distinct namespaces holding at least one item, sorted, filtered and paged by the query. */
  Flux<List<String>> listNamespaces(NamespaceQuery query);
}
