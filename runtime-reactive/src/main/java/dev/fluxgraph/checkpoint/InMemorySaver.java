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
 * A {@link CheckpointSaver} that keeps everything in memory: for tests, samples and short-lived processes.
 * Thread-safe and non-blocking; every method is cold and completes synchronously on the subscribing thread.
 * JSON values are stored as given (they are immutable by contract), so reads are cheap.
 */
public final class InMemorySaver implements CheckpointSaver {

  /** thread id → namespace → checkpoint id → entry. */
  private final ConcurrentHashMap<String, ConcurrentHashMap<String, ConcurrentSkipListMap<String, Entry>>> threads =
      new ConcurrentHashMap<>();

  public InMemorySaver() {
  }

  @Override
  public Mono<CheckpointTuple> get(String threadId, String namespace, @Nullable String checkpointId) {
    Objects.requireNonNull(threadId, "threadId must not be null");
    Objects.requireNonNull(namespace, "namespace must not be null");
    return Mono.fromCallable(() -> {
      ConcurrentSkipListMap<String, Entry> checkpoints = checkpoints(threadId, namespace, false);
      if (checkpoints == null) {
        return null;
      }
      Entry entry;
      if (checkpointId == null) {
        Map.Entry<String, Entry> last = checkpoints.lastEntry();
        entry = last == null ? null : last.getValue();
      } else {
        entry = checkpoints.get(checkpointId);
      }
      return entry == null ? null : entry.tuple();
    });
  }

  @Override
  public Flux<CheckpointTuple> list(String threadId, String namespace, @Nullable String before, int limit) {
    Objects.requireNonNull(threadId, "threadId must not be null");
    Objects.requireNonNull(namespace, "namespace must not be null");
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be positive, was " + limit);
    }
    return Flux.defer(() -> {
      ConcurrentSkipListMap<String, Entry> checkpoints = checkpoints(threadId, namespace, false);
      if (checkpoints == null) {
        return Flux.empty();
      }
      ConcurrentNavigableMap<String, Entry> older = before == null ? checkpoints : checkpoints.headMap(before, false);
      List<CheckpointTuple> tuples = new ArrayList<>();
      for (Entry entry : older.descendingMap().values()) {
        if (tuples.size() >= limit) {
          break;
        }
        tuples.add(entry.tuple());
      }
      return Flux.fromIterable(tuples);
    });
  }

  @Override
  public Mono<Void> put(Checkpoint checkpoint) {
    Objects.requireNonNull(checkpoint, "checkpoint must not be null");
    return Mono.fromRunnable(() -> checkpoints(checkpoint.threadId(), checkpoint.namespace(), true)
        .putIfAbsent(checkpoint.id(), new Entry(checkpoint)));
  }

  @Override
  public Mono<Void> putWrites(String threadId, String namespace, String checkpointId, List<PendingWrite> writes) {
    Objects.requireNonNull(threadId, "threadId must not be null");
    Objects.requireNonNull(namespace, "namespace must not be null");
    Objects.requireNonNull(checkpointId, "checkpointId must not be null");
    Objects.requireNonNull(writes, "writes must not be null");
    return Mono.fromRunnable(() -> {
      ConcurrentSkipListMap<String, Entry> checkpoints = checkpoints(threadId, namespace, false);
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

  private @Nullable ConcurrentSkipListMap<String, Entry> checkpoints(String threadId, String namespace,
                                                                     boolean create) {
    if (!create) {
      ConcurrentHashMap<String, ConcurrentSkipListMap<String, Entry>> namespaces = threads.get(threadId);
      return namespaces == null ? null : namespaces.get(namespace);
    }
    return threads.computeIfAbsent(threadId, id -> new ConcurrentHashMap<>())
        .computeIfAbsent(namespace, ns -> new ConcurrentSkipListMap<>());
  }

  /** A checkpoint and its write-once writes, kept in first-written order. */
  private static final class Entry {
    private final Checkpoint checkpoint;
    private final LinkedHashMap<String, PendingWrite> writes = new LinkedHashMap<>();
    private @Nullable CheckpointTuple snapshot;

    Entry(Checkpoint checkpoint) {
      this.checkpoint = checkpoint;
    }

    synchronized void add(List<PendingWrite> added) {
      boolean changed = false;
      for (PendingWrite write : added) {
        Objects.requireNonNull(write, "writes must not contain null");
        if (writes.putIfAbsent(write.taskId() + '\u0000' + write.channel(), write) == null) {
          changed = true;
        }
      }
      if (changed) {
        snapshot = null;
      }
    }

    synchronized CheckpointTuple tuple() {
      if (snapshot == null) {
        snapshot = new CheckpointTuple(checkpoint, new ArrayList<>(writes.values()));
      }
      return snapshot;
    }
  }
}
