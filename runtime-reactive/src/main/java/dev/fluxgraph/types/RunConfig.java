package dev.fluxgraph.types;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Per-run configuration: which thread (and optionally which checkpoint) to run on, a run-scoped context
 * object, metadata recorded on checkpoints, and an optional durability override. Immutable; every
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

  private RunConfig(@Nullable String threadId, String checkpointNamespace, @Nullable String checkpointId,
                    @Nullable Object context, Map<String, Object> metadata, @Nullable Durability durability,
                    Map<String, Object> configurable) {
    this.threadId = threadId;
    this.checkpointNamespace = checkpointNamespace;
    this.checkpointId = checkpointId;
    this.context = context;
    this.metadata = metadata;
    this.durability = durability;
    this.configurable = configurable;
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
    return new RunConfig(threadId, checkpointNamespace, id, context, metadata, durability, configurable);
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
    return new RunConfig(threadId, namespace, checkpointId, context, metadata, durability, configurable);
  }

  /** A copy carrying a run-scoped context object, read with {@code TaskContext.context(Class)}. */
  public RunConfig withContext(@Nullable Object context) {
    return new RunConfig(threadId, checkpointNamespace, checkpointId, context, metadata, durability, configurable);
  }

  /** A copy whose metadata (recorded on every checkpoint the run saves) is {@code metadata}. */
  public RunConfig withMetadata(Map<String, Object> metadata) {
    Objects.requireNonNull(metadata, "metadata must not be null");
    return new RunConfig(threadId, checkpointNamespace, checkpointId, context,
        Collections.unmodifiableMap(new LinkedHashMap<>(metadata)), durability, configurable);
  }

  /** A copy that overrides the entrypoint's durability for this run. */
  public RunConfig withDurability(Durability durability) {
    Objects.requireNonNull(durability, "durability must not be null");
    return new RunConfig(threadId, checkpointNamespace, checkpointId, context, metadata, durability, configurable);
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
        Collections.unmodifiableMap(new LinkedHashMap<>(values)));
  }

  /** The per-run configuration values; empty unless set with {@link #withConfigurable}. */
  public Map<String, Object> configurable() {
    return configurable;
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
        && configurable.equals(that.configurable);
  }

  @Override
  public int hashCode() {
    return Objects.hash(threadId, checkpointNamespace, checkpointId, context, metadata, durability, configurable);
  }

  @Override
  public String toString() {
    return "RunConfig{thread=" + threadId
        + (checkpointNamespace.isEmpty() ? "" : ", namespace=" + checkpointNamespace) + ", checkpoint=" + checkpointId
        + (metadata.isEmpty() ? "" : ", metadata=" + metadata)
        + (durability == null ? "" : ", durability=" + durability)
        + (configurable.isEmpty() ? "" : ", configurable=" + configurable) + "}";
  }
}
