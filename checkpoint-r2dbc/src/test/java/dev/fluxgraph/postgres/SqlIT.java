package dev.fluxgraph.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.r2dbc.spi.Connection;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** {@link Sql#UNFLUSHED}: off for the statement's own transaction, back to the server's setting after it. */
class SqlIT {

  private static Mono<String> single(Connection connection, String sql) {
    return Flux.from(connection.createStatement(sql).execute())
        .flatMap(result -> result.map(row -> String.valueOf(row.get(0))))
        .next();
  }

  @Test
  void unflushedHoldsForItsStatementOnlyOnTheSameConnection() {
    try (PostgresSaver saver = PostgresSaver.connect(EmbeddedPostgres.r2dbcUrl())) {
      // the test database runs with synchronous_commit off: this session turns it on, as a durable server has it
      List<String> seen = Mono.usingWhen(saver.connectionFactory().create(), connection -> Flux.concat(
              Flux.from(connection.createStatement("SET synchronous_commit TO on").execute())
                  .flatMap(result -> result.getRowsUpdated()).then(Mono.<String>empty()),
              single(connection, "SHOW synchronous_commit"),
              // the CTE sets it before the outer projection reads it: what the statement's commit will see
              single(connection, "WITH u AS (SELECT " + Sql.UNFLUSHED + " AS v)"
                  + " SELECT current_setting('synchronous_commit') FROM u"),
              single(connection, "SHOW synchronous_commit"))
          .collectList(), Connection::close)
          .block(Duration.ofSeconds(30));
      assertEquals(List.of("on", "off", "on"), seen, "before, within, and after the statement");
    }
  }
}
