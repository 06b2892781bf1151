package dev.fluxgraph.server;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Threads and their status. In memory for now; the persistence-backed implementation (so several server
 * processes can share a database) is the next step of the server issue.
 */
final class ThreadRegistry {

  /** What the server knows of a thread besides its checkpoints. */
  record ThreadRecord(String threadId, Instant createdAt, Instant updatedAt, Map<String, Object> metadata,
                      String status, @Nullable String graphId) {
    ThreadRecord with(String newStatus, @Nullable String newGraphId, Map<String, Object> extraMetadata) {
      Map<String, Object> merged = new LinkedHashMap<>(metadata);
      merged.putAll(extraMetadata);
      return new ThreadRecord(threadId, createdAt, Instant.now(), Collections.unmodifiableMap(merged), newStatus,
          newGraphId == null ? graphId : newGraphId);
    }
  }

  private final ConcurrentHashMap<String, ThreadRecord> threads = new ConcurrentHashMap<>();

  /** Creates the thread, or returns the existing one when {@code ifExists} is "do_nothing". */
  ThreadRecord create(String threadId, Map<String, Object> metadata, String ifExists) {
    Instant now = Instant.now();
    ThreadRecord fresh = new ThreadRecord(threadId, now, now, Map.copyOf(metadata), "idle", null);
    ThreadRecord existing = threads.putIfAbsent(threadId, fresh);
    if (existing == null) {
      return fresh;
    }
    if (ifExists.equals("do_nothing")) {
      return existing;
    }
    throw new HttpProblem(409, "thread " + threadId + " already exists");
  }

  Optional<ThreadRecord> get(String threadId) {
    return Optional.ofNullable(threads.get(threadId));
  }

  ThreadRecord require(String threadId) {
    return get(threadId).orElseThrow(() -> HttpProblem.notFound("thread " + threadId));
  }

  ThreadRecord update(String threadId, String status, @Nullable String graphId, Map<String, Object> metadata) {
    return threads.compute(threadId, (id, old) -> old == null
        ? new ThreadRecord(id, Instant.now(), Instant.now(), Map.copyOf(metadata), status, graphId)
        : old.with(status, graphId, metadata));
  }

  boolean delete(String threadId) {
    return threads.remove(threadId) != null;
  }

  /** Threads whose metadata contains {@code metadata} (and with the status, if given), newest first. */
  List<ThreadRecord> search(Map<String, Object> metadata, @Nullable String status, List<String> ids) {
    List<ThreadRecord> found = new ArrayList<>();
    for (ThreadRecord thread : threads.values()) {
      boolean matches = metadata.entrySet().stream()
          .allMatch(entry -> entry.getValue().equals(thread.metadata().get(entry.getKey())))
          && (status == null || status.equals(thread.status()))
          && (ids.isEmpty() || ids.contains(thread.threadId()));
      if (matches) {
        found.add(thread);
      }
    }
    found.sort(Comparator.comparing(ThreadRecord::createdAt).reversed());
    return found;
  }
}
