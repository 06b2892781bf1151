package dev.fluxgraph.internal.server.runs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.Durability;
import dev.fluxgraph.types.StreamOptions;
import java.time.Duration;
import java.util.Map;
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
 * @param body          the request as it came: what a run's record keeps, so that any process can execute it
 */
public record RunRequest(Entrypoint<Object, Object> graph, String graphId, @Nullable Object input,
                         @Nullable Command command, StreamOptions options, boolean wantsValues,
                         @Nullable Object context, Map<String, Object> metadata,
                         @Nullable Durability durability, @Nullable String checkpointId,
                         Duration delay, boolean deleteThread, String multitaskStrategy, boolean createThread,
                         boolean cancelOnDisconnect, boolean freshThread, JsonNode body) {

  /**
   * The request that continues this run from its own latest checkpoint (another process took it over): the thread's
   * pending run goes on with its committed tasks replayed ({@code Command.proceed()}), not the input again.
   */
  public RunRequest resuming() {
    return new RunRequest(graph, graphId, null, Command.proceed(), options, wantsValues, context, metadata,
        durability, null, Duration.ZERO, deleteThread, multitaskStrategy, createThread, cancelOnDisconnect,
        freshThread, body);
  }
}
