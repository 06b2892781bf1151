package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.postgres.PostgresSaver;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * What the server ITs share: one embedded PostgreSQL per test JVM (started on first use, stopped when the JVM exits),
 * a database of its own per test class in it ({@link #database}: nothing one class leaves, a cron or a queued run,
 * reaches another's servers), and a scenario on {@code n} servers of one storage ({@link #withServers}).
 */
final class ServerFixture {

  private static @Nullable EmbeddedPostgres instance;

  private ServerFixture() {
  }

  /** The shared instance. */
  static synchronized EmbeddedPostgres postgres() {
    if (instance == null) {
      try {
        instance = EmbeddedPostgres.builder().start();
      } catch (IOException e) {
        throw new UncheckedIOException("could not start the embedded PostgreSQL", e);
      }
      EmbeddedPostgres started = instance;
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

  /** A database of the shared instance, and plain SQL into it: the second channel the ITs check writes through. */
  record Database(String name, String url, DataSource sql) {

    /** The R2DBC URL for a test's {@code persistence}: null for {@code memory}, this database for {@code postgres}. */
    @Nullable String urlFor(String persistence) {
      return switch (persistence) {
        case "memory" -> null;
        case "postgres" -> url;
        default -> throw new IllegalArgumentException("persistence must be memory or postgres, was " + persistence);
      };
    }

    /** The first column of the first row of {@code query} (null without rows); fails the test on an SQL error. */
    @Nullable String first(String query) {
      try (Connection connection = sql.getConnection();
           Statement statement = connection.createStatement();
           ResultSet rows = statement.executeQuery(query)) {
        return rows.next() ? rows.getString(1) : null;
      } catch (SQLException e) {
        throw new AssertionError(query, e);
      }
    }
  }

  /** A new, empty database in the shared instance, named after {@code owner} (a test class) and a random part. */
  static Database database(Class<?> owner) {
    EmbeddedPostgres postgres = postgres();
    String name = (owner.getSimpleName() + "_" + UUID.randomUUID().toString().substring(0, 8))
        .toLowerCase(Locale.ROOT).replace('-', '_');
    try (Connection connection = postgres.getPostgresDatabase().getConnection();
         Statement statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new AssertionError("could not create database " + name, e);
    }
    return new Database(name, "r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/" + name,
        postgres.getDatabase("postgres", name));
  }

  /** A test body on the servers of a scenario, one client per server, in the order they started. */
  @FunctionalInterface
  interface Scenario {
    void run(List<ApiClient> apis);
  }

  /**
   * Runs {@code scenario} on {@code processes} servers on port 0, each built by {@code setup} (its graphs and
   * options) from a builder that discovers no graphs: on the PostgreSQL database {@code url} (each with its own
   * saver, a 3 s lease renewed every 500 ms, so that a stopped process's runs are taken over within seconds), or, with
   * {@code url} null, one server in memory. Stops the servers and closes their savers afterwards.
   */
  static void withServers(@Nullable String url, int processes, UnaryOperator<FluxgraphServer.Builder> setup,
                          Scenario scenario) {
    if (url == null && processes != 1) {
      throw new IllegalArgumentException("in memory there is one server; " + processes + " need PostgreSQL");
    }
    List<FluxgraphServer> servers = new ArrayList<>();
    List<PostgresSaver> savers = new ArrayList<>();
    try {
      for (int i = 0; i < processes; i++) {
        FluxgraphServer.Builder builder = setup.apply(FluxgraphServer.builder().discoverGraphs(false).port(0));
        if (url != null) {
          PostgresSaver saver = PostgresSaver.connect(url);
          savers.add(saver);
          saver.setup().block(Duration.ofSeconds(30));
          builder.checkpointer(saver).leaseTtl(Duration.ofSeconds(3)).heartbeatInterval(Duration.ofMillis(500));
        }
        servers.add(builder.build().start().block(Duration.ofSeconds(30)));
      }
      scenario.run(servers.stream().map(server -> new ApiClient(server.port())).toList());
    } finally {
      servers.forEach(server -> server.stop().block(Duration.ofSeconds(20)));
      savers.forEach(PostgresSaver::close);
    }
  }

  /** Waits (up to 20 s, looking every 50 ms) until {@code condition} holds; fails the test naming {@code what}. */
  static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
      Mono.delay(Duration.ofMillis(50)).block();
    }
  }
}
