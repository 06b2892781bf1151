package dev.fluxgraph.postgres;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Readable;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcTransientException;
import io.r2dbc.spi.Statement;
import java.io.IOException;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * One statement on a connection taken from the factory and released when done or cancelled; shared by the
 * Fluxgraph modules that keep tables in PostgreSQL.
 */
public final class Sql {

  private Sql() {
  }

  /** The rows of a query, each read by {@code row}. Cold. */
  public static <T> Flux<T> query(ConnectionFactory factory, String sql, Consumer<Statement> binder,
                                  Function<Readable, T> row) {
    return Flux.usingWhen(factory.create(), connection -> {
      Statement statement = connection.createStatement(sql);
      binder.accept(statement);
      return Flux.from(statement.execute()).flatMap(result -> result.map(row::apply));
    }, Connection::close);
  }

  /**
   * Whether a statement failed for a reason that trying it again may cure: a lost or refused connection (the backend
   * was terminated, the network dropped, the server restarts) or a transient condition (serialization failure,
   * deadlock). Only idempotent statements are retried on it.
   */
  public static boolean isTransient(Throwable error) {
    return error instanceof R2dbcTransientException || error instanceof R2dbcNonTransientResourceException
        || error.getClass().getName().endsWith("PostgresConnectionClosedException")
        || error instanceof IOException;
  }

  /**
   * Retries an idempotent write that failed transiently ({@link #isTransient}): up to 5 more times, backing off from
   * 50 ms to 1 s, so a connection lost mid-statement (a terminated backend, a database restart) costs a retry, not
   * the write.
   */
  public static Retry transientRetry() {
    return Retry.backoff(5, Duration.ofMillis(50)).maxBackoff(Duration.ofSeconds(1)).filter(Sql::isTransient);
  }

  /**
   * A select-list expression that makes the statement containing it commit without waiting for its WAL to reach the
   * disk: {@code set_config('synchronous_commit', 'off', true)} lasts until the end of the statement's own (implicit)
   * transaction, and PostgreSQL reads the setting when it commits that transaction. For writes made durable by a
   * later ordinary commit of the same database (WAL is flushed in order, so that commit's flush covers them), which
   * a crash before it may lose, newest first. One statement, where {@code BEGIN}, {@code SET LOCAL} and
   * {@code COMMIT} around it would be three more round trips.
   */
  public static final String UNFLUSHED = "(SELECT set_config('synchronous_commit', 'off', true))";

  /** The number of rows a statement changed. Cold. */
  public static Mono<Long> update(ConnectionFactory factory, String sql, Consumer<Statement> binder) {
    return Mono.usingWhen(factory.create(), connection -> {
      Statement statement = connection.createStatement(sql);
      binder.accept(statement);
      return Flux.from(statement.execute()).flatMap(result -> result.getRowsUpdated()).reduce(0L, Long::sum);
    }, Connection::close);
  }
}
