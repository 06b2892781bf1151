package dev.fluxgraph.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r2dbc.spi.ConnectionFactory;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Group-committed deletions by key: each caller learns whether its key had rows, whatever batch carried it. */
class KeyedDeleteIT {

  private static void sql(String statement) throws Exception {
    try (Connection connection = EmbeddedPostgres.get().getPostgresDatabase().getConnection();
         Statement jdbc = connection.createStatement()) {
      jdbc.execute(statement);
    }
  }

  private static long count(String table) throws Exception {
    try (Connection connection = EmbeddedPostgres.get().getPostgresDatabase().getConnection();
         ResultSet rows = connection.createStatement().executeQuery("SELECT count(*) FROM " + table)) {
      rows.next();
      return rows.getLong(1);
    }
  }

  @Test
  void concurrentDeletionsAnswerPerKeyAndRemoveEveryRowOfTheirKey() throws Exception {
    sql("DROP TABLE IF EXISTS keyed_delete_test");
    sql("CREATE TABLE keyed_delete_test (id serial PRIMARY KEY, owner text NOT NULL)");
    sql("INSERT INTO keyed_delete_test (owner) SELECT 'k' || (i % 100) FROM generate_series(0, 299) AS i");
    try (PostgresSaver saver = PostgresSaver.connect(EmbeddedPostgres.r2dbcUrl())) {
      ConnectionFactory factory = saver.connectionFactory();
      KeyedDelete deletes = new KeyedDelete(factory, "keyed_delete_test", "owner");
      List<Mono<String>> calls = new ArrayList<>();
      for (int i = 0; i < 200; i++) { // k0..k99 exist (three rows each), k100..k199 do not
        String key = "k" + i;
        calls.add(deletes.delete(key).map(existed -> key + "=" + existed));
      }
      List<String> answers = Flux.merge(calls).collectList().block(Duration.ofSeconds(30));
      assertEquals(200, answers.size());
      for (String answer : answers) {
        int key = Integer.parseInt(answer.substring(1, answer.indexOf('=')));
        assertEquals(key < 100, Boolean.parseBoolean(answer.substring(answer.indexOf('=') + 1)), answer);
      }
      assertEquals(0, count("keyed_delete_test"));
      assertEquals(false, deletes.delete("k1").block(Duration.ofSeconds(10)), "nothing left to delete");
    } finally {
      sql("DROP TABLE IF EXISTS keyed_delete_test");
    }
  }

  @Test
  void aFailedStatementFailsEveryDeletionItCarried() {
    try (PostgresSaver saver = PostgresSaver.connect(EmbeddedPostgres.r2dbcUrl())) {
      KeyedDelete deletes = new KeyedDelete(saver.connectionFactory(), "no_such_table", "owner");
      RuntimeException error = assertThrows(RuntimeException.class,
          () -> Flux.merge(deletes.delete("a"), deletes.delete("b")).blockLast(Duration.ofSeconds(10)));
      assertTrue(String.valueOf(error.getMessage()).contains("no_such_table"), String.valueOf(error));
      // the batcher is not stuck after a failure
      assertThrows(RuntimeException.class, () -> deletes.delete("c").block(Duration.ofSeconds(10)));
    }
  }
}
