package dev.fluxgraph.store;

import java.util.List;
import java.util.Objects;

/**
 * Options of {@link Store#listNamespaces}. Immutable.
 *
 * @param prefix   only namespaces starting with these labels
 * @param suffix   only namespaces ending with these labels
 * @param maxDepth namespaces longer than this are truncated to it (and deduplicated); positive
 * @param limit    maximum number of namespaces, positive
 * @param offset   namespaces to skip, not negative
 */
public record NamespaceQuery(List<String> prefix, List<String> suffix, int maxDepth, int limit, int offset) {
  public NamespaceQuery {
    prefix = List.copyOf(Objects.requireNonNull(prefix, "prefix must not be null"));
    suffix = List.copyOf(Objects.requireNonNull(suffix, "suffix must not be null"));
    if (maxDepth < 1) {
      throw new IllegalArgumentException("maxDepth must be positive, was " + maxDepth);
    }
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be positive, was " + limit);
    }
    if (offset < 0) {
      throw new IllegalArgumentException("offset must not be negative, was " + offset);
    }
  }

  /** All namespaces, no depth limit, at most 100. */
  public static NamespaceQuery all() {
    return new NamespaceQuery(List.of(), List.of(), Integer.MAX_VALUE, 100, 0);
  }

  public NamespaceQuery withPrefix(List<String> prefix) {
    return new NamespaceQuery(prefix, suffix, maxDepth, limit, offset);
  }

  public NamespaceQuery withSuffix(List<String> suffix) {
    return new NamespaceQuery(prefix, suffix, maxDepth, limit, offset);
  }

  public NamespaceQuery withMaxDepth(int maxDepth) {
    return new NamespaceQuery(prefix, suffix, maxDepth, limit, offset);
  }

  public NamespaceQuery withLimit(int limit) {
    return new NamespaceQuery(prefix, suffix, maxDepth, limit, offset);
  }

  public NamespaceQuery withOffset(int offset) {
    return new NamespaceQuery(prefix, suffix, maxDepth, limit, offset);
  }
}
