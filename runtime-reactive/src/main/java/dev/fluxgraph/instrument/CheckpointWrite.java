package dev.fluxgraph.instrument;

import java.util.Locale;

/** What a run writes to its checkpointer. */
public enum CheckpointWrite {
  /** A checkpoint ({@code CheckpointSaver.put}): the run's start, a graph's superstep, a completed run. */
  CHECKPOINT,
  /** Task writes ({@code CheckpointSaver.putWrites}): results, errors, interrupts, resume values. */
  WRITES;

  private final String tagValue = name().toLowerCase(Locale.ROOT);

  /** The lower-case name: the {@code kind} tag of the checkpoint write timer. */
  public String tagValue() {
    return tagValue;
  }
}
