package dev.fluxgraph.samples.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.test.web.reactive.server.WebTestClient;

/** The service over a real socket: the LangGraph Server API the starter serves, as a client calls it. */
class WorkflowApplicationIT {

  private static final ParameterizedTypeReference<ServerSentEvent<String>> EVENT = new ParameterizedTypeReference<>() {
  };
  private static final ParameterizedTypeReference<Map<String, Object>> JSON = new ParameterizedTypeReference<>() {
  };
  private static ConfigurableApplicationContext application;
  private static WebTestClient client;

  @BeforeAll
  static void start() {
    application = SpringApplication.run(WorkflowApplication.class, "--server.port=0", "--spring.main.banner-mode=off");
    client = WebTestClient.bindToServer()
        .baseUrl("http://127.0.0.1:" + application.getEnvironment().getProperty("local.server.port") + "/fluxgraph")
        .responseTimeout(Duration.ofSeconds(10)).build();
  }

  @AfterAll
  static void stop() {
    application.close();
  }

  @Test
  void aRunPausesForTheHumanAndResumes() {
    Map<String, Object> thread = client.post().uri("/threads").contentType(MediaType.APPLICATION_JSON)
        .bodyValue(Map.of()).exchange().expectStatus().isOk().expectBody(JSON).returnResult().getResponseBody();
    String threads = "/threads/" + thread.get("thread_id");

    List<ServerSentEvent<String>> events = client.post().uri(threads + "/runs/stream")
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(Map.of("assistant_id", "essay", "input", "otters", "stream_mode", "updates"))
        .accept(MediaType.TEXT_EVENT_STREAM).exchange().expectStatus().isOk()
        .returnResult(EVENT).getResponseBody().collectList().block(Duration.ofSeconds(10));
    assertEquals("metadata", events.get(0).event());
    assertEquals("{\"draft\":\"An essay about otters\"}", events.get(1).data());
    assertTrue(events.get(2).data().contains("approve 'An essay about otters'?"), events.get(2).data());

    Map<String, Object> state = client.get().uri(threads + "/state").exchange().expectStatus().isOk()
        .expectBody(JSON).returnResult().getResponseBody();
    assertEquals(List.of("essay"), state.get("next"));

    String published = client.post().uri(threads + "/runs/wait").contentType(MediaType.APPLICATION_JSON)
        .bodyValue(Map.of("assistant_id", "essay", "command", Map.of("resume", "approved"))).exchange()
        .expectStatus().isOk().expectBody(String.class).returnResult().getResponseBody();
    assertEquals("\"An essay about otters (approved)\"", published);
  }

  @Test
  void anUnknownGraphIsA404NamingIt() {
    Map<String, Object> refused = client.post().uri("/runs/wait").contentType(MediaType.APPLICATION_JSON)
        .bodyValue(Map.of("assistant_id", "nope", "input", "x")).exchange()
        .expectStatus().isNotFound().expectBody(JSON).returnResult().getResponseBody();
    assertEquals(Map.of("detail", "No assistant found for 'nope': neither an assistant nor a served graph has that id"),
        refused);
  }
}
