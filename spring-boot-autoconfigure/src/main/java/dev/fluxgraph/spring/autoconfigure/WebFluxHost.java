package dev.fluxgraph.spring.autoconfigure;

import dev.fluxgraph.server.ApiRequest;
import dev.fluxgraph.server.ApiResponse;
import dev.fluxgraph.server.FluxgraphApi;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.jspecify.annotations.Nullable;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.Ordered;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.reactive.function.server.RequestPredicates;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The {@link FluxgraphApi} as WebFlux routes: every request under the base path goes to the API's own routing (the
 * handlers of the standalone server, not a copy), with its path relative to the base path. The answer is written
 * straight to the exchange's response, so streamed events go out one flush each; WebFlux's filters (Spring Security,
 * CORS, observation) apply as to any route.
 */
public final class WebFluxHost {

  private WebFluxHost() {
  }

  /** The routes of {@code api} under {@code basePath} ({@code /fluxgraph}: {@code /fluxgraph/threads}, ...). */
  public static RouterFunction<ServerResponse> routes(FluxgraphApi api, String basePath) {
    String root = basePath.equals("/") ? "" : basePath;
    return RouterFunctions.route(RequestPredicates.path(root.isEmpty() ? "/**" : root)
            .or(RequestPredicates.path(root + "/**")),
        request -> ServerResponse.ok().build((exchange, context) -> api.handle(request(exchange, root),
            response(exchange.getResponse()))));
  }

  /**
   * Hands the CORS preflights under {@code basePath} to the API (its own CORS policy answers them, as in the standalone
   * server): WebFlux's handler mappings answer every preflight themselves, so none would reach the routes. For
   * {@code fluxgraph.server.cors.allowed-origins}; ordered before Spring Security's filters, as preflights carry no
   * credentials.
   */
  public static WebFilter preflights(FluxgraphApi api, String basePath) {
    String root = basePath.equals("/") ? "" : basePath;
    return new PreflightFilter(api, root);
  }

  private record PreflightFilter(FluxgraphApi api, String root) implements WebFilter, Ordered {
    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
      ServerHttpRequest request = exchange.getRequest();
      String path = request.getPath().pathWithinApplication().value();
      boolean preflight = request.getMethod() == HttpMethod.OPTIONS && request.getHeaders().getFirst("Origin") != null
          && request.getHeaders().getFirst("Access-Control-Request-Method") != null;
      if (preflight && (root.isEmpty() || path.equals(root) || path.startsWith(root + "/"))) {
        return api.handle(request(exchange, root), response(exchange.getResponse()));
      }
      return chain.filter(exchange);
    }

    @Override
    public int getOrder() {
      return Ordered.HIGHEST_PRECEDENCE + 100;
    }
  }

  static ApiRequest request(ServerWebExchange exchange, String root) {
    ServerHttpRequest request = exchange.getRequest();
    String path = request.getPath().pathWithinApplication().value().substring(root.length());
    String query = request.getURI().getRawQuery();
    String uri = (path.isEmpty() ? "/" : path) + (query == null ? "" : "?" + query);
    return new ApiRequest() {
      @Override
      public String method() {
        return request.getMethod().name().toUpperCase(Locale.ROOT);
      }

      @Override
      public String uri() {
        return uri;
      }

      @Override
      public @Nullable String header(String name) {
        return request.getHeaders().getFirst(name);
      }

      @Override
      public Mono<byte[]> body() {
        return DataBufferUtils.join(request.getBody()).map(buffer -> {
          try {
            byte[] bytes = new byte[buffer.readableByteCount()];
            buffer.read(bytes);
            return bytes;
          } finally {
            DataBufferUtils.release(buffer);
          }
        });
      }

      @Override
      public Mono<Void> discard() {
        return request.getBody().doOnNext(DataBufferUtils::release).then();
      }
    };
  }

  static ApiResponse response(ServerHttpResponse response) {
    DataBufferFactory buffers = response.bufferFactory();
    return new ApiResponse() {
      @Override
      public ApiResponse status(int code) {
        response.setStatusCode(HttpStatusCode.valueOf(code));
        return this;
      }

      @Override
      public ApiResponse header(String name, String value) {
        response.getHeaders().set(name, value);
        return this;
      }

      @Override
      public ApiResponse addHeader(String name, String value) {
        response.getHeaders().add(name, value);
        return this;
      }

      @Override
      public boolean hasSentHeaders() {
        return response.isCommitted();
      }

      @Override
      public Mono<Void> send() {
        return response.setComplete();
      }

      @Override
      public Mono<Void> send(byte[] body) {
        response.getHeaders().setContentLength(body.length);
        return response.writeWith(Mono.fromSupplier(() -> buffers.wrap(body)));
      }

      @Override
      public Mono<Void> sendEach(Flux<String> chunks) {
        // one inner publisher per chunk: WebFlux flushes after each
        return response.writeAndFlushWith(chunks.map(chunk -> Mono.<DataBuffer>fromSupplier(() ->
            buffers.wrap(chunk.getBytes(StandardCharsets.UTF_8)))));
      }
    };
  }
}
