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
 * A {@link Cache} in memory, shared by every run that uses this instance. Expiry is checked against the clock
 * on read (expired entries are dropped then). Thread-safe; every method is cold and completes synchronously.
 */
public final class InMemoryCache implements Cache {

  private final Clock clock;
  private final ConcurrentHashMap<String, ConcurrentHashMap<String, Entry>> namespaces = new ConcurrentHashMap<>();

  /** A cache using the system UTC clock. */
  public InMemoryCache() {
    this(Clock.systemUTC());
  }

  /** A cache whose expiry follows {@code clock} (for tests). */
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
    if (ttl != null && (ttl.isZero() || ttl.isNegative())) {
      throw new IllegalArgumentException("ttl must be positive, was " + ttl);
    }
    return Mono.fromRunnable(() -> namespaces.computeIfAbsent(namespace, ns -> new ConcurrentHashMap<>())
        .put(key, new Entry(value, ttl == null ? null : clock.instant().plus(ttl))));
  }

  @Override
  public Mono<Void> clear(String namespace) {
    Objects.requireNonNull(namespace, "namespace must not be null");
    return Mono.fromRunnable(() -> namespaces.remove(namespace));
  }

  private record Entry(JsonNode value, @Nullable Instant expiresAt) {
  }
}
