package dev.fluxgraph.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.checkpoint.Checkpoint;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.CheckpointTuple;
import dev.fluxgraph.errors.InvalidUpdateException;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Reading and writing a thread's state outside a run: getState, getStateHistory, updateState. */
public final class ThreadState {

  private ThreadState() {
  }

  /**
   * The snapshot of the config's checkpoint, or the latest; empty for a thread without checkpoints. With a
   * checkpoint namespace in the config, the snapshot of that nested graph or entrypoint as of the checkpoint (an
   * {@link IllegalArgumentException} when none ran there). {@code subgraphs}: tasks carry the snapshots of the nested
   * runs that are paused or failed.
   */
  public static Mono<StateSnapshot> get(EntrypointSpec spec, RunConfig config, boolean subgraphs) {
    return Mono.defer(() -> {
      String threadId = threadOf(spec, config, "getState");
      String checkpointId = config.checkpointId().orElse(null);
      String namespace = config.checkpointNamespace();
      if (namespace.isEmpty()) {
        return holder(spec, threadId, checkpointId, "getState").map(tuple -> Snapshots.root(tuple, spec, subgraphs));
      }
      // a nested state's id may be derived from its checkpoint's (Snapshots.nestedHistory)
      return holder(spec, threadId, checkpointId == null ? null : Snapshots.holderOf(checkpointId), "getState")
          .map(tuple -> checkpointId != null && !checkpointId.equals(tuple.checkpoint().id())
              ? Snapshots.nestedState(tuple, spec, namespace, checkpointId, subgraphs)
              : Snapshots.nested(tuple, spec, namespace, subgraphs).orElseThrow(() -> new IllegalArgumentException(
                  "no nested graph or entrypoint ran under checkpoint namespace '" + namespace + "' as of checkpoint "
                  + tuple.checkpoint().id() + " of thread '" + threadId + "'")));
    });
  }

  /** The thread's checkpoint {@code checkpointId} (an error when there is none such), or its latest (null). */
  private static Mono<CheckpointTuple> holder(EntrypointSpec spec, String threadId, @Nullable String checkpointId,
                                              String operation) {
    Mono<CheckpointTuple> found = saver(spec, operation).get(threadId, CheckpointFormat.ROOT_NAMESPACE, checkpointId);
    return checkpointId == null ? found : found.switchIfEmpty(Mono.error(() -> new IllegalArgumentException(
        "checkpoint " + checkpointId + " not found on thread '" + threadId + "'")));
  }

  /**
   * Every checkpoint of the thread, newest first (older than the config's checkpoint id, when it has one). With a
   * checkpoint namespace in the config, the snapshots of that nested graph or entrypoint in the checkpoints that
   * hold one: for a graph, each state it recorded (after its input, each superstep, each update), newest first, then
   * its input; with a checkpoint id, those older than the state it names.
   */
  public static Flux<StateSnapshot> history(EntrypointSpec spec, RunConfig config, boolean subgraphs) {
    return Flux.defer(() -> {
      String namespace = config.checkpointNamespace();
      String threadId = threadOf(spec, config, "getStateHistory");
      String checkpointId = config.checkpointId().orElse(null);
      if (namespace.isEmpty()) {
        return saver(spec, "getStateHistory").list(threadId, CheckpointFormat.ROOT_NAMESPACE, checkpointId,
            Integer.MAX_VALUE).map(tuple -> Snapshots.root(tuple, spec, subgraphs));
      }
      String holder = checkpointId == null ? null : Snapshots.holderOf(checkpointId);
      // the holder's own states older than the one named, then those of the checkpoints before it
      Flux<StateSnapshot> first = holder == null ? Flux.empty() : holder(spec, threadId, holder, "getStateHistory")
          .flatMapIterable(tuple -> Snapshots.nestedHistoryBefore(tuple, spec, namespace, checkpointId, subgraphs));
      return first.concatWith(saver(spec, "getStateHistory").list(threadId, CheckpointFormat.ROOT_NAMESPACE, holder,
              Integer.MAX_VALUE).flatMapIterable(tuple -> Snapshots.nestedHistory(tuple, spec, namespace, subgraphs)));
    });
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
      refuseNested(spec, config);
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
      return parent.map(Optional::of).defaultIfEmpty(Optional.empty())
          .flatMap(previous -> {
            Checkpoint update = CheckpointFormat.update(threadId, previous.orElse(null), json, config.metadata(),
                spec.clock());
            return saver.put(update).thenReturn(CheckpointFormat.config(update));
          });
    });
  }

  /**
   * In an entrypoint's run, a nested graph's or entrypoint's state is part of the run that called it (its results are
   * that run's writes, replayed when it continues) and nested by code, so it is edited through the calling run: update
   * the thread's own state, or resume with a {@code Command} (a graph's subgraph nodes can be updated:
   * {@link GraphLoop#updateNested}). Throws {@link InvalidUpdateException} for a config with a checkpoint namespace.
   */
  static void refuseNested(EntrypointSpec spec, RunConfig config) {
    if (!config.checkpointNamespace().isEmpty()) {
      throw new InvalidUpdateException("updateState cannot edit the state of the nested graph or entrypoint under "
          + "checkpoint namespace '" + config.checkpointNamespace() + "' of '" + spec.name() + "': it belongs to the "
          + "run that called it; update the thread's own state (a config without checkpoint namespace) or resume the "
          + "run with a Command");
    }
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
