package dev.fluxgraph.store;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Options of {@link Store#search}: equality filters on top-level value fields, paging, and whether the items found
 * have their ttl refreshed. Immutable.
 *
 * @param filter     field name to the value it must equal (compared as JSON)
 * @param limit      maximum number of items, positive
 * @param offset     items to skip, not negative
 * @param refreshTtl whether the items returned that were put with a ttl expire that ttl after the search
 */
public record SearchOptions(Map<String, Object> filter, int limit, int offset, boolean refreshTtl) {
  public SearchOptions {
    filter = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(filter, "filter")));
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be positive, was " + limit);
    }
    if (offset < 0) {
      throw new IllegalArgumentException("offset must not be negative, was " + offset);
    }
  }

  /** Options that leave the items' expiry as it is. */
  public SearchOptions(Map<String, Object> filter, int limit, int offset) {
    this(filter, limit, offset, false);
  }

  /** No filter, limit 10, offset 0, no ttl refresh. */
  public static SearchOptions defaults() {
    return new SearchOptions(Map.of(), 10, 0, false);
  }

  public SearchOptions withFilter(Map<String, Object> filter) {
    return new SearchOptions(filter, limit, offset, refreshTtl);
  }

  public SearchOptions withLimit(int limit) {
    return new SearchOptions(filter, limit, offset, refreshTtl);
  }

  public SearchOptions withOffset(int offset) {
    return new SearchOptions(filter, limit, offset, refreshTtl);
  }

  public SearchOptions withRefreshTtl(boolean refreshTtl) {
    return new SearchOptions(filter, limit, offset, refreshTtl);
  }
}
