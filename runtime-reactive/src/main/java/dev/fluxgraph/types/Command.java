package dev.fluxgraph.types;

import dev.fluxgraph.graph.Send;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
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
 * @param sends      Graph API: {@link Send}s to run in the next superstep, possibly empty
 * @param forParent  Graph API: whether a node returns this command to the graph that runs its graph as a subgraph
 *                   ({@link #toParent()})
 */
public record Command(Kind kind, @Nullable Object resume, Map<String, Object> resumeById, @Nullable String goTo,
                      Map<String, Object> update, List<Send> sends, boolean forParent) {

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
    Objects.requireNonNull(sends, "sends must not be null");
    if (kind == Kind.RESUME_BY_ID && resumeById.isEmpty()) {
      throw new IllegalArgumentException("resumeById needs at least one interrupt id");
    }
    if (kind != Kind.RESUME_BY_ID && !resumeById.isEmpty()) {
      throw new IllegalArgumentException("resumeById values are only allowed with Kind.RESUME_BY_ID");
    }
    if (forParent && kind != Kind.PROCEED) {
      throw new IllegalArgumentException("toParent() applies to the goTo/update commands a node returns, not to "
          + "resume commands");
    }
    resumeById = Collections.unmodifiableMap(new LinkedHashMap<>(resumeById));
    update = Collections.unmodifiableMap(new LinkedHashMap<>(update));
    sends = List.copyOf(sends);
  }

  /** A command without Sends, for this graph. */
  public Command(Kind kind, @Nullable Object resume, Map<String, Object> resumeById, @Nullable String goTo,
                 Map<String, Object> update) {
    this(kind, resume, resumeById, goTo, update, List.of(), false);
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
    return new Command(kind, resume, resumeById, node, update, sends, forParent);
  }

  /**
   * Graph API, returned by a node (or as run input): run each {@link Send} in the next superstep, with its
   * {@code arg} as the node's input. Combine with {@link #withUpdate(Map)} and {@link #withGoTo(String)}.
   *
   * @throws IllegalArgumentException when no Send is given
   */
  public static Command goTo(Send... sends) {
    return proceed().withGoTo(sends);
  }

  /** This command, also running {@code sends} in the next superstep (after any it already has). */
  public Command withGoTo(Send... sends) {
    Objects.requireNonNull(sends, "sends must not be null");
    if (sends.length == 0) {
      throw new IllegalArgumentException("Command.goTo(Send...) needs at least one Send");
    }
    List<Send> all = new ArrayList<>(this.sends);
    for (Send send : sends) {
      all.add(Objects.requireNonNull(send, "sends must not contain null"));
    }
    return new Command(kind, resume, resumeById, goTo, update, all, forParent);
  }

  /**
   * Graph API: this command (its {@code goTo}, Sends and update) for the graph that runs the node's graph as a
   * subgraph (the reference's {@code graph=Command.PARENT}): the subgraph stops there, and the node of the parent
   * graph that ran it finishes with this command as its result, so the update applies to the parent's state and
   * the parent goes on to the named nodes. A node whose graph has no parent graph fails with an
   * {@code IllegalStateException} saying so.
   *
   * @throws IllegalArgumentException for a resume command
   */
  public Command toParent() {
    return new Command(kind, resume, resumeById, goTo, update, sends, true);
  }

  /** This command, also applying {@code values} as a state update. */
  public Command withUpdate(Map<String, ?> values) {
    Objects.requireNonNull(values, "values must not be null");
    return new Command(kind, resume, resumeById, goTo, new LinkedHashMap<String, Object>(values), sends, forParent);
  }

  /** Continues the thread's pending run (after an error or a cancellation) without new input. */
  public static Command proceed() {
    return new Command(Kind.PROCEED, null, Map.of(), null, Map.of());
  }
}
