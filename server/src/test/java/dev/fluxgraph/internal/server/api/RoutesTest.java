package dev.fluxgraph.internal.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.fluxgraph.server.ApiRequest;
import dev.fluxgraph.server.ApiResponse;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The API's router: reactor-netty's matching rules, the first route that matches answering. */
class RoutesTest {

  private final List<String> answered = new ArrayList<>();

  private Routes routes() {
    return new Routes()
        .post("/threads/{tid}/runs/stream", (request, response) -> answer("stream " + request.param("tid")))
        .get("/threads/{tid}/runs/{rid}", (request, response) -> answer("run " + request.param("tid") + " "
            + request.param("rid")))
        .get("/threads/{tid}", (request, response) -> answer("thread " + request.param("tid")))
        .route(request -> request.method().equals("PATCH"), (request, response) -> answer("patch " + request.path()))
        .route(request -> true, (request, response) -> answer("other " + request.method() + " " + request.path()));
  }

  private Mono<Void> answer(String what) {
    return Mono.fromRunnable(() -> answered.add(what));
  }

  private String route(String method, String uri) {
    answered.clear();
    StepVerifier.create(routes().handle(request(method, uri), NO_RESPONSE)).verifyComplete();
    assertEquals(1, answered.size(), answered.toString());
    return answered.get(0);
  }

  @Test
  void templatesMatchTheWholePathWithoutTheQueryAndBindRawSegments() {
    assertEquals("stream t1", route("POST", "/threads/t1/runs/stream?x=1"));
    assertEquals("run t%201 r.1", route("GET", "/threads/t%201/runs/r.1"));
    assertEquals("thread abc", route("GET", "/threads/abc"));
    assertEquals("thread ", route("GET", "/threads/")); // a variable may be empty, as in reactor-netty
    assertEquals("other GET /threads/a/b", route("GET", "/threads/a/b"));
    assertEquals("other POST /threads/abc", route("POST", "/threads/abc"));
  }

  @Test
  void aPathVariableIsAWholeSegment() {
    assertEquals("other GET /threads", route("GET", "/threads"));
    assertEquals("other GET /threads/t1/runs", route("GET", "/threads/t1/runs"));
    assertEquals("other GET /threads/t1/runs/r1/", route("GET", "/threads/t1/runs/r1/"));
    assertEquals("other GET //threads/t1", route("GET", "//threads/t1"));
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> new Routes().get("/files/{name}.json", (request, response) -> Mono.empty()));
    assertEquals("a path variable must be a whole segment: /files/{name}.json", refused.getMessage());
  }

  @Test
  void routesAreTriedInOrderAndOwnRulesSeeTheDecodedPath() {
    assertEquals("patch /threads/a b", route("PATCH", "/threads/a%20b"));
    assertEquals("thread t1", route("GET", "http://example.com:80/threads/t1?q"));
  }

  private static ApiRequest request(String method, String uri) {
    return new ApiRequest() {
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
        return Mono.empty();
      }

      @Override
      public Mono<Void> discard() {
        return Mono.empty();
      }
    };
  }

  private static final ApiResponse NO_RESPONSE = new ApiResponse() {
    @Override
    public ApiResponse status(int code) {
      return this;
    }

    @Override
    public ApiResponse header(String name, String value) {
      return this;
    }

    @Override
    public ApiResponse addHeader(String name, String value) {
      return this;
    }

    @Override
    public boolean hasSentHeaders() {
      return false;
    }

    @Override
    public Mono<Void> send() {
      return Mono.empty();
    }

    @Override
    public Mono<Void> send(byte[] body) {
      return Mono.empty();
    }

    @Override
    public Mono<Void> sendEach(Flux<String> chunks) {
      return chunks.then();
    }
  };
}
