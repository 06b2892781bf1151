package dev.fluxgraph.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * A value recorded against a checkpoint by a task while a run executes: its result, its error, an interrupt
 * or the answer to an interrupt. Within one checkpoint a write is identified by {@code (taskId, channel)} and
 * is write-once: a second write with the same identity is ignored.
 *
 * @param taskId   the task call id (for {@link #INTERRUPT} and {@link #RESUME}: the interrupt id)
 * @param taskName the task or entrypoint name
 * @param channel  what the value is: {@link #RESULT}, {@link #ERROR}, {@link #INTERRUPT}, {@link #RESUME} or
 *                 {@link #SUBGRAPH} or {@link #UPDATE}
 * @param value    the JSON value
 */
public record PendingWrite(String taskId, String taskName, String channel, JsonNode value) {

  /** A task's successful result. */
  public static final String RESULT = "__return__";
  /** The error of a task's last failed attempt: {@code {"type": ..., "message": ...}}. */
  public static final String ERROR = "__error__";
  /** An interrupt: {@code {"scope": <task id>, "value": ...}}; taskId is the interrupt id. */
  public static final String INTERRUPT = "__interrupt__";
  /** The answer to an interrupt; taskId is the interrupt id. */
  public static final String RESUME = "__resume__";
  /**
   * The state of a graph nested in the run after its input or one of its supersteps (what {@code getState} shows of
   * it while it is paused or failed); taskId is derived from the nested call and the superstep.
   */
  public static final String SUBGRAPH = "__subgraph__";
  /**
   * An {@code updateState} of a graph nested in the run, made while the run was stopped in it: the values and the node
   * they count as written by, applied when the run continues and the nested graph reaches the step where it stopped;
   * taskId is derived from the nested call and that step.
   */
  public static final String UPDATE = "__update__";

  public PendingWrite {
    Objects.requireNonNull(taskId, "taskId must not be null");
    Objects.requireNonNull(taskName, "taskName must not be null");
    Objects.requireNonNull(channel, "channel must not be null");
    Objects.requireNonNull(value, "value must not be null");
  }
}
