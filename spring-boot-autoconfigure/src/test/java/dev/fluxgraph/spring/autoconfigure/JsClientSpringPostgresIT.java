package dev.fluxgraph.spring.autoconfigure;

import dev.fluxgraph.server.JsClientE2e;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The official JS client's checks against a Spring Boot application on PostgreSQL (configured with
 * {@code spring.r2dbc.url} alone): runs go through the database's run queue, their events through its event store.
 */
class JsClientSpringPostgresIT {

  private static EmbeddedPostgres database;

  @BeforeAll
  static void startDatabase() throws Exception {
    database = EmbeddedPostgres.builder().start();
  }

  @AfterAll
  static void stopDatabase() throws Exception {
    database.close();
  }

  @Test
  void theOfficialClientDrivesTheApplicationOnPostgres() throws Exception {
    try (ConfigurableApplicationContext application = new SpringApplicationBuilder(
        JsClientSpringIT.E2eApplication.class).run("--server.port=0", "--spring.main.banner-mode=off",
        "--spring.r2dbc.url=r2dbc:postgresql://postgres@localhost:" + database.getPort() + "/postgres",
        "--fluxgraph.workers.shutdown-grace=1s")) {
      JsClientE2e.run("http://127.0.0.1:" + application.getEnvironment().getProperty("local.server.port")
          + "/fluxgraph", null);
    }
  }
}
