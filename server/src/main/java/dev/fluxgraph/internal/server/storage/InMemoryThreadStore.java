package dev.fluxgraph.internal.server.storage;

import dev.fluxgraph.internal.server.HttpProblem;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Threads in memory: for {@code --in-memory} and tests. */
public final class InMemoryThreadStore implements ThreadStore {

  private final ConcurrentHashMap<String, ThreadRecord> threads = new ConcurrentHashMap<>();
  /** The time to live of the threads that have one. */
  private final ConcurrentHashMap<String, Duration> ttls = new ConcurrentHashMap<>();

  @Override
  public Mono<Boolean> setTtl(String threadId, @Nullable Duration ttl) {
    return Mono.fromCallable(() -> {
      if (!threads.containsKey(threadId)) {
        return false;
      }
      if (ttl == null) {
        ttls.remove(threadId);
      } else {
        ttls.put(threadId, ttl);
      }
      return true;
    });
  }

  @Override
  public Flux<String> expired(Instant now, int limit) {
    return Flux.defer(() -> Flux.fromStream(ttls.entrySet().stream().filter(entry -> {
      ThreadRecord thread = threads.get(entry.getKey());
      if (thread == null) {
        ttls.remove(entry.getKey(), entry.getValue());
        return false;
      }
      return !thread.status().equals("busy") && !thread.updatedAt().plus(entry.getValue()).isAfter(now);
    }).map(Map.Entry::getKey).limit(limit).toList().stream()));
  }

  @Override
  public Mono<ThreadRecord> create(String threadId, Map<String, Object> metadata, String ifExists) {
    return Mono.fromCallable(() -> {
      Instant now = Instant.now();
      ThreadRecord fresh = new ThreadRecord(threadId, now, now, copy(metadata), "idle", null);
      ThreadRecord existing = threads.putIfAbsent(threadId, fresh);
      if (existing == null) {
        return fresh;
      }
      if (ifExists.equals("do_nothing")) {
        return existing;
      }
      throw new HttpProblem(409, "thread " + threadId + " already exists");
    });
  }

  @Override
  public Mono<ThreadRecord> get(String threadId) {
    return Mono.fromSupplier(() -> threads.get(threadId));
  }

  @Override
  public Mono<ThreadRecord> update(String threadId, String status, @Nullable String graphId,
                                   Map<String, Object> metadata, @Nullable Map<String, Object> configurable) {
    return Mono.fromSupplier(() -> threads.computeIfPresent(threadId, (id, old) -> {
      Instant now = Instant.now();
      Map<String, Object> merged = new LinkedHashMap<>(old.metadata());
      merged.putAll(metadata);
      return new ThreadRecord(id, old.createdAt(), now, Collections.unmodifiableMap(merged), status,
          graphId == null ? old.graphId() : graphId, configurable == null ? old.configurable() : copy(configurable));
    }));
  }

  /** An unmodifiable copy that keeps null values (JSON metadata may have them; {@code Map.copyOf} refuses them). */
  private static Map<String, Object> copy(Map<String, Object> metadata) {
    return Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
  }


  @Override
  public Mono<Boolean> delete(String threadId) {
    return Mono.fromSupplier(() -> threads.remove(threadId) != null);
  }

  @Override
  public Flux<ThreadRecord> search(Map<String, Object> metadata, @Nullable String status, List<String> ids,
                                   int limit, int offset, Order order) {
    return Flux.defer(() -> {
      List<ThreadRecord> found = new ArrayList<>();
      for (ThreadRecord thread : threads.values()) {
        if (matches(thread, metadata, status) && (ids.isEmpty() || ids.contains(thread.threadId()))) {
          found.add(thread);
        }
      }
      found.sort(order.comparator());
      return Flux.fromIterable(found).skip(offset).take(limit);
    });
  }

  @Override
  public Mono<Long> count(Map<String, Object> metadata, @Nullable String status) {
    return Mono.fromSupplier(() -> threads.values().stream().filter(thread -> matches(thread, metadata, status))
        .count());
  }

  private static boolean matches(ThreadRecord thread, Map<String, Object> metadata, @Nullable String status) {
    return metadata.entrySet().stream()
        .allMatch(entry -> Objects.equals(entry.getValue(), thread.metadata().get(entry.getKey()))
            && thread.metadata().containsKey(entry.getKey()))
        && (status == null || status.equals(thread.status()));
  }

  @Override
  public Mono<ThreadRecord> patchMetadata(String threadId, Map<String, Object> metadata) {
    return Mono.fromSupplier(() -> threads.computeIfPresent(threadId, (id, old) -> {
      Map<String, Object> merged = new LinkedHashMap<>(old.metadata());
      merged.putAll(metadata);
      return new ThreadRecord(id, old.createdAt(), Instant.now(), Collections.unmodifiableMap(merged), old.status(),
          old.graphId(), old.configurable());
    }));
  }
}
