package dev.fluxgraph.postgres;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import java.util.List;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Versioned, idempotent migrations, shared by the Fluxgraph modules that keep tables in PostgreSQL (versions
 * 1–99 the saver, 101–199 the store, 201–299 the server). {@link #migrate} runs in one transaction holding a transaction-scoped
 * advisory lock, so processes calling {@code setup()} at the same time apply each migration exactly once. Every
 * table is keyed by {@code thread_id} first, so it can later be distributed by thread (e.g. with Citus).
 */
public final class Schema {

  /** Arbitrary but fixed: the advisory lock all Fluxgraph migrations take. */
  private static final long MIGRATION_LOCK = 0x466c7578L; // "Flux"

  /** A migration: its version and its statements. */
  public record Migration(int version, String description, List<String> statements) {
  }

  static final List<Migration> SAVER = List.of(
      new Migration(1, "checkpoints and writes", List.of(
          """
          CREATE TABLE IF NOT EXISTS fluxgraph_checkpoints (
            thread_id      text        NOT NULL,
            checkpoint_ns  text        NOT NULL,
            checkpoint_id  text        NOT NULL,
            parent_id      text,
            created_at     timestamptz NOT NULL,
            metadata       jsonb       NOT NULL,
            channel_values jsonb       NOT NULL,
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
          )""",
          """
          CREATE TABLE IF NOT EXISTS fluxgraph_writes (
            thread_id     text   NOT NULL,
            checkpoint_ns text   NOT NULL,
            checkpoint_id text   NOT NULL,
            task_id       text   NOT NULL,
            channel       text   NOT NULL,
            task_name     text   NOT NULL,
            value         jsonb  NOT NULL,
            seq           bigint GENERATED ALWAYS AS IDENTITY,
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, channel),
            FOREIGN KEY (thread_id, checkpoint_ns, checkpoint_id)
              REFERENCES fluxgraph_checkpoints (thread_id, checkpoint_ns, checkpoint_id) ON DELETE CASCADE
          )""",
          "CREATE INDEX IF NOT EXISTS fluxgraph_checkpoints_created_at ON fluxgraph_checkpoints (created_at)")));

  static final List<Migration> STORE = List.of(
      new Migration(101, "store items", List.of(
          """
          CREATE TABLE IF NOT EXISTS fluxgraph_store (
            prefix     text        NOT NULL,
            key        text        NOT NULL,
            value      jsonb       NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            expires_at timestamptz,
            PRIMARY KEY (prefix, key)
          )""",
          "CREATE INDEX IF NOT EXISTS fluxgraph_store_prefix ON fluxgraph_store (prefix text_pattern_ops)",
          "CREATE INDEX IF NOT EXISTS fluxgraph_store_expires_at ON fluxgraph_store (expires_at)")),
      // the ttl an item was put with, so that a read can refresh its expiry
      new Migration(102, "store item ttl", List.of(
          "ALTER TABLE fluxgraph_store ADD COLUMN IF NOT EXISTS ttl_millis bigint")));

  private Schema() {
  }

  /** Applies the migrations not yet recorded in {@code fluxgraph_migrations}, in version order. */
  public static Mono<Void> migrate(ConnectionFactory factory, List<Migration> migrations) {
    return Mono.usingWhen(factory.create(), connection -> Mono.from(connection.beginTransaction())
            .then(execute(connection, "SELECT pg_advisory_xact_lock(" + MIGRATION_LOCK + ")"))
            .then(execute(connection, """
                CREATE TABLE IF NOT EXISTS fluxgraph_migrations (
                  version    integer     PRIMARY KEY,
                  describes  text        NOT NULL,
                  applied_at timestamptz NOT NULL DEFAULT now()
                )"""))
            .then(Flux.fromIterable(migrations).concatMap(migration -> applied(connection, migration.version())
                .flatMap(done -> done ? Mono.<Void>empty() : apply(connection, migration))).then())
            .then(Mono.from(connection.commitTransaction())),
        Connection::close, (connection, error) -> connection.rollbackTransaction(), Connection::rollbackTransaction);
  }

  private static Mono<Boolean> applied(Connection connection, int version) {
    return Flux.from(connection.createStatement("SELECT 1 FROM fluxgraph_migrations WHERE version = $1")
            .bind("$1", version).execute())
        .flatMap(result -> result.map((row, meta) -> Boolean.TRUE))
        .hasElements();
  }

  private static Mono<Void> apply(Connection connection, Migration migration) {
    return Flux.fromIterable(migration.statements())
        .concatMap(sql -> execute(connection, sql))
        .then(Flux.from(connection.createStatement(
                "INSERT INTO fluxgraph_migrations (version, describes) VALUES ($1, $2)")
            .bind("$1", migration.version()).bind("$2", migration.description()).execute())
            .flatMap(result -> result.getRowsUpdated()).then());
  }

  static Mono<Void> execute(Connection connection, String sql) {
    return Flux.from(connection.createStatement(sql).execute())
        .flatMap(result -> result.getRowsUpdated())
        .then();
  }
}
