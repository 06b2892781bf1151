package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.func.Entrypoint;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The API without a socket, as a host sees it: requests before and after start, health. */
class FluxgraphApiTest {

  private final FluxgraphApi api = FluxgraphServer.builder().discoverGraphs(false)
      .graphOnServerPersistence("echo", Entrypoint.named("echo")
          .define(String.class, String.class, (in, context) -> Mono.just(in + "!")))
      .buildApi();

  @Test
  void requestsBeforeStartAre503AndAfterItAnswered() {
    Answer early = handle("GET", "/ok", "");
    assertEquals(503, early.status);
    assertEquals("{\"detail\":\"the Fluxgraph API is not started\"}", early.body);
    StepVerifier.create(api.health()).assertNext(health -> {
      assertFalse(health.up());
      assertEquals("not started", health.details().get("reason"));
    }).verifyComplete();

    StepVerifier.create(api.start()).expectNext(api).verifyComplete();
    Answer ok = handle("GET", "/ok", "");
    assertEquals(200, ok.status);
    assertEquals("{\"ok\":true}", ok.body);
    assertEquals("application/json", ok.headers.get("Content-Type"));
    // a graph without a checkpointer of its own runs on the server's: a thread's run works
    Answer waited = handle("POST", "/runs/wait", "{\"assistant_id\":\"echo\",\"input\":\"hi\"}");
    assertEquals(200, waited.status, waited.body);
    assertEquals("\"hi!\"", waited.body);
    StepVerifier.create(api.health()).assertNext(health -> {
      assertTrue(health.up());
      assertEquals(Map.of("persistence", "memory", "graphs", 1), health.details());
    }).verifyComplete();
    StepVerifier.create(api.stop()).verifyComplete();
  }

  private Answer handle(String method, String uri, String body) {
    Answer answer = new Answer();
    api.handle(new ApiRequest() {
      @Override
      public String method() {
        return method;
      }

      @Override
      public String uri() {
        return uri;
      }

      @Override
      public @Nullable String header(String name) {
        return null;
      }

      @Override
      public Mono<byte[]> body() {
        return body.isEmpty() ? Mono.empty() : Mono.just(body.getBytes(StandardCharsets.UTF_8));
      }

      @Override
      public Mono<Void> discard() {
        return Mono.empty();
      }
    }, answer).block(Duration.ofSeconds(10));
    return answer;
  }

  /** A response that keeps what it was sent. */
  private static final class Answer implements ApiResponse {
    int status = 200;
    final Map<String, String> headers = new LinkedHashMap<>();
    String body = "";
    boolean sent;

    @Override
    public ApiResponse status(int code) {
      status = code;
      return this;
    }

    @Override
    public ApiResponse header(String name, String value) {
      headers.put(name, value);
      return this;
    }

    @Override
    public ApiResponse addHeader(String name, String value) {
      headers.merge(name, value, (a, b) -> a + ", " + b);
      return this;
    }

    @Override
    public boolean hasSentHeaders() {
      return sent;
    }

    @Override
    public Mono<Void> send() {
      return Mono.fromRunnable(() -> sent = true);
    }

    @Override
    public Mono<Void> send(byte[] bytes) {
      return Mono.fromRunnable(() -> {
        sent = true;
        body = new String(bytes, StandardCharsets.UTF_8);
      });
    }

    @Override
    public Mono<Void> sendEach(Flux<String> chunks) {
      return chunks.doOnNext(chunk -> {
        sent = true;
        body += chunk;
      }).then();
    }
  }
}
