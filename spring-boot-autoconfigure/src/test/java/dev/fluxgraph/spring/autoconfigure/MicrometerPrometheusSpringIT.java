package dev.fluxgraph.spring.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.RunConfig;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import reactor.core.publisher.Mono;

/**
 * A WebFlux application with the actuator and the Prometheus registry: runs of a graph bean (one through the
 * application's own bean, one through the API's routes) show as Fluxgraph's meters at {@code /actuator/prometheus}.
 */
class MicrometerPrometheusSpringIT {

  @Test
  void runsShowAsMetersAtTheActuatorsPrometheusEndpoint() {
    try (ConfigurableApplicationContext application = new SpringApplicationBuilder(ObservedApplication.class).run(
        "--server.port=0", "--spring.main.banner-mode=off", "--fluxgraph.persistence=memory",
        "--spring.autoconfigure.exclude=org.springframework.boot.r2dbc.autoconfigure.R2dbcAutoConfiguration",
        "--management.endpoints.web.exposure.include=prometheus,health")) {
      @SuppressWarnings("unchecked")
      Entrypoint<String, String> review = application.getBean("review", Entrypoint.class);
      RunConfig thread = RunConfig.thread(UUID.randomUUID().toString());
      GraphOutput<String> paused = review.run("draft", thread).block(Duration.ofSeconds(30));
      assertThat(paused.interrupted()).isTrue();
      assertThat(review.invoke(Command.resume("ok"), thread).block(Duration.ofSeconds(30))).isEqualTo("DRAFT ok");
      Http http = new Http("http://127.0.0.1:" + application.getEnvironment().getProperty("local.server.port"));
      Http.Reply viaApi = http.post("/fluxgraph/runs/wait",
          "{\"assistant_id\":\"review\",\"input\":\"api\"}");
      assertThat(viaApi.status()).isEqualTo(200);

      Http.Reply metrics = http.get("/actuator/prometheus");
      assertThat(metrics.status()).isEqualTo(200);
      String text = metrics.body();
      assertThat(text).containsPattern(
          "fluxgraph_run_seconds_count\\{[^}]*entrypoint=\"review\"[^}]*outcome=\"interrupted\"[^}]*} 2");
      assertThat(text).containsPattern(
          "fluxgraph_run_seconds_count\\{[^}]*entrypoint=\"review\"[^}]*outcome=\"completed\"[^}]*} 1");
      assertThat(text).containsPattern(
          "fluxgraph_task_seconds_count\\{[^}]*entrypoint=\"review\"[^}]*outcome=\"completed\"[^}]*task=\"shout\"[^}]*} 2");
      assertThat(text).containsPattern(
          "fluxgraph_interrupts_total\\{entrypoint=\"review\",task=\"ask\"} 2");
      assertThat(text).containsPattern(
          "fluxgraph_replays_total\\{entrypoint=\"review\",task=\"shout\"} 1");
      assertThat(text).contains("fluxgraph_checkpoint_write_seconds_count{entrypoint=\"review\",kind=\"checkpoint\"");
    }
  }

  /** One graph bean: a task, then a question to a human. */
  @SpringBootApplication
  static class ObservedApplication {
    @Bean
    Entrypoint<String, String> review(CheckpointSaver checkpointer) {
      Task<String, String> shout = Task.of("shout", String.class, s -> Mono.just(s.toUpperCase()));
      Task<String, String> ask = Task.of("ask", String.class, (String s, TaskContext context) ->
          context.interrupt("approve " + s + "?", String.class).map(answer -> s + " " + answer));
      return Entrypoint.named("review").checkpointer(checkpointer)
          .define(String.class, String.class, (s, context) -> shout.call(s).flatMap(ask::call));
    }
  }
}
