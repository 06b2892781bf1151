package dev.fluxgraph.postgres;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Statement;
import java.util.function.Consumer;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

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

  /** The number of rows a statement changed. Cold. */
  public static Mono<Long> update(ConnectionFactory factory, String sql, Consumer<Statement> binder) {
    return Mono.usingWhen(factory.create(), connection -> {
      Statement statement = connection.createStatement(sql);
      binder.accept(statement);
      return Flux.from(statement.execute()).flatMap(result -> result.getRowsUpdated()).reduce(0L, Long::sum);
    }, Connection::close);
  }
}
