package dev.fluxgraph.server;

import dev.fluxgraph.checkpoint.InMemorySaver;

/** {@link AssistantsContract} in memory ({@code --in-memory}). */
class AssistantsServerIT extends AssistantsContract {

  private final InMemorySaver saver = new InMemorySaver();

  @Override
  FluxgraphServer.Builder server() {
    return graphs(FluxgraphServer.builder(), saver);
  }
}
