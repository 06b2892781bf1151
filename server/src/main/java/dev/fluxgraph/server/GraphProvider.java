package dev.fluxgraph.server;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.store.Store;
import java.util.Map;

/**
 * Supplies graphs to the server, found with {@link java.util.ServiceLoader}: list the implementation in
 * {@code META-INF/services/dev.fluxgraph.server.GraphProvider}. The server calls it once at start with the
 * persistence it runs on, so the graphs use the server's checkpointer and store.
 */
public interface GraphProvider {

  /** Graph id to entrypoint; the ids become assistants. */
  Map<String, Entrypoint<?, ?>> graphs(CheckpointSaver checkpointer, Store store);

  /**
   * Graph id to a factory that builds the graph per run from the run's configuration (see {@link GraphFactory});
   * the ids become assistants as well. Called once at start, like {@link #graphs}. Default: none.
   */
  default Map<String, GraphFactory> graphFactories(CheckpointSaver checkpointer, Store store) {
    return Map.of();
  }
}
