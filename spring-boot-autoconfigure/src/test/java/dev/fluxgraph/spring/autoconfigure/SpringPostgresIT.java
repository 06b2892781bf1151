package dev.fluxgraph.spring.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import reactor.core.publisher.Mono;

/**
 * A whole Spring Boot WebFlux application on a real PostgreSQL, configured with {@code spring.r2dbc.url} alone: a run
 * pauses, the application is closed and started again, the run resumes there without running its finished task
 * again; the actuator's {@code fluxgraph} health is up, then down once the database stops. The database is this
 * test's own (it is stopped at the end).
 */
class SpringPostgresIT {

  private static EmbeddedPostgres database;

  @BeforeAll
  static void startDatabase() throws Exception {
    database = EmbeddedPostgres.builder().start();
  }

  @AfterAll
  static void stopDatabase() throws Exception {
    database.close(); // a second close (the test stopped it) does nothing
  }

  @Test
  void aPausedRunResumesInTheNextApplicationAndHealthFollowsTheDatabase() throws Exception {
    String url = "r2dbc:postgresql://postgres@localhost:" + database.getPort() + "/postgres";
    String threadId;
    try (ConfigurableApplicationContext first = start(url, "--fluxgraph.workers.id-prefix=first")) {
      Http http = http(first);
      JsonNode health = http.get("/actuator/health").json();
      assertThat(health.at("/components/fluxgraph/status").asText()).isEqualTo("UP");
      assertThat(health.at("/components/fluxgraph/details/database").asText()).isEqualTo("reachable");
      assertThat(health.at("/components/fluxgraph/details/leaseHeld").asBoolean()).isTrue();
      assertThat(health.at("/components/fluxgraph/details/queueDepth").isNumber()).isTrue();

      threadId = http.post("/fluxgraph/threads", "{}").json().get("thread_id").asText();
      Http.Reply paused = http.post("/fluxgraph/threads/" + threadId + "/runs/wait",
          "{\"assistant_id\":\"review\",\"input\":\"foo\"}");
      assertThat(paused.status()).isEqualTo(200);
      assertThat(paused.json().at("/__interrupt__/0/value").asText()).isEqualTo("approve foo drafted?");
      assertThat(ReviewApplication.DRAFTS.get()).isEqualTo(1);
    }
    // a second channel: the database as the first application left it
    assertThat(sql("SELECT count(*) FROM fluxgraph_workers")).containsExactly("0"); // its worker left cleanly
    assertThat(sql("SELECT status FROM fluxgraph_threads WHERE thread_id = '" + threadId + "'"))
        .containsExactly("interrupted");

    // the second application prunes all but the newest checkpoint of each thread, often: the paused run continues
    try (ConfigurableApplicationContext second = start(url, "--fluxgraph.retention.checkpoints.keep-latest=1",
        "--fluxgraph.retention.checkpoints.interval=100ms")) {
      Http http = http(second);
      assertThat(http.get("/fluxgraph/threads/" + threadId + "/state").json().at("/next/0").asText())
          .isEqualTo("review");
      Http.Reply resumed = http.post("/fluxgraph/threads/" + threadId + "/runs/wait",
          "{\"assistant_id\":\"review\",\"command\":{\"resume\":\"yes\"}}");
      assertThat(resumed.status()).isEqualTo(200);
      assertThat(resumed.json().asText()).isEqualTo("foo drafted: yes, published");
      assertThat(ReviewApplication.DRAFTS.get()).as("the finished task replays, it does not run again").isEqualTo(1);
      assertThat(ReviewApplication.PUBLISHES.get()).isEqualTo(1);
      // a paused run succeeded (its thread is interrupted), as in the LangGraph API
      assertThat(sql("SELECT status FROM fluxgraph_runs WHERE thread_id = '" + threadId + "' ORDER BY created_at"))
          .containsExactly("success", "success");
      assertThat(sql("SELECT status FROM fluxgraph_threads WHERE thread_id = '" + threadId + "'"))
          .containsExactly("idle");
      await().atMost(Duration.ofSeconds(10)).until(() -> sql("SELECT count(*) FROM fluxgraph_checkpoints"
          + " WHERE thread_id = '" + threadId + "'"), rows -> rows.equals(List.of("1")));
      assertThat(http.get("/fluxgraph/threads/" + threadId + "/state").json().get("values").asText())
          .isEqualTo("foo drafted: yes, published");

      database.close();
      Http.Reply down = http.get("/actuator/health");
      assertThat(down.status()).isEqualTo(503);
      assertThat(down.json().at("/components/fluxgraph/status").asText()).isEqualTo("DOWN");
      assertThat(down.json().at("/components/fluxgraph/details/database").asText()).startsWith("unreachable");
    }
  }

  private static ConfigurableApplicationContext start(String url, String... more) {
    List<String> arguments = new ArrayList<>(List.of("--server.port=0", "--spring.r2dbc.url=" + url,
        "--spring.main.banner-mode=off", "--management.endpoints.web.exposure.include=health",
        "--management.endpoint.health.show-details=always", "--fluxgraph.workers.shutdown-grace=1s",
        "--spring.lifecycle.timeout-per-shutdown-phase=10s"));
    arguments.addAll(List.of(more));
    return new SpringApplicationBuilder(ReviewApplication.class).run(arguments.toArray(String[]::new));
  }

  private static Http http(ConfigurableApplicationContext context) {
    return new Http("http://127.0.0.1:" + context.getEnvironment().getProperty("local.server.port"));
  }

  private static List<String> sql(String query) throws Exception {
    List<String> rows = new ArrayList<>();
    try (Connection connection = database.getPostgresDatabase().getConnection();
         Statement statement = connection.createStatement();
         ResultSet result = statement.executeQuery(query)) {
      while (result.next()) {
        rows.add(result.getString(1));
      }
    }
    return rows;
  }

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class ReviewApplication {
    static final AtomicInteger DRAFTS = new AtomicInteger();
    static final AtomicInteger PUBLISHES = new AtomicInteger();

    /** draft, then a human's review (an interrupt), then publish; no checkpointer of its own: the starter's. */
    @Bean
    Entrypoint<String, String> review() {
      Task<String, String> draft = Task.of("draft", String.class, topic -> Mono.fromCallable(() -> {
        DRAFTS.incrementAndGet();
        return topic + " drafted";
      }));
      Task<String, String> ask = Task.of("ask", String.class, (String text, TaskContext context) ->
          context.interrupt("approve " + text + "?", String.class).map(answer -> text + ": " + answer));
      Task<String, String> publish = Task.of("publish", String.class, text -> Mono.fromCallable(() -> {
        PUBLISHES.incrementAndGet();
        return text + ", published";
      }));
      return Entrypoint.named("review").define(String.class, String.class, (topic, context) ->
          draft.call(topic).flatMap(ask::call).flatMap(publish::call));
    }
  }
}
