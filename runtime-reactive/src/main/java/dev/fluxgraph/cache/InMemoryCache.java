package dev.fluxgraph.cache;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * A {@link Cache} in memory, shared by every run that uses this instance.
 *
 * <p>Expiry follows the clock ({@link Clock#systemUTC()} by default): an entry is gone once its ttl has passed,
 * and is dropped by the read that finds it expired. Values are kept as given (JSON values are immutable by
 * contract). Nothing bounds the number of entries; {@link #clear} empties a namespace.
 *
 * <p>Every method is cold: it does its work when subscribed, on the subscribing thread, and completes before
 * {@code subscribe} returns. The cache is thread-safe and never blocks.
 *
 * <p>Errors: a null argument throws {@link NullPointerException} when the method is called; a non-positive ttl
 * fails the returned publisher with {@link IllegalArgumentException}.
 */
public final class InMemoryCache implements Cache {

  private final Clock clock;
  private final ConcurrentHashMap<String, ConcurrentHashMap<String, Entry>> namespaces = new ConcurrentHashMap<>();

  /** An empty cache on the system UTC clock. */
  public InMemoryCache() {
    this(Clock.systemUTC());
  }

  /** An empty cache whose expiry follows {@code clock} (for tests). */
  public InMemoryCache(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock must not be null");
  }

  @Override
  public Mono<JsonNode> get(String namespace, String key) {
    Objects.requireNonNull(namespace, "namespace must not be null");
    Objects.requireNonNull(key, "key must not be null");
    return Mono.fromCallable(() -> {
      ConcurrentHashMap<String, Entry> entries = namespaces.get(namespace);
      Entry entry = entries == null ? null : entries.get(key);
      if (entry == null) {
        return null;
      }
      if (entry.expiresAt != null && !clock.instant().isBefore(entry.expiresAt)) {
        // Removes only this entry: a fresh value put meanwhile stays.
        entries.remove(key, entry);
        return null;
      }
      return entry.value;
    });
  }

  @Override
  public Mono<Void> put(String namespace, String key, JsonNode value, @Nullable Duration ttl) {
    Objects.requireNonNull(namespace, "namespace must not be null");
    Objects.requireNonNull(key, "key must not be null");
    Objects.requireNonNull(value, "value must not be null");
    return Mono.fromRunnable(() -> {
      if (ttl != null && (ttl.isZero() || ttl.isNegative())) {
        throw new IllegalArgumentException("ttl must be positive, was " + ttl);
      }
      namespaces.computeIfAbsent(namespace, ns -> new ConcurrentHashMap<>())
          .put(key, new Entry(value, ttl == null ? null : clock.instant().plus(ttl)));
    });
  }

  @Override
  public Mono<Void> clear(String namespace) {
    Objects.requireNonNull(namespace, "namespace must not be null");
    return Mono.fromRunnable(() -> namespaces.remove(namespace));
  }

  private record Entry(JsonNode value, @Nullable Instant expiresAt) {
  }
}
