package dev.fluxgraph.internal;

import dev.fluxgraph.checkpoint.Checkpoint;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.PendingWrite;
import dev.fluxgraph.types.Durability;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The writes of one run: an in-memory view that replay reads (always, so retries replay finished tasks even
 * without a checkpointer), and their persistence according to the run's {@link Durability}:
 * SYNC awaits each write, ASYNC sends it in the background and {@link #flush()} awaits them all, EXIT keeps
 * them (and the checkpoints the run starts from) until {@link #flush()}.
 */
final class WriteLog {

  private final @Nullable CheckpointSaver saver;
  private final Durability durability;
  private final Checkpoint base;
  private final ConcurrentHashMap<String, PendingWrite> byKey = new ConcurrentHashMap<>(64);
  private final List<Checkpoint> deferredCheckpoints = new ArrayList<>();
  private final List<PendingWrite> deferredWrites = new ArrayList<>();
  private Mono<Void> baseSaved = Mono.empty();
  private int inFlight; // ASYNC writes not yet acknowledged; guarded by this
  private @Nullable Throwable failed; // the first ASYNC write that failed; guarded by this
  private Sinks.@Nullable Empty<Void> drained; // completes when inFlight drops to 0; guarded by this

  WriteLog(@Nullable CheckpointSaver saver, Durability durability, Checkpoint base, List<PendingWrite> known) {
    this.saver = saver;
    this.durability = durability;
    this.base = base;
    for (PendingWrite write : known) {
      byKey.putIfAbsent(key(write.taskId(), write.channel()), write);
    }
  }

  /**
   * Saves the checkpoints a run starts from and the writes it starts with (answers, copied writes). SYNC awaits
   * them; ASYNC saves them in the background (the run's writes are sent after them, and {@link #flush()} awaits
   * them); EXIT keeps them for {@link #flush()}.
   */
  Mono<Void> begin(List<Checkpoint> checkpoints, List<PendingWrite> writes) {
    List<PendingWrite> fresh = new ArrayList<>(writes.size());
    for (PendingWrite write : writes) {
      if (byKey.putIfAbsent(key(write.taskId(), write.channel()), write) == null) {
        fresh.add(write);
      }
    }
    if (saver == null) {
      return Mono.empty();
    }
    if (durability == Durability.EXIT) {
      synchronized (this) {
        deferredCheckpoints.addAll(checkpoints);
        deferredWrites.addAll(fresh);
      }
      return Mono.empty();
    }
    Mono<Void> saved = Mono.empty();
    for (Checkpoint checkpoint : checkpoints) {
      saved = saved.then(saver.put(checkpoint));
    }
    if (!fresh.isEmpty()) {
      saved = saved.then(saver.putWrites(base.threadId(), base.namespace(), base.id(), fresh));
    }
    if (checkpoints.isEmpty() && fresh.isEmpty()) {
      return Mono.empty();
    }
    baseSaved = saved.cache();
    if (durability == Durability.SYNC) {
      return baseSaved;
    }
    track(baseSaved);
    return Mono.empty();
  }

  @Nullable PendingWrite find(String taskId, String channel) {
    return byKey.get(key(taskId, channel));
  }

  /** Records a write (write-once); the Mono completes when the durability mode says it may. */
  Mono<Void> record(PendingWrite write) {
    if (byKey.putIfAbsent(key(write.taskId(), write.channel()), write) != null || saver == null) {
      return Mono.empty();
    }
    switch (durability) {
      case SYNC:
        return persist(write);
      case ASYNC:
        track(persist(write));
        return Mono.empty();
      default:
        synchronized (this) {
          deferredWrites.add(write);
        }
        return Mono.empty();
    }
  }

  /** Completes once every write recorded so far is persisted; errors with the first failed write. */
  Mono<Void> flush() {
    if (saver == null) {
      return Mono.empty();
    }
    synchronized (this) {
      if (durability == Durability.EXIT) {
        List<Checkpoint> checkpoints = List.copyOf(deferredCheckpoints);
        List<PendingWrite> writes = List.copyOf(deferredWrites);
        deferredCheckpoints.clear();
        deferredWrites.clear();
        Mono<Void> saved = Mono.empty();
        for (Checkpoint checkpoint : checkpoints) {
          saved = saved.then(saver.put(checkpoint));
        }
        return writes.isEmpty() ? saved
            : saved.then(saver.putWrites(base.threadId(), base.namespace(), base.id(), writes));
      }
      if (inFlight == 0) {
        return failed == null ? Mono.empty() : Mono.error(failed);
      }
      if (drained == null) {
        drained = Sinks.empty();
      }
      return drained.asMono().then(Mono.defer(() -> {
        synchronized (this) {
          return failed == null ? Mono.<Void>empty() : Mono.<Void>error(failed);
        }
      }));
    }
  }

  /** Sends an ASYNC write in the background; {@link #flush()} waits for it. */
  private void track(Mono<Void> write) {
    synchronized (this) {
      inFlight++;
    }
    write.subscribe(null, this::acknowledged, () -> acknowledged(null));
  }

  private void acknowledged(@Nullable Throwable error) {
    Sinks.Empty<Void> done = null;
    synchronized (this) {
      if (error != null && failed == null) {
        failed = error;
      }
      if (--inFlight == 0 && drained != null) {
        done = drained;
        drained = null;
      }
    }
    if (done != null) {
      done.tryEmitEmpty();
    }
  }

  private Mono<Void> persist(PendingWrite write) {
    return saver == null ? Mono.empty()
        : baseSaved.then(saver.putWrites(base.threadId(), base.namespace(), base.id(), List.of(write)));
  }

  private static String key(String taskId, String channel) {
    return taskId + '\u0000' + channel;
  }
}
