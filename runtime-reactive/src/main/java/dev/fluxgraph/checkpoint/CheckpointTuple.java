package dev.fluxgraph.checkpoint;

import java.util.List;
import java.util.Objects;

/**
 * A checkpoint together with the writes recorded against it, in the order they were first written.
 *
 * @param checkpoint the checkpoint
 * @param writes     its pending writes
 */
public record CheckpointTuple(Checkpoint checkpoint, List<PendingWrite> writes) {
  public CheckpointTuple {
    Objects.requireNonNull(checkpoint, "checkpoint must not be null");
    writes = List.copyOf(writes);
  }
}
