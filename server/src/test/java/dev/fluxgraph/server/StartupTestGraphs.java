package dev.fluxgraph.server;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.store.Store;
import java.util.Map;
import reactor.core.publisher.Mono;

/**
 * The graph that {@link ServerStartupIT} gives the server's command line, through a services file that only the
 * child JVMs of that test see (other tests build their servers with {@code discoverGraphs(false)} or their own graphs).
 */
public final class StartupTestGraphs implements GraphProvider {

  @Override
  public Map<String, Entrypoint<?, ?>> graphs(CheckpointSaver checkpointer, Store store) {
    return Map.of("echo", Entrypoint.named("echo").checkpointer(checkpointer)
        .define(String.class, String.class, (input, context) -> Mono.just(input)));
  }
}
