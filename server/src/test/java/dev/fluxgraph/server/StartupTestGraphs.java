package dev.fluxgraph.server;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.store.Store;
import java.time.Duration;
import java.util.Map;
import reactor.core.publisher.Mono;

/**
 * The graphs that {@link ServerStartupIT} and {@link MultiProcessIT} give the server's command line, through a
 * services file that only the child JVMs of those tests see (other tests build their servers with
 * {@code discoverGraphs(false)} or their own graphs): {@code echo}, and {@code sleep}, which answers its input (a
 * number of milliseconds) after that long.
 */
public final class StartupTestGraphs implements GraphProvider {

  @Override
  public Map<String, Entrypoint<?, ?>> graphs(CheckpointSaver checkpointer, Store store) {
    return Map.of("echo", Entrypoint.named("echo").checkpointer(checkpointer)
            .define(String.class, String.class, (input, context) -> Mono.just(input)),
        "sleep", Entrypoint.named("sleep").checkpointer(checkpointer)
            .define(Integer.class, Integer.class, (input, context) -> Mono.delay(Duration.ofMillis(input))
                .thenReturn(input)));
  }
}
