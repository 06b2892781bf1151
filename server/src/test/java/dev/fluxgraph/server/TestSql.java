package dev.fluxgraph.server;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.jspecify.annotations.Nullable;

/** Plain JDBC into a test's embedded PostgreSQL: the second channel the ITs check the server's writes through. */
public final class TestSql {

  private TestSql() {
  }

  /** The first column of the first row of {@code query} (null without rows); fails the test on an SQL error. */
  public static @Nullable String first(EmbeddedPostgres postgres, String query) {
    return first(postgres, "postgres", query);
  }

  /** The same in another database of that PostgreSQL. */
  public static @Nullable String first(EmbeddedPostgres postgres, String database, String query) {
    try (Connection connection = postgres.getDatabase("postgres", database).getConnection();
         Statement statement = connection.createStatement();
         ResultSet rows = statement.executeQuery(query)) {
      return rows.next() ? rows.getString(1) : null;
    } catch (SQLException e) {
      throw new AssertionError(query, e);
    }
  }

  /** Executes a statement that returns no rows ({@code CREATE DATABASE}, say); fails the test on an SQL error. */
  public static void execute(EmbeddedPostgres postgres, String sql) {
    try (Connection connection = postgres.getPostgresDatabase().getConnection();
         Statement statement = connection.createStatement()) {
      statement.execute(sql);
    } catch (SQLException e) {
      throw new AssertionError(sql, e);
    }
  }
}
