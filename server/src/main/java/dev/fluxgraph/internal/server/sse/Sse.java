package dev.fluxgraph.internal.server.sse;

import dev.fluxgraph.server.ApiResponse;
import java.time.Duration;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Server-sent events as the LangGraph API frames them: one event, heartbeat comments, an event-stream answer. */
public final class Sse {

  /** How often an open stream (or a long runs/wait answer) shows it is alive. */
  public static final Duration HEARTBEAT = Duration.ofSeconds(5);

  private Sse() {
  }

  /** One framed event named {@code name}, with {@code json} (compact JSON) as its data and {@code id}. */
  public static String frame(String name, String json, long id) {
    return "event: " + name + "\r\ndata: " + json + "\r\nid: " + id + "\r\n\r\n";
  }

  /** One framed event as {@link #frame(String, String, long)} makes it, with an id that is not a number. */
  public static String frame(String name, String json, String id) {
    return "event: " + name + "\r\ndata: " + json + "\r\nid: " + id + "\r\n\r\n";
  }

  /** An event {@link #frame} made, with another id. */
  public static String withId(String framed, String id) {
    int line = framed.lastIndexOf("\r\nid: ");
    if (line < 0) {
      throw new IllegalArgumentException("not a framed event with an id: " + framed);
    }
    return framed.substring(0, line) + "\r\nid: " + id + "\r\n\r\n";
  }

  /**
   * Answers 200 with the framed events as an event stream, each flushed as it comes, with a heartbeat every five
   * seconds while they flow.
   */
  public static Mono<Void> send(ApiResponse response, Flux<String> events) {
    return response.status(200)
        .header("Content-Type", "text/event-stream")
        .header("Cache-Control", "no-store")
        .sendEach(withHeartbeats(events));
  }

  /**
   * Adds a heartbeat comment every five seconds while events flow. Each stream has its own timer: one shared by all
   * (a reference-counted {@code share()}) failed a stream with "Disconnected" when its end took the count to zero,
   * cutting its last events (SseTest).
   */
  static Flux<String> withHeartbeats(Flux<String> events) {
    Flux<String> heartbeats = Flux.interval(HEARTBEAT).map(tick -> ": heartbeat\r\n\r\n");
    return Flux.merge(events.concatWith(Mono.just("")), heartbeats)
        .takeUntil(String::isEmpty)
        .filter(text -> !text.isEmpty());
  }
}
