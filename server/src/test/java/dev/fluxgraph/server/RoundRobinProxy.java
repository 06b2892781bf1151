package dev.fluxgraph.server;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.resources.ConnectionProvider;

/**
 * An HTTP reverse proxy on a free port of 127.0.0.1 that sends requests to its backends in turn, {@code runLength}
 * consecutive requests to each (1: every request to the next backend), whatever connection a request came on.
 * Request and response bodies are streamed through chunk by chunk (an SSE response reaches the client event by
 * event), every end-to-end header is passed both ways ({@code x-api-key}, {@code Last-Event-ID},
 * {@code Content-Location}...), and every exchange is recorded with its backend, status and how its response ended,
 * so that a test can see what a client's retries would hide.
 */
final class RoundRobinProxy implements AutoCloseable {

  /** Hop-by-hop headers (RFC 9110 §7.6.1), which belong to one connection, and Host, which names the proxy. */
  private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection",
      "transfer-encoding", "te", "trailer", "upgrade", "host");

  private final List<Integer> ports;
  private final int runLength;
  private final AtomicInteger next;
  private final AtomicIntegerArray requests;
  private final Queue<Exchange> exchanges = new ConcurrentLinkedQueue<>();
  private final ConnectionProvider connections = ConnectionProvider.create("round-robin-proxy", 64);
  private final HttpClient client = HttpClient.create(connections).host("127.0.0.1");
  private final DisposableServer server;

  private RoundRobinProxy(List<Integer> ports, int runLength, int skip) {
    this.ports = List.copyOf(ports);
    this.runLength = runLength;
    this.next = new AtomicInteger(skip);
    this.requests = new AtomicIntegerArray(ports.size());
    this.server = HttpServer.create().host("127.0.0.1").port(0).handle(this::forward).bindNow(Duration.ofSeconds(10));
  }

  /**
   * A proxy listening at once, in front of the servers on {@code ports} of 127.0.0.1, that gives its first
   * {@code runLength - skip} requests to the first port, then {@code runLength} to each next one, and round again.
   */
  static RoundRobinProxy of(List<Integer> ports, int runLength, int skip) {
    if (ports.isEmpty()) {
      throw new IllegalArgumentException("a proxy needs at least one backend port");
    }
    if (runLength < 1 || skip < 0 || skip >= runLength) {
      throw new IllegalArgumentException("need runLength >= 1 and 0 <= skip < runLength, were " + runLength + ", "
          + skip);
    }
    return new RoundRobinProxy(ports, runLength, skip);
  }

  int port() {
    return server.port();
  }

  /** How many requests the backend on {@code ports.get(index)} was sent. */
  int requests(int index) {
    return requests.get(index);
  }

  /** Every exchange so far, in the order the requests came. */
  List<Exchange> exchanges() {
    return List.copyOf(exchanges);
  }

  /** One request and its response: {@code outcome} is {@code open} until the response ended. */
  static final class Exchange {
    final int backend;
    final String request;
    volatile int status;
    volatile String outcome = "open";

    Exchange(int backend, String request) {
      this.backend = backend;
      this.request = request;
    }

    @Override
    public String toString() {
      return "#" + backend + " " + request + " -> " + status + " " + outcome;
    }
  }

  private Mono<Void> forward(HttpServerRequest request, HttpServerResponse response) {
    int backend = Math.floorMod(next.getAndIncrement() / runLength, ports.size());
    requests.incrementAndGet(backend);
    Exchange exchange = new Exchange(backend, request.method() + " " + request.uri());
    exchanges.add(exchange);
    return client.port(ports.get(backend))
        .headers(headers -> copyEndToEnd(request.requestHeaders(), headers))
        .request(request.method())
        .uri(request.uri())
        .send(request.receive().retain())
        .response((upstream, body) -> {
          exchange.status = upstream.status().code();
          response.status(upstream.status());
          copyEndToEnd(upstream.responseHeaders(), response.responseHeaders());
          if (!upstream.responseHeaders().contains(HttpHeaderNames.CONTENT_LENGTH)) {
            // a stream (SSE): chunked, each chunk flushed as it arrives
            response.chunkedTransfer(true);
          }
          // complete once the response is through: the upstream client may cancel sending a request body the
          // server did not wait for (reactor-netty does, for a DELETE with a body), which is no failure
          return response.send(body.retain(), chunk -> true).then()
              .doOnSuccess(done -> exchange.outcome = "complete");
        })
        .then()
        .doOnError(error -> exchange.outcome = "failed: " + error)
        .doOnCancel(() -> {
          if (exchange.outcome.equals("open")) {
            exchange.outcome = "cancelled";
          }
        });
  }

  private static void copyEndToEnd(HttpHeaders from, HttpHeaders to) {
    from.forEach(header -> {
      if (!HOP_BY_HOP.contains(header.getKey().toLowerCase(Locale.ROOT))) {
        to.add(header.getKey(), header.getValue());
      }
    });
  }

  @Override
  public void close() {
    server.disposeNow(Duration.ofSeconds(10));
    connections.disposeLater().block(Duration.ofSeconds(10));
  }
}
