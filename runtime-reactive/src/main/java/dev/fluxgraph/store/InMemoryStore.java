package dev.fluxgraph.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.internal.Json;
import dev.fluxgraph.internal.StoreKeys;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A {@link Store} in memory. Values are normalized through JSON on {@code put}, so reads return plain JSON data
 * and never the caller's objects. Invalid arguments (empty namespace, a label that is empty or contains '.',
 * a blank key, a non-positive ttl) fail the returned publisher with {@link IllegalArgumentException}; null
 * arguments throw {@link NullPointerException} at call time. Thread-safe; every method is cold.
 */
public final class InMemoryStore implements Store {

  private final Clock clock;
  private final ConcurrentHashMap<Key, Stored> items = new ConcurrentHashMap<>();

  public InMemoryStore() {
    this(Clock.systemUTC());
  }

  /** A store whose timestamps and expiry follow {@code clock}. */
  public InMemoryStore(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock must not be null");
  }

  @Override
  public Mono<Void> put(List<String> namespace, String key, Map<String, Object> value, @Nullable Duration ttl) {
    Objects.requireNonNull(namespace, "namespace must not be null");
    Objects.requireNonNull(key, "key must not be null");
    Objects.requireNonNull(value, "value must not be null");
    return Mono.fromRunnable(() -> {
      StoreKeys.validate(namespace, key);
      StoreKeys.validateTtl(ttl);
      JsonNode json = StoreKeys.toJson(namespace, key, value);
      @SuppressWarnings("unchecked")
      Map<String, Object> plain = (Map<String, Object>) Json.toPlain((ObjectNode) json);
      Instant now = clock.instant();
      Instant expiresAt = ttl == null ? null : now.plus(ttl);
      Key id = new Key(List.copyOf(namespace), key);
      items.compute(id, (k, old) -> new Stored(new Item(id.namespace(), key, plain,
          old == null || old.expired(now) ? now : old.item().createdAt(), now), json, expiresAt));
    });
  }

  @Override
  public Mono<Item> get(List<String> namespace, String key) {
    Objects.requireNonNull(namespace, "namespace must not be null");
    Objects.requireNonNull(key, "key must not be null");
    return Mono.fromCallable(() -> {
      StoreKeys.validate(namespace, key);
      Stored stored = items.get(new Key(List.copyOf(namespace), key));
      return stored == null || stored.expired(clock.instant()) ? null : stored.item();
    });
  }

  @Override
  public Mono<Void> delete(List<String> namespace, String key) {
    Objects.requireNonNull(namespace, "namespace must not be null");
    Objects.requireNonNull(key, "key must not be null");
    return Mono.fromRunnable(() -> {
      StoreKeys.validate(namespace, key);
      items.remove(new Key(List.copyOf(namespace), key));
    });
  }

  @Override
  public Flux<Item> search(List<String> namespacePrefix, SearchOptions options) {
    Objects.requireNonNull(namespacePrefix, "namespacePrefix must not be null");
    Objects.requireNonNull(options, "options must not be null");
    return Flux.defer(() -> {
      Instant now = clock.instant();
      Map<String, JsonNode> filter = new java.util.LinkedHashMap<>();
      options.filter().forEach((field, expected) -> filter.put(field, Json.toTree(expected, () -> "filter " + field)));
      List<Stored> matches = new ArrayList<>();
      for (Stored stored : items.values()) {
        if (!stored.expired(now) && StoreKeys.startsWith(stored.item().namespace(), namespacePrefix)
            && matches(stored.json(), filter)) {
          matches.add(stored);
        }
      }
      matches.sort(Comparator.comparing((Stored s) -> s.item().updatedAt()).reversed()
          .thenComparing(s -> s.item().namespace(), StoreKeys.NAMESPACE_ORDER)
          .thenComparing(s -> s.item().key()));
      return Flux.fromIterable(matches).skip(options.offset()).take(options.limit()).map(Stored::item);
    });
  }

  @Override
  public Flux<List<String>> listNamespaces(NamespaceQuery query) {
    Objects.requireNonNull(query, "query must not be null");
    return Flux.defer(() -> {
      Instant now = clock.instant();
      List<List<String>> namespaces = new ArrayList<>();
      for (Stored stored : items.values()) {
        if (!stored.expired(now)) {
          namespaces.add(stored.item().namespace());
        }
      }
      return Flux.fromIterable(StoreKeys.selectNamespaces(namespaces, query));
    });
  }

  private static boolean matches(JsonNode value, Map<String, JsonNode> filter) {
    for (Map.Entry<String, JsonNode> entry : filter.entrySet()) {
      JsonNode actual = value.get(entry.getKey());
      if (actual == null || !sameJson(actual, entry.getValue())) {
        return false;
      }
    }
    return true;
  }

  private static boolean sameJson(JsonNode a, JsonNode b) {
    if (a.isNumber() && b.isNumber()) {
      return a.decimalValue().compareTo(b.decimalValue()) == 0;
    }
    return a.equals(b);
  }

  private record Key(List<String> namespace, String key) {
  }

  private record Stored(Item item, JsonNode json, @Nullable Instant expiresAt) {
    boolean expired(Instant now) {
      return expiresAt != null && !now.isBefore(expiresAt);
    }
  }
}
