package dev.fluxgraph.checkpoint;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A {@link CheckpointSaver} that keeps checkpoints and their writes in memory: for tests, samples and processes
 * that may lose their state when they exit.
 *
 * <p>Every method is cold: it does its work when subscribed, on the subscribing thread, and completes before
 * {@code subscribe} returns; subscribing twice does the work twice. Nothing is held between calls, so
 * cancellation has nothing to release. The saver is thread-safe and never blocks: the maps are concurrent and
 * the only lock is a short one on a single checkpoint while its writes are recorded or read.
 *
 * <p>Checkpoints and JSON values are kept as given, never copied (they are immutable by contract), so reads are
 * cheap: a checkpoint read again without new writes returns the same {@link CheckpointTuple}.
 *
 * <p>Errors: a null argument (or a null element of {@code writes}) throws {@link NullPointerException} when the
 * method is called; a non-positive {@code limit} and writes for a checkpoint that was never saved fail the
 * returned publisher with {@link IllegalArgumentException}.
 */
public final class InMemorySaver implements CheckpointSaver {

  /** Thread id, then namespace, then checkpoint id (sorted, so the last is the newest). */
  private final ConcurrentHashMap<String, ConcurrentHashMap<String, ConcurrentSkipListMap<String, Entry>>> threads =
      new ConcurrentHashMap<>();

  /** An empty saver. */
  public InMemorySaver() {
  }

  /** The checkpoint of the thread's namespace with that id, or its newest when {@code checkpointId} is null. */
  private @Nullable Entry entry(String threadId, String namespace, @Nullable String checkpointId) {
    ConcurrentSkipListMap<String, Entry> checkpoints = find(threadId, namespace);
    if (checkpoints == null) {
      return null;
    }
    if (checkpointId == null) {
      Map.Entry<String, Entry> newest = checkpoints.lastEntry();
      return newest == null ? null : newest.getValue();
    }
    return checkpoints.get(checkpointId);
  }

  @Override
  public Mono<CheckpointTuple> get(String threadId, String namespace, @Nullable String checkpointId) {
    Objects.requireNonNull(threadId, "threadId must not be null");
    Objects.requireNonNull(namespace, "namespace must not be null");
    return Mono.fromCallable(() -> {
      Entry entry = entry(threadId, namespace, checkpointId);
      return entry == null ? null : entry.tuple();
    });
  }

  @Override
  public Flux<CheckpointTuple> list(String threadId, String namespace, @Nullable String before, int limit) {
    Objects.requireNonNull(threadId, "threadId must not be null");
    Objects.requireNonNull(namespace, "namespace must not be null");
    return Flux.defer(() -> {
      if (limit < 1) {
        return Flux.error(new IllegalArgumentException("limit must be positive, was " + limit));
      }
      ConcurrentSkipListMap<String, Entry> checkpoints = find(threadId, namespace);
      if (checkpoints == null) {
        return Flux.empty();
      }
      ConcurrentNavigableMap<String, Entry> older = before == null ? checkpoints : checkpoints.headMap(before, false);
      // Collected first so the page is taken at one moment, not spread over a slow subscriber's requests.
      List<CheckpointTuple> page = new ArrayList<>(Math.min(limit, 16));
      for (Entry entry : older.descendingMap().values()) {
        if (page.size() == limit) {
          break;
        }
        page.add(entry.tuple());
      }
      return Flux.fromIterable(page);
    });
  }

  @Override
  public Mono<Void> put(Checkpoint checkpoint) {
    Objects.requireNonNull(checkpoint, "checkpoint must not be null");
    return Mono.fromRunnable(() -> threads
        .computeIfAbsent(checkpoint.threadId(), thread -> new ConcurrentHashMap<>())
        .computeIfAbsent(checkpoint.namespace(), namespace -> new ConcurrentSkipListMap<>())
        .putIfAbsent(checkpoint.id(), new Entry(checkpoint)));
  }

  @Override
  public Mono<Void> putWrites(String threadId, String namespace, String checkpointId, List<PendingWrite> writes) {
    Objects.requireNonNull(threadId, "threadId must not be null");
    Objects.requireNonNull(namespace, "namespace must not be null");
    Objects.requireNonNull(checkpointId, "checkpointId must not be null");
    Objects.requireNonNull(writes, "writes must not be null");
    for (int i = 0; i < writes.size(); i++) {
      Objects.requireNonNull(writes.get(i), "writes must not contain null");
    }
    return Mono.fromRunnable(() -> {
      ConcurrentSkipListMap<String, Entry> checkpoints = find(threadId, namespace);
      Entry entry = checkpoints == null ? null : checkpoints.get(checkpointId);
      if (entry == null) {
        throw new IllegalArgumentException("checkpoint " + checkpointId + " does not exist on thread '" + threadId
            + "' (namespace '" + namespace + "'); save it before its writes");
      }
      entry.add(writes);
    });
  }

  @Override
  public Mono<Void> deleteThread(String threadId) {
    Objects.requireNonNull(threadId, "threadId must not be null");
    return Mono.fromRunnable(() -> threads.remove(threadId));
  }

  @Override
  public Mono<Void> deleteAfter(String threadId, String namespace, String checkpointId) {
    Objects.requireNonNull(threadId, "threadId must not be null");
    Objects.requireNonNull(namespace, "namespace must not be null");
    Objects.requireNonNull(checkpointId, "checkpointId must not be null");
    return Mono.fromRunnable(() -> {
      ConcurrentSkipListMap<String, Entry> checkpoints = find(threadId, namespace);
      if (checkpoints != null) {
        checkpoints.tailMap(checkpointId, false).clear();
      }
    });
  }

  @Override
  public Mono<Checkpoint> updateMetadata(String threadId, String namespace, @Nullable String checkpointId,
                                         Map<String, Object> metadata) {
    Objects.requireNonNull(threadId, "threadId must not be null");
    Objects.requireNonNull(namespace, "namespace must not be null");
    Map<String, Object> merged = new LinkedHashMap<>(Objects.requireNonNull(metadata, "metadata must not be null"));
    return Mono.fromCallable(() -> {
      Entry entry = entry(threadId, namespace, checkpointId);
      return entry == null ? null : entry.mergeMetadata(merged);
    });
  }

  @Override
  public Mono<Long> pruneToLatest(String threadId) {
    Objects.requireNonNull(threadId, "threadId must not be null");
    return Mono.fromCallable(() -> {
      ConcurrentHashMap<String, ConcurrentSkipListMap<String, Entry>> namespaces = threads.get(threadId);
      long deleted = 0;
      if (namespaces != null) {
        for (ConcurrentSkipListMap<String, Entry> checkpoints : namespaces.values()) {
          String newest = checkpoints.isEmpty() ? null : checkpoints.lastKey();
          if (newest != null) {
            ConcurrentNavigableMap<String, Entry> older = checkpoints.headMap(newest, false);
            deleted += older.size();
            older.clear();
          }
        }
      }
      return deleted;
    });
  }

  private @Nullable ConcurrentSkipListMap<String, Entry> find(String threadId, String namespace) {
    ConcurrentHashMap<String, ConcurrentSkipListMap<String, Entry>> namespaces = threads.get(threadId);
    return namespaces == null ? null : namespaces.get(namespace);
  }

  /** The identity of a write within its checkpoint. */
  private record WriteId(String taskId, String channel) {
  }

  /** A checkpoint and its write-once writes, in first-written order. */
  private static final class Entry {
    private Checkpoint checkpoint;
    private final LinkedHashMap<WriteId, PendingWrite> writes = new LinkedHashMap<>();
    /** The last tuple read, until a new write arrives: repeated reads allocate nothing. */
    private @Nullable CheckpointTuple snapshot;

    Entry(Checkpoint checkpoint) {
      this.checkpoint = checkpoint;
    }

    synchronized void add(List<PendingWrite> added) {
      for (int i = 0; i < added.size(); i++) {
        PendingWrite write = added.get(i);
        if (writes.putIfAbsent(new WriteId(write.taskId(), write.channel()), write) == null) {
          snapshot = null;
        }
      }
    }

    /** The checkpoint with {@code entries} merged into its metadata, kept from now on. */
    synchronized Checkpoint mergeMetadata(Map<String, Object> entries) {
      Map<String, Object> metadata = new LinkedHashMap<>(checkpoint.metadata());
      metadata.putAll(entries);
      checkpoint = new Checkpoint(checkpoint.threadId(), checkpoint.namespace(), checkpoint.id(),
          checkpoint.parentId(), checkpoint.createdAt(), metadata, checkpoint.values());
      snapshot = null;
      return checkpoint;
    }

    synchronized CheckpointTuple tuple() {
      CheckpointTuple tuple = snapshot;
      if (tuple == null) {
        // List.copyOf of an immutable list is that list, so the tuple's own copy is free.
        tuple = new CheckpointTuple(checkpoint, List.copyOf(writes.values()));
        snapshot = tuple;
      }
      return tuple;
    }
  }
}
