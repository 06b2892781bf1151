package dev.fluxgraph.internal.server.runs;

import dev.fluxgraph.checkpoint.Checkpoint;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.CheckpointTuple;
import dev.fluxgraph.checkpoint.PendingWrite;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The checkpointer the server gives its graphs when several processes share the database: a checkpoint of a server
 * run ({@code run_id} in its metadata) is written only while this process may still write that run (its worker's
 * lease holds, by this process's monotonic clock: see {@link Worker}). A process stopped past its lease (a zombie)
 * that goes on with a run another process took over therefore saves no new checkpoint for it: its final checkpoint
 * never becomes the thread's latest. Task results ({@link #putWrites}, which name no run) are written only while this
 * process's worker holds its lease and the run executing on the thread here is not one it lost or halted: a zombie's
 * task that ends after its lease ran out does not commit its result over the taker's (writes are write-once, so the
 * first one of a task would win), and under {@code sync} durability, where a task's result is saved before the run
 * goes on, its next task does not start either. What is left is a write already sent when the process was stopped;
 * see docs/design.md for why that one cannot overtake the taker's checkpoints. Everything else is the delegate's.
 */
public final class FencedSaver implements CheckpointSaver {

  private final CheckpointSaver delegate;
  private volatile Predicate<String> mayWrite = runId -> true;
  private volatile Predicate<String> mayWriteThread = threadId -> true;
  private volatile BooleanSupplier leaseHolds = () -> true;

  public FencedSaver(CheckpointSaver delegate) {
    this.delegate = Objects.requireNonNull(delegate);
  }

  /** The saver it fences. */
  public CheckpointSaver delegate() {
    return delegate;
  }

  /**
   * Whether a checkpoint of the run with that id may be written, and task results on that thread (false: this process
   * lost the run executing there).
   */
  public void guard(Predicate<String> mayWriteRun, Predicate<String> mayWriteOnThread) {
    this.mayWrite = Objects.requireNonNull(mayWriteRun);
    this.mayWriteThread = Objects.requireNonNull(mayWriteOnThread);
  }

  /** Whether this process's worker holds its lease (false: the writes of its tasks are refused). */
  public void guardWrites(BooleanSupplier holdsLease) {
    this.leaseHolds = Objects.requireNonNull(holdsLease);
  }

  @Override
  public Mono<Void> put(Checkpoint checkpoint) {
    return Mono.defer(() -> {
      Object runId = checkpoint.metadata().get(RunLifecycle.RUN_ID);
      if (runId instanceof String id && !mayWrite.test(id)) {
        return Mono.error(new IllegalStateException("checkpoint " + checkpoint.id() + " of run " + id
            + " is not saved: this server process lost the run (its worker's lease ran out) and another one has"
            + " taken it over"));
      }
      return delegate.put(checkpoint);
    });
  }

  @Override
  public Mono<CheckpointTuple> get(String threadId, String namespace, @Nullable String checkpointId) {
    return delegate.get(threadId, namespace, checkpointId);
  }

  @Override
  public Flux<CheckpointTuple> list(String threadId, String namespace, @Nullable String before, int limit) {
    return delegate.list(threadId, namespace, before, limit);
  }

  @Override
  public Mono<Void> putWrites(String threadId, String namespace, String checkpointId, List<PendingWrite> writes) {
    return Mono.defer(() -> {
      if (!leaseHolds.getAsBoolean()) {
        return Mono.error(new IllegalStateException("the writes of checkpoint " + checkpointId + " of thread "
            + threadId + " are not saved: this server process's lease ran out, so its runs may have been taken over"));
      }
      if (!mayWriteThread.test(threadId)) {
        return Mono.error(new IllegalStateException("the writes of checkpoint " + checkpointId + " of thread "
            + threadId + " are not saved: this server process lost or stopped the run executing there"));
      }
      return delegate.putWrites(threadId, namespace, checkpointId, writes);
    });
  }

  @Override
  public Mono<Void> deleteThread(String threadId) {
    return delegate.deleteThread(threadId);
  }

  @Override
  public Mono<Void> deleteAfter(String threadId, String namespace, String checkpointId) {
    return delegate.deleteAfter(threadId, namespace, checkpointId);
  }

  @Override
  public Mono<Checkpoint> updateMetadata(String threadId, String namespace, @Nullable String checkpointId,
                                         Map<String, Object> metadata) {
    return delegate.updateMetadata(threadId, namespace, checkpointId, metadata);
  }

  @Override
  public Mono<Long> pruneToLatest(String threadId) {
    return delegate.pruneToLatest(threadId);
  }
}
