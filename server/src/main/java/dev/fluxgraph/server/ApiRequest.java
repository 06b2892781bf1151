package dev.fluxgraph.server;

import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * One HTTP request to the LangGraph Server API, as the host that received it hands it over ({@link FluxgraphServer}
 * on Reactor Netty, or a Spring WebFlux application through {@code fluxgraph-spring-boot-autoconfigure}): see
 * {@link FluxgraphApi#handle}. The API reads the body at most once.
 */
public interface ApiRequest {

  /** The method, upper-case: {@code GET}, {@code POST}, ... */
  String method();

  /**
   * The path and query as sent, not decoded, relative to where the API is mounted: {@code /threads/t1/runs?limit=2}
   * for {@code GET /fluxgraph/threads/t1/runs?limit=2} under the base path {@code /fluxgraph}. Starts with {@code /}.
   */
  String uri();

  /** The first value of the header (case-insensitive name), or null. */
  @Nullable String header(String name);

  /** The whole body; empty for none. Cold; subscribed once. */
  Mono<byte[]> body();

  /** Reads the body to its end and drops it (an unread body stalls the connection's next request). */
  Mono<Void> discard();
}
