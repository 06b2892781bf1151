package dev.fluxgraph.internal.server.api;

import dev.fluxgraph.server.ApiRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/** A request as the routes see it: the host's {@link ApiRequest} and the path variables of the route it matched. */
final class Request {

  private final ApiRequest request;
  private final Map<String, String> params;

  Request(ApiRequest request, Map<String, String> params) {
    this.request = request;
    this.params = params;
  }

  String method() {
    return request.method();
  }

  /** The path and query, not decoded, relative to the API's root. */
  String uri() {
    return request.uri();
  }

  /** The decoded path, without the query. */
  String path() {
    return new QueryStringDecoder(request.uri()).path();
  }

  @Nullable String header(String name) {
    return request.header(name);
  }

  /** The path variable of the matched route's template, as sent (not decoded). */
  String param(String name) {
    return Objects.requireNonNull(params.get(name), () -> "the route has no path variable " + name);
  }

  Mono<byte[]> body() {
    return request.body();
  }

  Mono<Void> discard() {
    return request.discard();
  }
}
