package dev.fluxgraph.store;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.errors.SerializationException;
import dev.fluxgraph.internal.Json;
import dev.fluxgraph.internal.StoreKeys;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A {@link Store} that keeps its items in memory: for tests, samples and processes that may lose their memories
 * when they exit.
 *
 * <p>Values are normalized through JSON text on {@code put}, so reads return plain JSON data (maps, lists,
 * strings, {@code Integer}/{@code Long}/{@code BigInteger}/{@code Double} numbers, booleans, null), the same
 * data a store that persists JSON text returns. They never share state with the caller's objects, and are
 * unmodifiable at every depth, since one item is handed to every reader.
 *
 * <p>Timestamps and expiry follow the clock ({@link Clock#systemUTC()} by default). An item whose ttl has passed
 * is invisible to {@code get}, {@code search} and {@code listNamespaces}; it is dropped when a read comes across
 * it, or replaced by the next {@code put} of its key, which starts a new {@code createdAt}.
 *
 * <p>Every method is cold: it does its work when subscribed, on the subscribing thread, and completes before
 * {@code subscribe} returns. The store is thread-safe and never blocks. {@code search} and
 * {@code listNamespaces} scan every item, which suits the small stores this class is meant for.
 *
 * <p>Errors: a null argument throws {@link NullPointerException} when the method is called. Invalid values (an
 * empty namespace, a label that is empty or contains '.', a blank key, a non-positive ttl) fail the returned
 * publisher with {@link IllegalArgumentException}; a value that cannot be written as JSON fails {@code put} with
 * {@link SerializationException} naming the namespace and key.
 */
public final class InMemoryStore implements Store {

  /** Most recently updated first, then by namespace (labels joined with '.') and key. */
  private static final Comparator<Stored> SEARCH_ORDER = Comparator.comparing((Stored s) -> s.item().updatedAt())
      .reversed()
      .thenComparing(Stored::path)
      .thenComparing(s -> s.item().key());

  /** JSON equality at every depth: numbers are equal by value (30, 30L and 30.0 alike), as in JSON. */
  private static final Comparator<JsonNode> SAME_JSON = (a, b) -> {
    if (a.isNumber() && b.isNumber() && finite(a) && finite(b)) {
      return a.decimalValue().compareTo(b.decimalValue());
    }
    return a.equals(b) ? 0 : 1;
  };

  private final Clock clock;
  private final ConcurrentHashMap<Key, Stored> items = new ConcurrentHashMap<>();

  /** An empty store on the system UTC clock. */
  public InMemoryStore() {
    this(Clock.systemUTC());
  }

  /** An empty store whose timestamps and expiry follow {@code clock} (for tests). */
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
      JsonNode json = normalize(namespace, key, value);
      @SuppressWarnings("unchecked")
      Map<String, Object> plain = (Map<String, Object>) plain(json);
      Key id = new Key(namespace, key);
      Instant now = clock.instant();
      Instant expiresAt = ttl == null ? null : now.plus(ttl);
      items.compute(id, (k, old) -> {
        Instant createdAt = old == null || old.expired(now) ? now : old.item().createdAt();
        return new Stored(new Item(k.namespace(), key, plain, createdAt, now), json, k.path(), ttl, expiresAt);
      });
    });
  }

  @Override
  public Mono<Item> get(List<String> namespace, String key, boolean refreshTtl) {
    Objects.requireNonNull(namespace, "namespace must not be null");
    Objects.requireNonNull(key, "key must not be null");
    return Mono.fromCallable(() -> {
      StoreKeys.validate(namespace, key);
      Key id = new Key(namespace, key);
      Stored stored = items.get(id);
      if (stored == null) {
        return null;
      }
      Instant now = clock.instant();
      if (stored.expired(now)) {
        items.remove(id, stored);
        return null;
      }
      if (refreshTtl) {
        refresh(id, stored, now);
      }
      return stored.item();
    });
  }

  /** Moves the item's expiry to its ttl from {@code now}, unless it was replaced meanwhile or has no ttl. */
  private void refresh(Key id, Stored stored, Instant now) {
    Duration ttl = stored.ttl();
    if (ttl != null) {
      items.replace(id, stored, new Stored(stored.item(), stored.json(), stored.path(), ttl, now.plus(ttl)));
    }
  }

  @Override
  public Mono<Void> delete(List<String> namespace, String key) {
    Objects.requireNonNull(namespace, "namespace must not be null");
    Objects.requireNonNull(key, "key must not be null");
    return Mono.fromRunnable(() -> {
      StoreKeys.validate(namespace, key);
      items.remove(new Key(namespace, key));
    });
  }

  @Override
  public Flux<Item> search(List<String> namespacePrefix, SearchOptions options) {
    Objects.requireNonNull(namespacePrefix, "namespacePrefix must not be null");
    Objects.requireNonNull(options, "options must not be null");
    return Flux.defer(() -> {
      if (!namespacePrefix.isEmpty()) {
        StoreKeys.validateNamespace(namespacePrefix);
      }
      Map<String, JsonNode> filter = new LinkedHashMap<>();
      options.filter().forEach((field, expected) ->
          filter.put(field, Json.toTree(expected, () -> "the filter on '" + field + "'")));
      List<Stored> matches = new ArrayList<>();
      for (Stored stored : live(clock.instant())) {
        if (StoreKeys.startsWith(stored.item().namespace(), namespacePrefix) && matches(stored.json(), filter)) {
          matches.add(stored);
        }
      }
      matches.sort(SEARCH_ORDER);
      Instant now = clock.instant();
      List<Item> page = new ArrayList<>();
      for (int i = options.offset(); i < matches.size() && page.size() < options.limit(); i++) {
        Stored stored = matches.get(i);
        if (options.refreshTtl()) {
          refresh(new Key(stored.item().namespace(), stored.item().key()), stored, now);
        }
        page.add(stored.item());
      }
      return Flux.fromIterable(page);
    });
  }

  @Override
  public Flux<List<String>> listNamespaces(NamespaceQuery query) {
    Objects.requireNonNull(query, "query must not be null");
    return Flux.defer(() -> {
      if (!query.prefix().isEmpty()) {
        StoreKeys.validateNamespace(query.prefix());
      }
      List<List<String>> namespaces = new ArrayList<>();
      for (Stored stored : live(clock.instant())) {
        namespaces.add(stored.item().namespace());
      }
      return Flux.fromIterable(StoreKeys.selectNamespaces(namespaces, query));
    });
  }

  /** The items that have not expired at {@code now}; drops the expired ones it passes. */
  private List<Stored> live(Instant now) {
    List<Stored> live = new ArrayList<>();
    for (Iterator<Stored> it = items.values().iterator(); it.hasNext(); ) {
      Stored stored = it.next();
      if (!stored.expired(now)) {
        live.add(stored);
      } else {
        // Removes only this mapping: a concurrent put of the same key is kept.
        items.remove(new Key(stored.item().namespace(), stored.item().key()), stored);
      }
    }
    return live;
  }

  /**
   * The value as the JSON tree a reader of its JSON text would see: written to text and parsed back, so
   * numbers take their parsed types (a {@code float} becomes a double) whatever the caller passed.
   */
  private static JsonNode normalize(List<String> namespace, String key, Map<String, Object> value) {
    JsonNode tree = StoreKeys.toJson(namespace, key, value);
    try {
      return Json.mapper().readTree(Json.mapper().writeValueAsBytes(tree));
    } catch (IOException | IllegalArgumentException e) {
      throw new SerializationException("the value for key '" + key + "' in namespace " + namespace
          + " is not JSON-serializable: " + e.getMessage(), e);
    }
  }

  /** Plain, unmodifiable data for a parsed JSON tree. */
  private static @Nullable Object plain(JsonNode node) {
    return switch (node.getNodeType()) {
      case OBJECT -> {
        Map<String, @Nullable Object> map = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : node.properties()) {
          map.put(field.getKey(), plain(field.getValue()));
        }
        yield Collections.unmodifiableMap(map);
      }
      case ARRAY -> {
        List<@Nullable Object> list = new ArrayList<>(node.size());
        for (JsonNode element : node) {
          list.add(plain(element));
        }
        yield Collections.unmodifiableList(list);
      }
      case STRING -> node.textValue();
      case NUMBER -> node.numberValue();
      case BOOLEAN -> node.booleanValue();
      // Parsed JSON holds nothing else but null.
      default -> null;
    };
  }

  private static boolean matches(JsonNode value, Map<String, JsonNode> filter) {
    for (Map.Entry<String, JsonNode> entry : filter.entrySet()) {
      JsonNode actual = value.get(entry.getKey());
      if (actual == null || !actual.equals(SAME_JSON, entry.getValue())) {
        return false;
      }
    }
    return true;
  }

  private static boolean finite(JsonNode number) {
    return !number.isFloatingPointNumber() || Double.isFinite(number.doubleValue());
  }

  /** Where an item lives; the namespace is copied, so a caller's list changing later does not matter. */
  private record Key(List<String> namespace, String key) {
    Key {
      namespace = List.copyOf(namespace);
    }

    String path() {
      return String.join(".", namespace);
    }
  }

  /**
   * An item with its JSON tree (for filters), its joined namespace (for ordering), the ttl it was put with (for
   * refreshes) and its expiry.
   */
  private record Stored(Item item, JsonNode json, String path, @Nullable Duration ttl, @Nullable Instant expiresAt) {
    boolean expired(Instant now) {
      return expiresAt != null && !now.isBefore(expiresAt);
    }
  }
}
