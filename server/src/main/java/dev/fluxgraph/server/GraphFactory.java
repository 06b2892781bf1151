package dev.fluxgraph.server;

import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.types.RunConfig;

/**
 * Builds a graph from a run's configuration, as the reference's graph-making functions do: e.g. to pick the model
 * or the tools per assistant or per run. Register one with {@link FluxgraphServer.Builder#graph(String, GraphFactory)}
 * or {@link GraphProvider#graphFactories}.
 *
 * <p>The server calls it with a config that holds only the run's {@link RunConfig#configurable() configurable}
 * values (the request's {@code config.configurable}, without {@code thread_id} and the other keys the server sets),
 * and keeps the graph it returns for later runs with equal values (a bounded cache: the least recently used of
 * 64 configurations per factory goes first). As
 * the factory sees nothing else, reusing the graph is safe; the run itself still gets its whole config (thread,
 * context, metadata, configurable). State reads, assistants and threads use the graph built from empty
 * configurable values, so a factory must accept those (a default model, say). The graphs of one factory must agree
 * on their nodes, so that any of them reads the checkpoints the others wrote.
 *
 * <p>Called on the thread that handles the request: it must not block. An exception fails that request with status
 * 422 and a message naming the graph id, the values and the exception (the values are all it depends on); a null
 * graph is an internal error (500).
 */
@FunctionalInterface
public interface GraphFactory {

  /** The graph to run with {@code config}. */
  Entrypoint<?, ?> create(RunConfig config);
}
