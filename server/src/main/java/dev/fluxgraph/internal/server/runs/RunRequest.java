package dev.fluxgraph.internal.server.runs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.Durability;
import dev.fluxgraph.types.StreamOptions;
import dev.fluxgraph.types.FluxgraphJson;
import dev.fluxgraph.types.RunConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A parsed run request.
 *
 * @param checkpointId  the checkpoint to start from instead of the thread's latest (time travel), or null
 * @param delay         how long to wait before starting ({@code after_seconds})
 * @param deleteThread  whether the thread is deleted once the run ends ({@code on_completion: delete}, the
 *                      default of stateless runs)
 * @param multitaskStrategy  reject, interrupt, rollback or enqueue (checked by {@link RunRegistry#start})
 * @param createThread  whether a missing thread is created ({@code if_not_exists: create}) rather than a 404
 * @param cancelOnDisconnect  whether the run is cancelled when its client leaves ({@code on_disconnect: cancel})
 * @param freshThread   whether the run goes on a new thread the server named (stateless runs): nobody else knows it
 *                      before the run's first answer, so it is created when the run is marked busy
 * @param body          the request as it came, with its assistant's defaults merged in: what a run's record keeps, so
 *                      that any process can execute it
 * @param assistantId   the assistant the run is of (a graph's own, or one created through {@code /assistants})
 * @param settings      the run's config beyond its configurable values: recursion limit, tags, name, breakpoints
 * @param assistantAt   the {@code updated_at} of the assistant version whose defaults {@code body} holds, when that
 *                      version may have been read before this request (a cached read): the run's record is then only
 *                      written while the version is current; null when it was read for this request, or none
 */
public record RunRequest(Entrypoint<Object, Object> graph, String graphId, @Nullable Object input,
                         @Nullable Command command, StreamOptions options, boolean wantsValues,
                         @Nullable Object context, Map<String, Object> metadata,
                         @Nullable Durability durability, @Nullable String checkpointId,
                         Duration delay, boolean deleteThread, String multitaskStrategy, boolean createThread,
                         boolean cancelOnDisconnect, boolean freshThread, JsonNode body, String assistantId,
                         Settings settings, @Nullable Instant assistantAt) {

  /**
   * The request's {@code config} beyond {@code configurable}, and its breakpoints, as the run's {@link RunConfig}
   * carries them.
   *
   * @param recursionLimit   {@code config.recursion_limit}, or null for the graph's own
   * @param interruptBefore  {@code interrupt_before} (node names, or {@code "*"}), or null for the graph's own
   * @param interruptAfter   {@code interrupt_after}, or null for the graph's own
   */
  public record Settings(@Nullable Integer recursionLimit, List<String> tags, @Nullable String runName,
                         @Nullable List<String> interruptBefore, @Nullable List<String> interruptAfter) {

    public static final Settings NONE = new Settings(null, List.of(), null, null, null);

    /** {@code config} with these settings. */
    public RunConfig applyTo(RunConfig config) {
      RunConfig applied = config.withTags(tags);
      if (recursionLimit != null) {
        applied = applied.withRecursionLimit(recursionLimit);
      }
      if (runName != null) {
        applied = applied.withRunName(runName);
      }
      if (interruptBefore != null) {
        applied = applied.withInterruptBefore(interruptBefore);
      }
      return interruptAfter == null ? applied : applied.withInterruptAfter(interruptAfter);
    }
  }

  /**
   * Keys of {@code config.configurable} the server sets itself, or that name the thread and checkpoint. Not
   * {@code user_id}: the reference keeps the request's (before the thread's, the assistant's and the
   * authenticated user's), and this server has no users of its own to set it from.
   */
  private static final Set<String> RESERVED = Set.of("thread_id", "checkpoint_id", "checkpoint_ns", "checkpoint_map",
      "run_id", "assistant_id", "graph_id");

  /** The run's configurable values: the request's {@code config.configurable} without the keys the server sets. */
  public Map<String, Object> configurable() {
    return configurableOf(body);
  }

  /**
   * The configurable values of a run request body ({@code config.configurable}), without {@code thread_id},
   * {@code checkpoint_id} and the other keys the server sets (or {@code __x}/{@code langgraph_x} keys).
   *
   * @throws IllegalArgumentException if {@code config.configurable} is there but not an object
   */
  public static Map<String, Object> configurableOf(JsonNode body) {
    JsonNode node = body.path("config").path("configurable");
    if (node.isMissingNode() || node.isNull()) {
      return Map.of();
    }
    if (!node.isObject()) {
      throw new IllegalArgumentException("config.configurable must be an object");
    }
    Map<String, Object> values = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> entry : node.properties()) {
      String key = entry.getKey();
      if (!RESERVED.contains(key) && !key.startsWith("__") && !key.startsWith("langgraph_")) {
        values.put(key, FluxgraphJson.mapper().convertValue(entry.getValue(), Object.class));
      }
    }
    return values;
  }

  /**
   * The request that continues this run from its own latest checkpoint (another process took it over): the thread's
   * pending run goes on with its committed tasks replayed ({@code Command.proceed()}), not the input again.
   */
  public RunRequest resuming() {
    return new RunRequest(graph, graphId, null, Command.proceed(), options, wantsValues, context, metadata,
        durability, null, Duration.ZERO, deleteThread, multitaskStrategy, createThread, cancelOnDisconnect,
        freshThread, body, assistantId, settings, assistantAt);
  }
}
