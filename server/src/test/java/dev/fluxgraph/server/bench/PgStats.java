package dev.fluxgraph.server.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;

/**
 * PostgreSQL's own counters for one database, to divide by runs: {@code PgStats <port> <database> [before]} prints
 * the runs recorded ({@code fluxgraph_runs}), the database's commits and inserted, updated and deleted rows
 * ({@code pg_stat_database}) and the cluster's WAL records, bytes and syncs ({@code pg_stat_wal}); given the line
 * printed before a measurement, it prints the differences per run instead, and each table's rows inserted, updated
 * (in place or not) and deleted per run. Read after the server stopped: a
 * backend reports its counters when it ends (and otherwise only every few seconds). When the cluster loads
 * {@code pg_stat_statements} ({@code DurablePostgres -Dbench.statements=true}), the per-run line is followed by the
 * database's statements, most frequent first: calls per run, mean execution time, rows per call, the text's start.
 */
public final class PgStats {

  private static final String[] NAMES = {"runs", "commits", "inserted", "updated", "deleted", "wal_records",
      "wal_bytes", "wal_syncs"};

  private PgStats() {
  }

  public static void main(String[] args) throws SQLException {
    long[] now = read(Integer.parseInt(args[0]), args[1]);
    if (args.length < 3) {
      StringBuilder line = new StringBuilder();
      for (long value : now) {
        line.append(line.length() == 0 ? "" : " ").append(value);
      }
      System.out.println(line);
      return;
    }
    String[] fields = args[2].trim().split(" ");
    long runs = now[0] - Long.parseLong(fields[0]);
    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%d runs; per run:", runs));
    for (int i = 1; i < NAMES.length; i++) {
      line.append(String.format(Locale.ROOT, " %s %.2f", NAMES[i],
          (now[i] - Long.parseLong(fields[i])) / (double) Math.max(1, runs)));
    }
    System.out.println(line);
    tables(Integer.parseInt(args[0]), args[1], runs);
    statements(Integer.parseInt(args[0]), args[1], runs);
  }

  /**
   * Per table of the database (a fresh one per measurement, so the totals are the measurement's): rows inserted,
   * updated and of those updated in place (HOT: no index entry written), deleted, and read by sequential scans, per
   * run.
   */
  private static void tables(int port, String database, long runs) throws SQLException {
    try (Connection connection = DriverManager.getConnection("jdbc:postgresql://localhost:" + port + "/" + database,
        "postgres", "");
         Statement statement = connection.createStatement();
         ResultSet row = statement.executeQuery("SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del,"
             + " seq_tup_read FROM pg_stat_user_tables WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY relname")) {
      while (row.next()) {
        double per = Math.max(1, runs);
        System.out.printf(Locale.ROOT, "  %-32s per run: inserted %.2f, updated %.2f (HOT %.2f), deleted %.2f,"
            + " read by sequential scans %.1f%n", row.getString(1), row.getLong(2) / per, row.getLong(3) / per,
            row.getLong(4) / per, row.getLong(5) / per, row.getLong(6) / per);
      }
    }
  }

  private static void statements(int port, String database, long runs) throws SQLException {
    try (Connection connection = DriverManager.getConnection("jdbc:postgresql://localhost:" + port + "/postgres",
        "postgres", "");
         Statement statement = connection.createStatement()) {
      try (ResultSet loaded = statement.executeQuery(
          "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'")) {
        loaded.next();
        if (loaded.getLong(1) == 0) {
          return;
        }
      }
      try (ResultSet row = statement.executeQuery("SELECT s.calls, s.mean_exec_time, s.rows, s.query"
          + " FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '"
          + database.replace("'", "''") + "' ORDER BY s.calls DESC LIMIT 20")) {
        while (row.next()) {
          String query = row.getString(4).replaceAll("\\s+", " ");
          System.out.printf(Locale.ROOT, "  %6.3f calls/run %7.3f ms mean %7.1f rows/call  %s%n",
              row.getLong(1) / (double) Math.max(1, runs), row.getDouble(2), row.getLong(3) / (double) row.getLong(1),
              query.substring(0, Math.min(110, query.length())));
        }
      }
    }
  }

  private static long[] read(int port, String database) throws SQLException {
    try (Connection connection = DriverManager.getConnection("jdbc:postgresql://localhost:" + port + "/" + database,
        "postgres", "");
         Statement statement = connection.createStatement()) {
      long runs = 0;
      try (ResultSet exists = statement.executeQuery("SELECT to_regclass('fluxgraph_runs') IS NOT NULL")) {
        exists.next();
        if (exists.getBoolean(1)) {
          try (ResultSet count = statement.executeQuery("SELECT count(*) FROM fluxgraph_runs")) {
            count.next();
            runs = count.getLong(1);
          }
        }
      }
      try (ResultSet row = statement.executeQuery("SELECT d.xact_commit, d.tup_inserted, d.tup_updated,"
          + " d.tup_deleted, w.wal_records, w.wal_bytes, w.wal_sync FROM pg_stat_database d, pg_stat_wal w"
          + " WHERE d.datname = current_database()")) {
        row.next();
        return new long[] {runs, row.getLong(1), row.getLong(2), row.getLong(3), row.getLong(4), row.getLong(5),
            row.getLong(6), row.getLong(7)};
      }
    }
  }
}
