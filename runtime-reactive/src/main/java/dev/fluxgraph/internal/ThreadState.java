package dev.fluxgraph.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.checkpoint.Checkpoint;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Reading and writing a thread's state outside a run: getState, getStateHistory, updateState. */
public final class ThreadState {

  private ThreadState() {
  }

  /** The snapshot of the config's checkpoint, or the latest; empty for a thread without checkpoints. */
  public static Mono<StateSnapshot> get(EntrypointSpec spec, RunConfig config) {
    return Mono.defer(() -> {
      String threadId = threadOf(spec, config, "getState");
      String checkpointId = config.checkpointId().orElse(null);
      Mono<StateSnapshot> found = saver(spec, "getState")
          .get(threadId, CheckpointFormat.ROOT_NAMESPACE, checkpointId)
          .map(tuple -> CheckpointFormat.snapshot(tuple, spec));
      return checkpointId == null ? found : found.switchIfEmpty(Mono.error(() -> new IllegalArgumentException(
          "checkpoint " + checkpointId + " not found on thread '" + threadId + "'")));
    });
  }

  /** Every checkpoint of the thread, newest first (older than the config's checkpoint id, when it has one). */
  public static Flux<StateSnapshot> history(EntrypointSpec spec, RunConfig config) {
    return Flux.defer(() -> saver(spec, "getStateHistory")
        .list(threadOf(spec, config, "getStateHistory"), CheckpointFormat.ROOT_NAMESPACE,
            config.checkpointId().orElse(null), Integer.MAX_VALUE)
        .map(tuple -> CheckpointFormat.snapshot(tuple, spec)));
  }

  /**
   * Saves an {@code update} checkpoint after the config's checkpoint (or the latest) whose return and saved value
   * are {@code value}; a pending run at that point is abandoned. Returns the config of the new checkpoint.
   */
  public static Mono<RunConfig> update(EntrypointSpec spec, RunConfig config, @Nullable Object value) {
    if (spec.graph() != null) {
      return GraphLoop.update(spec, config, value, null);
    }
    return Mono.defer(() -> {
      CheckpointSaver saver = saver(spec, "updateState");
      String threadId = threadOf(spec, config, "updateState");
      JsonNode json = Json.toTree(value, () -> "the value passed to updateState");
      String checkpointId = config.checkpointId().orElse(null);
      Mono<Checkpoint> parent = saver.get(threadId, CheckpointFormat.ROOT_NAMESPACE, checkpointId)
          .map(tuple -> tuple.checkpoint());
      if (checkpointId != null) {
        parent = parent.switchIfEmpty(Mono.error(() -> new IllegalArgumentException(
            "checkpoint " + checkpointId + " not found on thread '" + threadId + "'")));
      }
      return parent.map(java.util.Optional::of).defaultIfEmpty(java.util.Optional.empty())
          .flatMap(previous -> {
            Checkpoint update = CheckpointFormat.update(threadId, previous.orElse(null), json, config.metadata(),
                spec.clock());
            return saver.put(update).thenReturn(CheckpointFormat.config(update));
          });
    });
  }

  static CheckpointSaver saver(EntrypointSpec spec, String operation) {
    CheckpointSaver saver = spec.checkpointer();
    if (saver == null) {
      throw new IllegalStateException(operation + " needs a checkpointer, and entrypoint '" + spec.name()
          + "' has none; configure one with Entrypoint.named(..).checkpointer(new InMemorySaver())");
    }
    return saver;
  }

  static String threadOf(EntrypointSpec spec, RunConfig config, String operation) {
    return config.threadId().orElseThrow(() -> new IllegalArgumentException(operation + " on entrypoint '"
        + spec.name() + "' needs a thread id: use RunConfig.thread(\"<id>\")"));
  }
}
