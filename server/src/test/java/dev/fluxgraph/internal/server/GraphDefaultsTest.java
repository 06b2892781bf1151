package dev.fluxgraph.internal.server;

import static org.junit.jupiter.api.Assertions.assertSame;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.store.InMemoryStore;
import dev.fluxgraph.store.Store;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** Graphs on the server's persistence: defaults where a graph has none, fencing where it shares the server's saver. */
class GraphDefaultsTest {

  private static Entrypoint<String, String> echo(CheckpointSaver saver) {
    return Entrypoint.named("echo").checkpointer(saver)
        .define(String.class, String.class, (text, context) -> Mono.just(text));
  }

  @Test
  void aGraphOnTheServersSaverIsFencedAndOthersAreLeftAlone() {
    CheckpointSaver shared = new InMemorySaver();
    CheckpointSaver fenced = new InMemorySaver();
    CheckpointSaver own = new InMemorySaver();

    Entrypoint<?, ?> onShared = GraphDefaults.fence(echo(shared), fenced, shared);
    assertSame(fenced, onShared.checkpointer().orElseThrow(), "saves through the fenced saver");
    org.junit.jupiter.api.Assertions.assertEquals("echo", onShared.name());
    Entrypoint<String, String> onOwn = echo(own);
    assertSame(onOwn, GraphDefaults.fence(onOwn, fenced, shared), "a graph with a saver of its own is left alone");
  }

  @Test
  void aGraphWithoutPersistenceGetsTheServersAndOneWithItsOwnKeepsIt() {
    CheckpointSaver server = new InMemorySaver();
    Store store = new InMemoryStore();
    Entrypoint<String, String> bare = Entrypoint.named("bare")
        .define(String.class, String.class, (text, context) -> Mono.just(text));
    Entrypoint<?, ?> served = GraphDefaults.apply(bare, server, null, store);
    assertSame(server, served.checkpointer().orElseThrow());
    Entrypoint<String, String> own = echo(new InMemorySaver());
    CheckpointSaver kept = own.checkpointer().orElseThrow();
    assertSame(kept, GraphDefaults.apply(own, server, null, store).checkpointer().orElseThrow());
  }
}
