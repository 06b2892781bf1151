package dev.fluxgraph.spring.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxgraph.server.ApiRequest;
import dev.fluxgraph.server.ApiResponse;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpMethod;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.http.server.reactive.MockServerHttpResponse;
import org.springframework.mock.web.server.MockServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The WebFlux adapter: what the API sees of a request, and how its answers are written. */
class WebFluxHostTest {

  @Test
  void theUriIsRelativeToTheBasePathAndKeepsItsRawQuery() {
    // as sent: percent-encoded (a URI, not a template that would encode it again)
    MockServerWebExchange exchange = MockServerWebExchange.from(MockServerHttpRequest.method(HttpMethod.POST,
        URI.create("/fluxgraph/threads/a%20b/runs?limit=2&stream_mode=%5B%22values%22%5D")).header("X-Api-Key", "k")
        .body("{\"x\":1}"));
    ApiRequest request = WebFluxHost.request(exchange, "/fluxgraph");
    assertThat(request.method()).isEqualTo("POST");
    assertThat(request.uri()).isEqualTo("/threads/a%20b/runs?limit=2&stream_mode=%5B%22values%22%5D");
    assertThat(request.header("x-api-key")).isEqualTo("k");
    StepVerifier.create(request.body().map(bytes -> new String(bytes, StandardCharsets.UTF_8)))
        .expectNext("{\"x\":1}").verifyComplete();

    ApiRequest root = WebFluxHost.request(MockServerWebExchange.from(MockServerHttpRequest.get("/fluxgraph")),
        "/fluxgraph");
    assertThat(root.uri()).isEqualTo("/");
    StepVerifier.create(root.body()).verifyComplete();
  }

  @Test
  void eachStreamedChunkGoesOutAsAWriteOfItsOwn() {
    MockServerHttpResponse response = new MockServerHttpResponse();
    List<String> flushes = new ArrayList<>();
    response.setWriteHandler(body -> Flux.from(body).map(buffer -> {
      String text = buffer.toString(StandardCharsets.UTF_8);
      DataBufferUtils.release(buffer);
      return text;
    }).doOnNext(flushes::add).then());
    ApiResponse answer = WebFluxHost.response(response);
    answer.status(200).header("Content-Type", "text/event-stream");
    StepVerifier.create(answer.sendEach(Flux.just("event: a\r\n\r\n", "event: b\r\n\r\n"))).verifyComplete();
    assertThat(response.getStatusCode().value()).isEqualTo(200);
    assertThat(response.getHeaders().getFirst("Content-Type")).isEqualTo("text/event-stream");
    assertThat(flushes).containsExactly("event: a\r\n\r\n", "event: b\r\n\r\n");
    assertThat(answer.hasSentHeaders()).isTrue();
  }

  @Test
  void aWholeBodyCarriesItsLength() {
    MockServerHttpResponse response = new MockServerHttpResponse();
    StepVerifier.create(WebFluxHost.response(response).status(404).send("{\"detail\":\"x\"}"
        .getBytes(StandardCharsets.UTF_8))).verifyComplete();
    assertThat(response.getStatusCode().value()).isEqualTo(404);
    assertThat(response.getHeaders().getContentLength()).isEqualTo(14);
    StepVerifier.create(response.getBodyAsString()).expectNext("{\"detail\":\"x\"}").verifyComplete();
    StepVerifier.create(Mono.just(response.isCommitted())).expectNext(true).verifyComplete();
  }
}
