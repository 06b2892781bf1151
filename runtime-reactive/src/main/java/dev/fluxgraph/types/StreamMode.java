package dev.fluxgraph.types;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** What a {@code stream(...)} subscriber wants to see. See SEMANTICS.md §5 for the data of each mode. */
public enum StreamMode {
  /** The entrypoint's return value when it completes; {@code {"__interrupt__": [...]}} on pause. */
  VALUES,
  /** {@code {"<task>": result}} per completed task, then {@code {"<entrypoint>": value}}. */
  UPDATES,
  /** Exactly what {@code StreamWriter.emit/write} received, in order. */
  CUSTOM,
  /** Task start and end events. */
  TASKS,
  /** One event per saved checkpoint. */
  CHECKPOINTS,
  /** Checkpoint and task events wrapped with step, timestamp and type. */
  DEBUG,
  /**
   * {@code [messageChunk, metadata]} for model tokens emitted from a task, and in graphs for the messages a node
   * writes (once; not those whose id was already streamed).
   */
  MESSAGES;

  /** The lower-case name used on the wire, e.g. {@code "updates"}. */
  @JsonValue
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The mode with the given wire name. @throws IllegalArgumentException naming the unknown mode */
  public static StreamMode fromWireName(String wireName) {
    for (StreamMode mode : values()) {
      if (mode.wireName().equals(wireName)) {
        return mode;
      }
    }
    throw new IllegalArgumentException("unknown stream mode '" + wireName + "'; expected one of "
        + java.util.Arrays.stream(values()).map(StreamMode::wireName).toList());
  }
}
