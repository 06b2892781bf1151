package dev.fluxgraph.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One saved state of a thread. Checkpoint ids are time-ordered: on one thread and namespace, a greater id (by
 * {@link String#compareTo}) is a newer checkpoint. Savers treat the JSON values as opaque and never mutate them.
 *
 * @param threadId  the thread
 * @param namespace "" for root runs; reserved for subgraph checkpoints
 * @param id        the checkpoint id (time-ordered, unique)
 * @param parentId  the checkpoint this one follows, or null for the first of a thread
 * @param createdAt creation time
 * @param metadata  JSON-compatible metadata (strings, numbers, booleans, lists, maps); has at least
 *                  {@code source} and {@code step}
 * @param values    the saved channels, e.g. {@code __start__}, {@code __end__}, {@code __previous__}
 */
public record Checkpoint(String threadId, String namespace, String id, @Nullable String parentId,
                         Instant createdAt, Map<String, Object> metadata, Map<String, JsonNode> values) {
  public Checkpoint {
    Objects.requireNonNull(threadId, "threadId must not be null");
    Objects.requireNonNull(namespace, "namespace must not be null");
    Objects.requireNonNull(id, "id must not be null");
    Objects.requireNonNull(createdAt, "createdAt must not be null");
    metadata = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(metadata, "metadata")));
    values = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(values, "values")));
  }
}
