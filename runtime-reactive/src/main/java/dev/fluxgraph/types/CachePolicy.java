package dev.fluxgraph.types;

import dev.fluxgraph.internal.Json;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * How a task's results are cached across runs and threads. The cache key is the task name plus
 * {@code keyFunction(input)}; by default the canonical JSON of the input (map keys and record fields sorted).
 * Immutable.
 *
 * @param ttl         how long an entry lives; null for forever
 * @param keyFunction derives the key from the task input (which may be null)
 */
public record CachePolicy(@Nullable Duration ttl, Function<Object, String> keyFunction) {

  /** The default key: canonical JSON of the input. */
  public static final Function<Object, String> CANONICAL_JSON_KEY = Json::canonicalString;

  public CachePolicy {
    Objects.requireNonNull(keyFunction, "keyFunction must not be null");
    if (ttl != null && (ttl.isZero() || ttl.isNegative())) {
      throw new IllegalArgumentException("ttl must be positive, was " + ttl);
    }
  }

  /** Entries never expire; key = canonical JSON of the input. */
  public static CachePolicy forever() {
    return new CachePolicy(null, CANONICAL_JSON_KEY);
  }

  /** Entries expire after {@code ttl}; key = canonical JSON of the input. */
  public static CachePolicy ttl(Duration ttl) {
    Objects.requireNonNull(ttl, "ttl must not be null");
    return new CachePolicy(ttl, CANONICAL_JSON_KEY);
  }

  public CachePolicy withTtl(@Nullable Duration ttl) {
    return new CachePolicy(ttl, keyFunction);
  }

  public CachePolicy withKeyFunction(Function<Object, String> keyFunction) {
    return new CachePolicy(ttl, keyFunction);
  }
}
