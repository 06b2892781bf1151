package dev.fluxgraph.postgres;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.CheckpointSaverContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** {@link PostgresSaver} against the saver contract, on the shared embedded PostgreSQL. */
class PostgresSaverIT extends CheckpointSaverContract {

  private static PostgresSaver saver;

  @BeforeAll
  static void connect() {
    saver = PostgresSaver.connect(EmbeddedPostgres.r2dbcUrl());
    saver.setup().block();
  }

  @AfterAll
  static void close() {
    saver.close();
  }

  @Override
  protected CheckpointSaver saver() {
    return saver;
  }
}
