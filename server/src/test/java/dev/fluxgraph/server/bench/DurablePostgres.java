package dev.fluxgraph.server.bench;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * An embedded PostgreSQL with the server's durable settings (fsync, synchronous commit and full-page writes on, as
 * {@code ServerCommand.durable} starts the command line's embedded database; zonky's defaults turn the first two
 * off), for benchmarks whose servers run in other processes: {@code DurablePostgres <data dir> [database...]} creates
 * the databases, prints {@code postgres on port <port>} with the settings and runs until killed (SIGTERM stops the
 * database too). With {@code -Dbench.statements=true} it loads {@code pg_stat_statements} (see {@link PgStats});
 * with {@code -Dbench.durable=false} it keeps zonky's test settings instead (fsync and synchronous commit off), for
 * comparison with the earlier figures; {@code -Dbench.config=name=value;name=value} adds settings of its own (for
 * an experiment: {@code logging_collector=on;log_directory=/tmp/pglog;session_preload_libraries=auto_explain;
 * auto_explain.log_min_duration=0}, say).
 */
public final class DurablePostgres {

  private DurablePostgres() {
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      throw new IllegalArgumentException("usage: DurablePostgres <data directory> [database...]");
    }
    boolean statements = Boolean.getBoolean("bench.statements");
    EmbeddedPostgres postgres = start(Path.of(args[0]), statements,
        Boolean.parseBoolean(System.getProperty("bench.durable", "true")));
    try (Connection connection = postgres.getPostgresDatabase().getConnection();
         Statement statement = connection.createStatement()) {
      if (statements) {
        statement.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
      }
      for (int i = 1; i < args.length; i++) {
        statement.execute("CREATE DATABASE \"" + args[i] + "\"");
      }
    }
    System.out.println("postgres on port " + postgres.getPort() + " (" + settings(postgres) + ")");
    Thread.currentThread().join();
  }

  /** Starts it in {@code dataDir} (created, emptied first); zonky's shutdown hook stops it with this JVM. */
  static EmbeddedPostgres start(Path dataDir) throws IOException {
    return start(dataDir, false, true);
  }

  private static EmbeddedPostgres start(Path dataDir, boolean statements, boolean durable) throws IOException {
    EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder();
    if (statements) {
      builder.setServerConfig("shared_preload_libraries", "pg_stat_statements")
          .setServerConfig("pg_stat_statements.max", "1000");
    }
    if (durable) {
      builder.setServerConfig("fsync", "on")
          .setServerConfig("synchronous_commit", "on")
          .setServerConfig("full_page_writes", "on");
    }
    for (String setting : System.getProperty("bench.config", "").split(";")) {
      int equals = setting.indexOf('=');
      if (equals > 0) {
        builder.setServerConfig(setting.substring(0, equals).trim(), setting.substring(equals + 1).trim());
      }
    }
    return builder
        .setDataDirectory(dataDir)
        .setCleanDataDirectory(true)
        .start();
  }

  /** The settings that make it durable, as the running server reports them. */
  static String settings(EmbeddedPostgres postgres) throws SQLException {
    StringBuilder text = new StringBuilder();
    try (Connection connection = postgres.getPostgresDatabase().getConnection();
         Statement statement = connection.createStatement()) {
      for (String name : new String[] {"server_version", "fsync", "synchronous_commit", "full_page_writes"}) {
        try (ResultSet row = statement.executeQuery("SHOW " + name)) {
          row.next();
          text.append(text.length() == 0 ? "" : ", ").append(name).append('=').append(row.getString(1));
        }
      }
    }
    return text.toString();
  }
}
