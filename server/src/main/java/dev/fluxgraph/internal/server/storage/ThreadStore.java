package dev.fluxgraph.internal.server.storage;

import dev.fluxgraph.internal.server.HttpProblem;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Where the server keeps its threads (their metadata, status and graph); checkpoints live in the
 * {@code CheckpointSaver}. In memory, or in PostgreSQL so that threads survive a restart and several server
 * processes can share one database.
 */
public interface ThreadStore {

  /**
   * What the server knows of a thread besides its checkpoints. {@code configurable}: the configurable values of the
   * last run started on it (the reference's thread {@code config}), which a graph factory builds the thread's graph
   * from for its state reads and updates; empty before the first run.
   */
  record ThreadRecord(String threadId, Instant createdAt, Instant updatedAt, Map<String, Object> metadata,
                      String status, @Nullable String graphId, Map<String, Object> configurable) {

    public ThreadRecord(String threadId, Instant createdAt, Instant updatedAt, Map<String, Object> metadata,
                        String status, @Nullable String graphId) {
      this(threadId, createdAt, updatedAt, metadata, status, graphId, Map.of());
    }
  }

  /** Creates the thread; when it exists: returns it for {@code do_nothing}, fails with 409 for {@code raise}. */
  Mono<ThreadRecord> create(String threadId, Map<String, Object> metadata, String ifExists);

  /**
   * Creates the thread busy with a run of {@code graphId}: a stateless run's thread, which the server named and nobody
   * else knows yet. 409 when it exists.
   */
  default Mono<ThreadRecord> createBusy(String threadId, String graphId, Map<String, Object> metadata) {
    return create(threadId, Map.of(), "raise").then(update(threadId, "busy", graphId, metadata));
  }

  /** The thread, or empty. */
  Mono<ThreadRecord> get(String threadId);

  /**
   * Sets the status (and the graph, when not null) and merges metadata; emits the thread, or nothing when it does not
   * exist (it was deleted: a late status write never brings a thread back).
   */
  default Mono<ThreadRecord> update(String threadId, String status, @Nullable String graphId,
                                    Map<String, Object> metadata) {
    return update(threadId, status, graphId, metadata, null);
  }

  /**
   * {@link #update(String, String, String, Map)}, and, when not null, sets the configurable values of the run the
   * thread is busy with.
   */
  Mono<ThreadRecord> update(String threadId, String status, @Nullable String graphId, Map<String, Object> metadata,
                            @Nullable Map<String, Object> configurable);

  /** Merges metadata into the thread's, leaving its status alone; emits the thread, or nothing when it does not exist. */
  Mono<ThreadRecord> patchMetadata(String threadId, Map<String, Object> metadata);

  /**
   * Gives the thread a time to live (null: none): it is deleted once {@code ttl} passed since its last update (a run,
   * a state or metadata change) while it is not busy, by {@code ThreadReaper}. Emits whether the thread exists.
   */
  Mono<Boolean> setTtl(String threadId, @Nullable Duration ttl);

  /** Threads whose time to live passed at {@code now} and that are not busy, at most {@code limit}. */
  Flux<String> expired(Instant now, int limit);

  /** How many threads {@link #search} would find without ids, limit and offset. */
  Mono<Long> count(Map<String, Object> metadata, @Nullable String status);

  /** Deletes the thread; emits whether it existed. */
  Mono<Boolean> delete(String threadId);

  /** Threads whose metadata contains {@code metadata}, with the status and among the ids when given, in order. */
  Flux<ThreadRecord> search(Map<String, Object> metadata, @Nullable String status, List<String> ids, int limit,
                            int offset, Order order);

  /** How {@link #search} sorts: by one field of the thread (ties by thread id), either way. */
  record Order(Field field, boolean ascending) {
    /** The fields a search sorts by, with their names in the protocol ({@code sort_by}). */
    public enum Field {
      THREAD_ID("thread_id"), STATUS("status"), CREATED_AT("created_at"), UPDATED_AT("updated_at");

      private final String wire;

      Field(String wire) {
        this.wire = wire;
      }

      /** The field's name in the protocol. */
      public String wire() {
        return wire;
      }
    }

    Comparator<ThreadRecord> comparator() {
      Comparator<ThreadRecord> byField = switch (field) {
        case THREAD_ID -> Comparator.comparing(ThreadRecord::threadId);
        case STATUS -> Comparator.comparing(ThreadRecord::status);
        case CREATED_AT -> Comparator.comparing(ThreadRecord::createdAt);
        case UPDATED_AT -> Comparator.comparing(ThreadRecord::updatedAt);
      };
      byField = byField.thenComparing(ThreadRecord::threadId);
      return ascending ? byField : byField.reversed();
    }

    /** The SQL ORDER BY list; text in bytewise order ({@code COLLATE "C"}), as {@link #comparator} compares it. */
    String sql() {
      String direction = ascending ? " ASC" : " DESC";
      String tieBreak = "thread_id COLLATE \"C\"" + direction;
      return switch (field) {
        case THREAD_ID -> tieBreak;
        case STATUS -> "status COLLATE \"C\"" + direction + ", " + tieBreak;
        case CREATED_AT, UPDATED_AT -> field.wire + direction + ", " + tieBreak;
      };
    }
  }

  /** The thread, or a 404. */
  default Mono<ThreadRecord> require(String threadId) {
    return get(threadId).switchIfEmpty(Mono.error(() -> HttpProblem.notFound("thread " + threadId)));
  }

  /**
   * Completes when the thread exists, else a 404: what a run on the thread checks before its first event. A store may
   * answer from what this process knows (a thread it created or read and did not delete), so a thread deleted by
   * another process may pass; its run then fails at its first status write (see {@link #update}).
   */
  default Mono<Void> requireExists(String threadId) {
    return require(threadId).then();
  }
}
