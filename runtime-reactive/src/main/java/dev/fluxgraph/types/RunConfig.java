package dev.fluxgraph.types;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Per-run configuration: which thread (and optionally which checkpoint) to run on, a run-scoped context
 * object, metadata recorded on checkpoints, an optional durability override, configurable values, and the run's
 * recursion limit, tags, name and breakpoints. Immutable; every
 * {@code withX} returns a copy. A config may also address the state of a nested graph or entrypoint
 * ({@link #withCheckpointNamespace}), as the snapshots in {@code TaskState.state} do; such a config is for
 * reading state only.
 */
public final class RunConfig {

  private static final RunConfig NONE = new RunConfig(null, "", null, null, Map.of(), null, Map.of());

  private final @Nullable String threadId;
  private final String checkpointNamespace;
  private final @Nullable String checkpointId;
  private final @Nullable Object context;
  private final Map<String, Object> metadata;
  private final @Nullable Durability durability;
  private final Map<String, Object> configurable;
  private final Tuning tuning;

  /**
   * The per-run settings that tune the engine rather than address state: recursion limit, tags, run name and
   * breakpoints. Kept apart so the many copies above stay short.
   */
  private record Tuning(@Nullable Integer recursionLimit, List<String> tags, @Nullable String runName,
                        @Nullable Set<String> interruptBefore, @Nullable Set<String> interruptAfter) {
    static final Tuning NONE = new Tuning(null, List.of(), null, null, null);
  }

  private RunConfig(@Nullable String threadId, String checkpointNamespace, @Nullable String checkpointId,
                    @Nullable Object context, Map<String, Object> metadata, @Nullable Durability durability,
                    Map<String, Object> configurable) {
    this(threadId, checkpointNamespace, checkpointId, context, metadata, durability, configurable, Tuning.NONE);
  }

  private RunConfig(@Nullable String threadId, String checkpointNamespace, @Nullable String checkpointId,
                    @Nullable Object context, Map<String, Object> metadata, @Nullable Durability durability,
                    Map<String, Object> configurable, Tuning tuning) {
    this.threadId = threadId;
    this.checkpointNamespace = checkpointNamespace;
    this.checkpointId = checkpointId;
    this.context = context;
    this.metadata = metadata;
    this.durability = durability;
    this.configurable = configurable;
    this.tuning = tuning;
  }

  private RunConfig tuned(Tuning tuned) {
    return new RunConfig(threadId, checkpointNamespace, checkpointId, context, metadata, durability, configurable,
        tuned);
  }

  /** A config for the given thread. @throws IllegalArgumentException if the id is blank */
  public static RunConfig thread(String threadId) {
    Objects.requireNonNull(threadId, "threadId must not be null");
    if (threadId.isBlank()) {
      throw new IllegalArgumentException("threadId must not be blank");
    }
    return new RunConfig(threadId, "", null, null, Map.of(), null, Map.of());
  }

  /** A config without a thread: for entrypoints that have no checkpointer. */
  public static RunConfig none() {
    return NONE;
  }

  /** A copy addressing one checkpoint of the thread (time travel, or reading an older state). */
  public RunConfig withCheckpointId(@Nullable String id) {
    if (id != null && id.isBlank()) {
      throw new IllegalArgumentException("checkpointId must not be blank");
    }
    return new RunConfig(threadId, checkpointNamespace, id, context, metadata, durability, configurable, tuning);
  }

  /**
   * A copy addressing the state of a nested graph or entrypoint: {@code "<name>:<call id>"}, with
   * {@code "|"} between the segments of deeper ones, as in {@code TaskState.state().config()}; {@code ""} (the
   * default) is the thread's own (root) state. {@code getState} reads the nested state as of the config's
   * checkpoint of the thread; runs and {@code updateState} refuse such a config.
   *
   * @throws IllegalArgumentException if a segment of {@code namespace} is blank
   */
  public RunConfig withCheckpointNamespace(String namespace) {
    Objects.requireNonNull(namespace, "namespace must not be null");
    if (!namespace.isEmpty()) {
      for (String segment : namespace.split("\\|", -1)) {
        if (segment.isBlank()) {
          throw new IllegalArgumentException("checkpoint namespace '" + namespace + "' has a blank segment");
        }
      }
    }
    return new RunConfig(threadId, namespace, checkpointId, context, metadata, durability, configurable, tuning);
  }

  /** A copy carrying a run-scoped context object, read with {@code TaskContext.context(Class)}. */
  public RunConfig withContext(@Nullable Object context) {
    return new RunConfig(threadId, checkpointNamespace, checkpointId, context, metadata, durability, configurable,
        tuning);
  }

  /** A copy whose metadata (recorded on every checkpoint the run saves) is {@code metadata}. */
  public RunConfig withMetadata(Map<String, Object> metadata) {
    Objects.requireNonNull(metadata, "metadata must not be null");
    return new RunConfig(threadId, checkpointNamespace, checkpointId, context,
        Collections.unmodifiableMap(new LinkedHashMap<>(metadata)), durability, configurable, tuning);
  }

  /** A copy that overrides the entrypoint's durability for this run. */
  public RunConfig withDurability(Durability durability) {
    Objects.requireNonNull(durability, "durability must not be null");
    return new RunConfig(threadId, checkpointNamespace, checkpointId, context, metadata, durability, configurable,
        tuning);
  }

  /**
   * A copy carrying per-run configuration values (the reference's {@code config["configurable"]}, e.g. which model
   * a graph uses), readable by nodes and tasks through {@code TaskContext.config()} and by graph factories. It never
   * holds the thread or checkpoint id, which are {@link #threadId()} and {@link #checkpointId()}.
   *
   * @throws IllegalArgumentException if it has the key {@code thread_id}, {@code checkpoint_id} or
   *                                  {@code checkpoint_ns}
   */
  public RunConfig withConfigurable(Map<String, Object> values) {
    Objects.requireNonNull(values, "values must not be null");
    for (String reserved : new String[] {"thread_id", "checkpoint_id", "checkpoint_ns"}) {
      if (values.containsKey(reserved)) {
        throw new IllegalArgumentException("configurable must not hold '" + reserved + "': use RunConfig.thread(..), "
            + "withCheckpointId(..) or withCheckpointNamespace(..)");
      }
    }
    return new RunConfig(threadId, checkpointNamespace, checkpointId, context, metadata, durability,
        Collections.unmodifiableMap(new LinkedHashMap<>(values)), tuning);
  }

  /** The per-run configuration values; empty unless set with {@link #withConfigurable}. */
  public Map<String, Object> configurable() {
    return configurable;
  }

  /**
   * A copy whose graph runs at most {@code supersteps} supersteps per invocation, instead of the graph's
   * {@code CompileOptions.withRecursionLimit} (the reference's {@code config["recursion_limit"]}); nested graphs of
   * the run inherit it. {@code TaskContext.remainingSteps()} counts down from it. Entrypoints, which have no
   * supersteps, are not limited by it.
   *
   * @throws IllegalArgumentException if {@code supersteps} is less than 1
   */
  public RunConfig withRecursionLimit(int supersteps) {
    if (supersteps < 1) {
      throw new IllegalArgumentException("recursion limit must be at least 1, was " + supersteps);
    }
    return tuned(new Tuning(supersteps, tuning.tags, tuning.runName, tuning.interruptBefore, tuning.interruptAfter));
  }

  /** The per-run recursion limit, if set with {@link #withRecursionLimit}; otherwise the graph's own applies. */
  public Optional<Integer> recursionLimit() {
    return Optional.ofNullable(tuning.recursionLimit);
  }

  /**
   * A copy carrying {@code tags}, labels of the run for the code that reads {@code TaskContext.config()} (e.g. for
   * tracing); the engine itself does nothing with them.
   *
   * @throws IllegalArgumentException if a tag is blank
   */
  public RunConfig withTags(List<String> tags) {
    Objects.requireNonNull(tags, "tags must not be null");
    for (String tag : tags) {
      Objects.requireNonNull(tag, "a tag must not be null");
      if (tag.isBlank()) {
        throw new IllegalArgumentException("a tag must not be blank");
      }
    }
    return tuned(new Tuning(tuning.recursionLimit, List.copyOf(tags), tuning.runName, tuning.interruptBefore,
        tuning.interruptAfter));
  }

  /** The run's tags; empty unless set with {@link #withTags}. */
  public List<String> tags() {
    return tuning.tags;
  }

  /**
   * A copy carrying the run's name, for the code that reads {@code TaskContext.config()}; the engine itself does
   * nothing with it. @throws IllegalArgumentException if it is blank
   */
  public RunConfig withRunName(String name) {
    Objects.requireNonNull(name, "name must not be null");
    if (name.isBlank()) {
      throw new IllegalArgumentException("run name must not be blank");
    }
    return tuned(new Tuning(tuning.recursionLimit, tuning.tags, name, tuning.interruptBefore, tuning.interruptAfter));
  }

  /** The run's name, if set with {@link #withRunName}. */
  public Optional<String> runName() {
    return Optional.ofNullable(tuning.runName);
  }

  /**
   * A copy whose run pauses before the named nodes of its (root) graph, in place of the graph's
   * {@code CompileOptions.withInterruptBefore}; {@code "*"} names every node, an empty list none. Nested graphs keep
   * their own breakpoints; entrypoints have no nodes and ignore it.
   */
  public RunConfig withInterruptBefore(Collection<String> nodes) {
    return tuned(new Tuning(tuning.recursionLimit, tuning.tags, tuning.runName, nodeNames(nodes, "interruptBefore"),
        tuning.interruptAfter));
  }

  /** The run's own breakpoints before nodes, if set with {@link #withInterruptBefore}. */
  public Optional<Set<String>> interruptBefore() {
    return Optional.ofNullable(tuning.interruptBefore);
  }

  /** As {@link #withInterruptBefore}, pausing after the named nodes ran. */
  public RunConfig withInterruptAfter(Collection<String> nodes) {
    return tuned(new Tuning(tuning.recursionLimit, tuning.tags, tuning.runName, tuning.interruptBefore,
        nodeNames(nodes, "interruptAfter")));
  }

  /** The run's own breakpoints after nodes, if set with {@link #withInterruptAfter}. */
  public Optional<Set<String>> interruptAfter() {
    return Optional.ofNullable(tuning.interruptAfter);
  }

  private static Set<String> nodeNames(Collection<String> nodes, String what) {
    Objects.requireNonNull(nodes, what + " must not be null");
    for (String node : nodes) {
      Objects.requireNonNull(node, what + " must not hold null");
      if (node.isBlank()) {
        throw new IllegalArgumentException(what + " must not hold a blank node name");
      }
    }
    return Collections.unmodifiableSet(new LinkedHashSet<>(nodes));
  }

  public Optional<String> threadId() {
    return Optional.ofNullable(threadId);
  }

  /** The checkpoint namespace: {@code ""} for the thread's own state, else a nested graph's or entrypoint's. */
  public String checkpointNamespace() {
    return checkpointNamespace;
  }

  public Optional<String> checkpointId() {
    return Optional.ofNullable(checkpointId);
  }

  /** The run-scoped context object, if any. */
  public Optional<Object> context() {
    return Optional.ofNullable(context);
  }

  public Map<String, Object> metadata() {
    return metadata;
  }

  /** The durability override, if any; otherwise the entrypoint's own applies. */
  public Optional<Durability> durability() {
    return Optional.ofNullable(durability);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof RunConfig that
        && Objects.equals(threadId, that.threadId)
        && checkpointNamespace.equals(that.checkpointNamespace)
        && Objects.equals(checkpointId, that.checkpointId)
        && Objects.equals(context, that.context)
        && metadata.equals(that.metadata)
        && durability == that.durability
        && configurable.equals(that.configurable)
        && tuning.equals(that.tuning);
  }

  @Override
  public int hashCode() {
    return Objects.hash(threadId, checkpointNamespace, checkpointId, context, metadata, durability, configurable,
        tuning);
  }

  @Override
  public String toString() {
    return "RunConfig{thread=" + threadId
        + (checkpointNamespace.isEmpty() ? "" : ", namespace=" + checkpointNamespace) + ", checkpoint=" + checkpointId
        + (metadata.isEmpty() ? "" : ", metadata=" + metadata)
        + (durability == null ? "" : ", durability=" + durability)
        + (configurable.isEmpty() ? "" : ", configurable=" + configurable)
        + (tuning.equals(Tuning.NONE) ? "" : ", " + tuning) + "}";
  }
}
