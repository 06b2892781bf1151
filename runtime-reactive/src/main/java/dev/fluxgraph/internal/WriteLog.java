package dev.fluxgraph.internal;

import dev.fluxgraph.checkpoint.Checkpoint;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.PendingWrite;
import dev.fluxgraph.instrument.CheckpointWrite;
import dev.fluxgraph.instrument.RunObserver;
import dev.fluxgraph.types.Durability;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The writes of one run: an in-memory view that replay reads (always, so retries replay finished tasks even
 * without a checkpointer), and their persistence according to the run's {@link Durability}:
 * SYNC awaits each write, ASYNC sends it in the background and {@link #flush()} awaits them all, EXIT keeps
 * them (and the checkpoints the run starts from) until {@link #flush()}.
 *
 * <p>Writes attach to the <em>base</em> checkpoint. An entrypoint run has one base; a graph run moves it after
 * every superstep ({@link #moveTo}), and each write goes to the base that was current when it was recorded.
 */
final class WriteLog {

  private static final Mono<Void> SAVED = Mono.empty();

  private final @Nullable CheckpointSaver saver;
  private final Durability durability;
  private final RunObserver observer;
  private volatile Checkpoint base;
  private final ConcurrentHashMap<Key, PendingWrite> byKey = new ConcurrentHashMap<>(64);
  private final List<Checkpoint> deferredCheckpoints = new ArrayList<>();
  private final List<Deferred> deferredWrites = new ArrayList<>();
  /**
   * The save of the base checkpoint that writes must follow; {@link #SAVED} once it has succeeded, so that later
   * writes go straight to the saver instead of each subscribing to the cached save first.
   */
  private final AtomicReference<Mono<Void>> baseSaved = new AtomicReference<>(SAVED);
  private int inFlight; // ASYNC writes not yet acknowledged; guarded by this
  private @Nullable Throwable failed; // the first ASYNC write that failed; guarded by this
  private Sinks.@Nullable Empty<Void> drained; // completes when inFlight drops to 0; guarded by this

  WriteLog(@Nullable CheckpointSaver saver, Durability durability, Checkpoint base, List<PendingWrite> known,
           RunObserver observer) {
    this.saver = saver;
    this.durability = durability;
    this.observer = observer;
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
        fresh.forEach(write -> deferredWrites.add(new Deferred(base, write)));
      }
      return Mono.empty();
    }
    Mono<Void> saved = Mono.empty();
    for (Checkpoint checkpoint : checkpoints) {
      saved = saved.then(timed(saver.put(checkpoint), CheckpointWrite.CHECKPOINT));
    }
    if (!fresh.isEmpty()) {
      Checkpoint target = base;
      saved = saved.then(timed(saver.putWrites(target.threadId(), target.namespace(), target.id(), fresh),
          CheckpointWrite.WRITES));
    }
    if (checkpoints.isEmpty() && fresh.isEmpty()) {
      return Mono.empty();
    }
    return saveBase(saved);
  }

  /**
   * Graph API: saves {@code next} (a child of the current base) and makes it the base of later writes, which are
   * then looked up afresh ({@code known}: writes already recorded against it). Durability as for {@link #begin}.
   */
  Mono<Void> moveTo(Checkpoint next, List<PendingWrite> known) {
    byKey.clear();
    for (PendingWrite write : known) {
      byKey.putIfAbsent(key(write.taskId(), write.channel()), write);
    }
    if (saver == null) {
      base = next;
      return Mono.empty();
    }
    if (durability == Durability.EXIT) {
      synchronized (this) {
        deferredCheckpoints.add(next);
      }
      base = next;
      return Mono.empty();
    }
    // ASYNC: the previous base and its writes are already on their way; the new checkpoint only has to reach the
    // saver before the writes that reference it, so later writes wait for its save before they see it as the base.
    Mono<Void> saved = saveBase(after(timed(saver.put(next), CheckpointWrite.CHECKPOINT)));
    base = next;
    return saved;
  }

  Checkpoint base() {
    return base;
  }

  private Mono<Void> saveBase(Mono<Void> saved) {
    Mono<Void> cached = saved.cache();
    baseSaved.set(cached);
    Mono<Void> confirmed = cached.doOnSuccess(done -> baseSaved.compareAndSet(cached, SAVED));
    if (durability == Durability.SYNC) {
      return confirmed;
    }
    track(confirmed);
    return Mono.empty();
  }

  /** {@code write} once the base checkpoint is saved. */
  private Mono<Void> after(Mono<Void> write) {
    Mono<Void> saved = baseSaved.get();
    return saved == SAVED ? write : saved.then(write);
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
          deferredWrites.add(new Deferred(base, write));
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
        List<Deferred> writes = List.copyOf(deferredWrites);
        deferredCheckpoints.clear();
        deferredWrites.clear();
        Mono<Void> saved = Mono.empty();
        for (Checkpoint checkpoint : checkpoints) {
          saved = saved.then(timed(saver.put(checkpoint), CheckpointWrite.CHECKPOINT));
        }
        // one putWrites per base checkpoint, in the order the bases were used
        Map<String, List<Deferred>> byBase = new LinkedHashMap<>();
        for (Deferred deferred : writes) {
          byBase.computeIfAbsent(deferred.base().id(), key -> new ArrayList<>()).add(deferred);
        }
        for (List<Deferred> group : byBase.values()) {
          Checkpoint target = group.get(0).base();
          List<PendingWrite> toSave = group.stream().map(Deferred::write).toList();
          saved = saved.then(timed(saver.putWrites(target.threadId(), target.namespace(), target.id(), toSave),
              CheckpointWrite.WRITES));
        }
        return saved;
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
    Checkpoint target = base;
    return saver == null ? Mono.empty()
        : after(timed(saver.putWrites(target.threadId(), target.namespace(), target.id(), List.of(write)),
            CheckpointWrite.WRITES));
  }

  /** {@code write}, reported to the run's observer when it has one: started on subscription, ended on its end. */
  Mono<Void> timed(Mono<Void> write, CheckpointWrite kind) {
    if (observer == RunObserver.NOOP) {
      return write;
    }
    return Mono.defer(() -> {
      RunObserver.Completion completion = observer.checkpointWriteStarted(kind);
      return write.doOnSuccess(done -> completion.ended(null)).doOnError(completion::ended);
    });
  }

  /** An EXIT-mode write with the base it was recorded against. */
  private record Deferred(Checkpoint base, PendingWrite write) {
  }

  private static Key key(String taskId, String channel) {
    return new Key(taskId, channel);
  }

  /**
   * A write's identity. Hashed from its parts rather than concatenated: a call's id and the channel names are the
   * same strings on every lookup, so their hashes are computed once (a concatenated key was hashed afresh each
   * time).
   */
  private record Key(String taskId, String channel) {
    @Override
    public int hashCode() {
      return taskId.hashCode() * 31 + channel.hashCode();
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof Key key && taskId.equals(key.taskId) && channel.equals(key.channel);
    }
  }
}
