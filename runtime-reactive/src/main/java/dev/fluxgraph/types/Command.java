package dev.fluxgraph.types;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Input that continues a thread's pending run instead of starting a new one.
 *
 * @param kind       how pending interrupts are answered
 * @param resume     the answer to the single pending interrupt when {@code kind} is {@link Kind#RESUME}
 * @param resumeById answers keyed by {@link Interrupt#id()} when {@code kind} is {@link Kind#RESUME_BY_ID}
 * @param goTo       Graph API: the node to go to next, or null
 * @param update     Graph API: a state update to apply, possibly empty
 */
public record Command(Kind kind, @Nullable Object resume, Map<String, Object> resumeById, @Nullable String goTo,
                      Map<String, Object> update) {

  /** How a command answers pending interrupts. */
  public enum Kind {
    /** Answers nothing: continue a run that failed or was cancelled. */
    PROCEED,
    /** Answers the one pending interrupt. */
    RESUME,
    /** Answers the interrupts named by id. */
    RESUME_BY_ID
  }

  public Command {
    Objects.requireNonNull(kind, "kind must not be null");
    Objects.requireNonNull(resumeById, "resumeById must not be null");
    Objects.requireNonNull(update, "update must not be null");
    if (kind == Kind.RESUME_BY_ID && resumeById.isEmpty()) {
      throw new IllegalArgumentException("resumeById needs at least one interrupt id");
    }
    if (kind != Kind.RESUME_BY_ID && !resumeById.isEmpty()) {
      throw new IllegalArgumentException("resumeById values are only allowed with Kind.RESUME_BY_ID");
    }
    resumeById = Collections.unmodifiableMap(new LinkedHashMap<>(resumeById));
    update = Collections.unmodifiableMap(new LinkedHashMap<>(update));
  }

  /** Answers the single pending interrupt with {@code value}; fails if several are pending. */
  public static Command resume(@Nullable Object value) {
    return new Command(Kind.RESUME, value, Map.of(), null, Map.of());
  }

  /** Answers any subset of the pending interrupts, keyed by {@link Interrupt#id()}. */
  public static Command resumeById(Map<String, ?> valuesById) {
    Objects.requireNonNull(valuesById, "valuesById must not be null");
    valuesById.keySet().forEach(id -> Objects.requireNonNull(id, "interrupt ids must not be null"));
    return new Command(Kind.RESUME_BY_ID, null, new LinkedHashMap<>(valuesById), null, Map.of());
  }

  /**
   * Graph API, returned by a node: go to {@code node} next (in addition to the node's edges). Combine with
   * {@link #withUpdate(Map)}.
   */
  public static Command goTo(String node) {
    Objects.requireNonNull(node, "node must not be null");
    return new Command(Kind.PROCEED, null, Map.of(), node, Map.of());
  }

  /** Graph API, returned by a node: apply {@code values} as the node's state update. Combine with {@link #withGoTo}. */
  public static Command update(Map<String, ?> values) {
    Objects.requireNonNull(values, "values must not be null");
    return new Command(Kind.PROCEED, null, Map.of(), null, new LinkedHashMap<String, Object>(values));
  }

  /** This command, also going to {@code node}. */
  public Command withGoTo(String node) {
    Objects.requireNonNull(node, "node must not be null");
    return new Command(kind, resume, resumeById, node, update);
  }

  /** This command, also applying {@code values} as a state update. */
  public Command withUpdate(Map<String, ?> values) {
    Objects.requireNonNull(values, "values must not be null");
    return new Command(kind, resume, resumeById, goTo, new LinkedHashMap<String, Object>(values));
  }

  /** Continues the thread's pending run (after an error or a cancellation) without new input. */
  public static Command proceed() {
    return new Command(Kind.PROCEED, null, Map.of(), null, Map.of());
  }
}
