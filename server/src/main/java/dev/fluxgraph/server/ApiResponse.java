package dev.fluxgraph.server;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The answer to an {@link ApiRequest}, written by {@link FluxgraphApi#handle}: a status and headers, then one of the
 * {@code send} methods, once. The status and headers can change until then.
 */
public interface ApiResponse {

  /** Sets the status code (200 until set). */
  ApiResponse status(int code);

  /** Sets the header, replacing its values. */
  ApiResponse header(String name, String value);

  /** Adds a value to the header. */
  ApiResponse addHeader(String name, String value);

  /** Whether the status and headers went out already (nothing about them can change then). */
  boolean hasSentHeaders();

  /** Ends the answer without a body. */
  Mono<Void> send();

  /** Sends {@code body} as the whole body (with its length). */
  Mono<Void> send(byte[] body);

  /**
   * Streams {@code chunks} as the body, UTF-8, each one flushed as it comes (server-sent events, keep-alives); the
   * answer ends when they complete. Cancelling (the client left) cancels {@code chunks}.
   */
  Mono<Void> sendEach(Flux<String> chunks);
}
