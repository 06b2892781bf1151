package dev.fluxgraph.cache;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * A cache of task results shared across runs and threads. Entries live in a namespace (the task name) under a
 * key (from the task's {@code CachePolicy}). All methods are cold and thread-safe.
 */
public interface Cache {

  /** The cached value, or empty when absent or expired. */
  Mono<JsonNode> get(String namespace, String key);

  /** Stores a value that expires after {@code ttl}, or never when {@code ttl} is null. */
  Mono<Void> put(String namespace, String key, JsonNode value, @Nullable Duration ttl);

  /** Removes every entry of the namespace. */
  Mono<Void> clear(String namespace);
}
