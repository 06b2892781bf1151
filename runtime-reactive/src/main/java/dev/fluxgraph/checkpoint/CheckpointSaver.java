package dev.fluxgraph.checkpoint;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Reactive persistence of checkpoints and their writes. Every method is cold (nothing happens until
 * subscription) and safe to call concurrently. Implementations are checked by the abstract
 * {@code CheckpointSaverContract} test in this module's test-jar.
 */
public interface CheckpointSaver {

  /**
   * The checkpoint with the given id, or the newest of the thread and namespace when {@code checkpointId} is
   * null, with its writes. Completes empty when there is none.
   */
  Mono<CheckpointTuple> get(String threadId, String namespace, @Nullable String checkpointId);

  /**
   * The thread's checkpoints in the namespace, newest first (by id), with their writes: only those older than
   * {@code before} when it is not null, at most {@code limit} (positive) of them.
   */
  Flux<CheckpointTuple> list(String threadId, String namespace, @Nullable String before, int limit);

  /** Saves a checkpoint. Idempotent: saving a checkpoint whose id already exists changes nothing. */
  Mono<Void> put(Checkpoint checkpoint);

  /**
   * Records writes against a saved checkpoint. Write-once per {@code (taskId, channel)}: a write whose identity
   * already exists is ignored, so a duplicate never changes an acknowledged value. Fails with
   * {@link IllegalArgumentException} when the checkpoint does not exist.
   */
  Mono<Void> putWrites(String threadId, String namespace, String checkpointId, List<PendingWrite> writes);

  /** Deletes every checkpoint and write of the thread, in all namespaces. */
  Mono<Void> deleteThread(String threadId);

  /**
   * Deletes the thread's checkpoints in the namespace that are newer (by id) than {@code checkpointId}, with their
   * writes: what rolling back a run needs (ids are time-ordered, so these are the checkpoints saved after it).
   * Savers that cannot do this fail with {@link UnsupportedOperationException}.
   */
  default Mono<Void> deleteAfter(String threadId, String namespace, String checkpointId) {
    return Mono.error(new UnsupportedOperationException(getClass().getSimpleName()
        + " cannot delete the checkpoints after a given one (needed to roll back a run)"));
  }

  /**
   * Merges {@code metadata} into a saved checkpoint's metadata (an entry of {@code metadata} replaces the one of its
   * key; the others stay): the one with {@code checkpointId}, or the newest of the thread and namespace when it is
   * null. Neither its values nor its writes change, nor its id: it is no new checkpoint. Emits the checkpoint as it
   * now is, or completes empty when there is no such checkpoint. Savers whose checkpoints cannot change fail with
   * {@link UnsupportedOperationException}.
   */
  default Mono<Checkpoint> updateMetadata(String threadId, String namespace, @Nullable String checkpointId,
                                          Map<String, Object> metadata) {
    return Mono.error(new UnsupportedOperationException(getClass().getSimpleName()
        + " cannot change the metadata of a saved checkpoint"));
  }

  /**
   * Deletes every checkpoint of the thread but the newest of each namespace, with their writes: the thread keeps its
   * latest state (and what a paused run needs to continue), not its history. Emits how many checkpoints were
   * deleted. Savers that cannot do this fail with {@link UnsupportedOperationException}.
   */
  default Mono<Long> pruneToLatest(String threadId) {
    return Mono.error(new UnsupportedOperationException(getClass().getSimpleName()
        + " cannot delete a thread's checkpoints older than its latest"));
  }
}
