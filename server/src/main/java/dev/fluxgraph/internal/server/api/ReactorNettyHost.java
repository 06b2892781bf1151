package dev.fluxgraph.internal.server.api;

import dev.fluxgraph.server.ApiRequest;
import dev.fluxgraph.server.ApiResponse;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/** The API's requests and responses on Reactor Netty, for {@code FluxgraphServer}. */
public final class ReactorNettyHost {

  private ReactorNettyHost() {
  }

  public static ApiRequest request(HttpServerRequest request) {
    return new ApiRequest() {
      @Override
      public String method() {
        return request.method().name();
      }

      @Override
      public String uri() {
        return request.uri();
      }

      @Override
      public @Nullable String header(String name) {
        return request.requestHeaders().get(name);
      }

      @Override
      public Mono<byte[]> body() {
        return request.receive().aggregate().asByteArray();
      }

      @Override
      public Mono<Void> discard() {
        return request.receive().then();
      }
    };
  }

  public static ApiResponse response(HttpServerResponse response) {
    return new ApiResponse() {
      @Override
      public ApiResponse status(int code) {
        response.status(code);
        return this;
      }

      @Override
      public ApiResponse header(String name, String value) {
        response.header(name, value);
        return this;
      }

      @Override
      public ApiResponse addHeader(String name, String value) {
        response.addHeader(name, value);
        return this;
      }

      @Override
      public boolean hasSentHeaders() {
        return response.hasSentHeaders();
      }

      @Override
      public Mono<Void> send() {
        return response.send();
      }

      @Override
      public Mono<Void> send(byte[] body) {
        // a Mono body: reactor-netty sends it with its Content-Length
        return response.sendByteArray(Mono.just(body)).then();
      }

      @Override
      public Mono<Void> sendEach(Flux<String> chunks) {
        return response.sendString(chunks, StandardCharsets.UTF_8).then();
      }
    };
  }
}
