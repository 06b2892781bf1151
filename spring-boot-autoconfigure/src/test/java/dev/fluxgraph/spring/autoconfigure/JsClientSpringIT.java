package dev.fluxgraph.spring.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.server.GraphProvider;
import dev.fluxgraph.server.JsClientE2e;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;

/**
 * The WebFlux host over a real socket: the official {@code @langchain/langgraph-sdk} runs the standalone server's
 * checks ({@code server/src/test/js/e2e.mjs}) against a Spring Boot application, under the base path.
 */
@SpringBootTest(classes = JsClientSpringIT.E2eApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"spring.autoconfigure.exclude=org.springframework.boot.r2dbc.autoconfigure.R2dbcAutoConfiguration",
        "fluxgraph.persistence=memory", "fluxgraph.workers.shutdown-grace=1s", "spring.main.banner-mode=off",
        "management.endpoints.web.exposure.include=health,info", "management.endpoint.health.show-details=always",
        "management.info.env.enabled=true"})
class JsClientSpringIT {

  @LocalServerPort
  int port;

  @Test
  void theOfficialClientDrivesTheApplication() throws Exception {
    JsClientE2e.run("http://127.0.0.1:" + port + "/fluxgraph", null);
  }

  @Test
  void streamedEventsGoOutOneByOneWhileTheRunGoesOn() {
    // sleepy naps for five minutes: its metadata event arrives now, or the host held it back
    List<String> first = new Http("http://127.0.0.1:" + port).client()
        .headers(headers -> headers.set("Content-Type", "application/json"))
        .post().uri("/fluxgraph/runs/stream")
        .send(ByteBufFlux.fromString(Mono.just("{\"assistant_id\":\"sleepy\",\"input\":\"x\"}")))
        .response((response, body) -> {
          assertThat(response.status().code()).isEqualTo(200);
          assertThat(response.responseHeaders().get("Content-Type")).startsWith("text/event-stream");
          assertThat(response.responseHeaders().get("Content-Location")).startsWith("/runs/"); // a stateless run
          return body.asString(StandardCharsets.UTF_8);
        })
        .take(1).collectList().block(Duration.ofSeconds(10));
    assertThat(first).hasSize(1);
    assertThat(first.get(0)).startsWith("event: metadata\r\ndata: {\"run_id\":");
  }

  @Test
  void theApiIsUnderTheBasePathOnlyBesideTheActuator() {
    Http http = new Http("http://127.0.0.1:" + port);
    assertThat(http.get("/fluxgraph/ok").json().get("ok").asBoolean()).isTrue();
    Http.Reply search = http.post("/fluxgraph/assistants/search", "{\"graph_id\":\"simple_workflow\"}");
    assertThat(search.status()).isEqualTo(200);
    assertThat(search.json().get(0).get("graph_id").asText()).isEqualTo("simple_workflow");
    Http.Reply unknown = http.get("/fluxgraph/nothing/here");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.json().get("detail").asText()).isEqualTo("route GET /nothing/here not found");
    assertThat(http.get("/threads").status()).isEqualTo(404); // not the API's: WebFlux's own answer
    JsonNode health = http.get("/actuator/health").json();
    assertThat(health.at("/components/fluxgraph/status").asText()).isEqualTo("UP");
    assertThat(health.at("/components/fluxgraph/details/persistence").asText()).isEqualTo("memory");
    JsonNode info = http.get("/actuator/info").json().get("fluxgraph");
    assertThat(info.get("basePath").asText()).isEqualTo("/fluxgraph");
    assertThat(info.get("graphs").toString()).contains("human_in_the_loop", "simple_workflow");
  }

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class E2eApplication {
    /** The graphs e2e.mjs drives, under their ids (which are not their names). */
    @Bean
    GraphProvider e2eGraphs() {
      return (checkpointer, store) -> JsClientE2e.graphs(checkpointer);
    }
  }
}
