package dev.fluxgraph.checkpoint;

/** {@link InMemorySaver} against the saver contract. */
class InMemorySaverTest extends CheckpointSaverContract {

  private final InMemorySaver saver = new InMemorySaver();

  @Override
  protected CheckpointSaver saver() {
    return saver;
  }
}
