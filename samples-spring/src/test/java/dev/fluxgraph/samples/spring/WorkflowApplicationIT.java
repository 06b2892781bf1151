package dev.fluxgraph.samples.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
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

/** The Spring service over a real socket, driven by WebTestClient. */
class WorkflowApplicationIT {

  private static final ParameterizedTypeReference<ServerSentEvent<String>> EVENT = new ParameterizedTypeReference<>() {
  };
  private static ConfigurableApplicationContext application;
  private static WebTestClient client;

  @BeforeAll
  static void start() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    application = SpringApplication.run(WorkflowApplication.class, "--server.port=" + port,
        "--spring.main.banner-mode=off");
    client = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(Duration.ofSeconds(10))
        .build();
  }

  @AfterAll
  static void stop() {
    application.close();
  }

  private static List<ServerSentEvent<String>> events(WebTestClient.RequestHeadersSpec<?> request) {
    return request.accept(MediaType.TEXT_EVENT_STREAM).exchange()
        .expectStatus().isOk()
        .returnResult(EVENT).getResponseBody().collectList().block(Duration.ofSeconds(10));
  }

  @Test
  void streamPauseStateAndResume() {
    List<ServerSentEvent<String>> first = events(client.get().uri("/threads/t1/stream?query=foo"));
    assertEquals("updates", first.get(0).event());
    assertEquals("{\"step_1\":\"foo bar\"}", first.get(0).data());
    assertTrue(first.get(1).data().contains("Please provide feedback: foo bar"), first.get(1).data());

    String state = client.get().uri("/threads/t1/state").exchange().expectStatus().isOk()
        .expectBody(String.class).returnResult().getResponseBody();
    assertTrue(state.contains("\"next\":[\"graph\"]"), state);

    List<ServerSentEvent<String>> resumed = events(client.post().uri("/threads/t1/resume")
        .contentType(MediaType.APPLICATION_JSON).bodyValue(Map.of("value", "baz")));
    assertEquals(List.of("{\"human_feedback\":\"foo bar baz\"}", "{\"step_3\":\"foo bar baz qux\"}",
        "{\"graph\":\"foo bar baz qux\"}"), resumed.stream().map(ServerSentEvent::data).toList());
  }

  @Test
  void resumingWithNothingPendingIsAnErrorEvent() {
    events(client.get().uri("/threads/t2/stream?query=x"));
    events(client.post().uri("/threads/t2/resume").contentType(MediaType.APPLICATION_JSON)
        .bodyValue(Map.of("value", "y")));
    List<ServerSentEvent<String>> again = events(client.post().uri("/threads/t2/resume")
        .contentType(MediaType.APPLICATION_JSON).bodyValue(Map.of("value", "z")));
    assertEquals("error", again.get(0).event());
    assertTrue(again.get(0).data().contains("nothing to resume"), again.get(0).data());
  }

  @Test
  void unknownThreadAndBadBody() {
    client.get().uri("/threads/nobody/state").exchange().expectStatus().isNotFound();
    client.post().uri("/threads/t3/resume").contentType(MediaType.APPLICATION_JSON).bodyValue(Map.of())
        .accept(MediaType.TEXT_EVENT_STREAM).exchange().expectStatus().isBadRequest();
  }
}
