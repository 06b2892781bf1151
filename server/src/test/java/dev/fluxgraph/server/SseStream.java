package dev.fluxgraph.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.netty.http.client.HttpClient;

/**
 * An SSE stream a test keeps open over a real socket (one that does not end by itself, such as a thread's stream):
 * its events are collected as they arrive until {@link #close}.
 */
final class SseStream implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** One event: its name, its id and its data. */
  record Event(String name, @Nullable String id, String data) {
    JsonNode json() {
      try {
        return JSON.readTree(data);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private final List<Event> events = new CopyOnWriteArrayList<>();
  private volatile @Nullable Throwable failure;
  private volatile int status;
  private volatile @Nullable Disposable subscription;

  private SseStream() {
  }

  /** Opens {@code GET path} on the server at {@code port}, with {@code Last-Event-ID} when not null. */
  static SseStream open(int port, String path, @Nullable String lastEventId) {
    HttpClient client = HttpClient.create().baseUrl("http://127.0.0.1:" + port)
        .headers(headers -> {
          if (lastEventId != null) {
            headers.set("Last-Event-ID", lastEventId);
          }
        });
    SseStream stream = new SseStream();
    Flux<Event> source = Flux.defer(() -> {
      StringBuilder buffer = new StringBuilder();
      return client.get().uri(path).response((response, body) -> {
        stream.status = response.status().code();
        return body.asString(StandardCharsets.UTF_8);
      }).concatMapIterable(chunk -> {
        buffer.append(chunk.replace("\r", ""));
        List<Event> parsed = new ArrayList<>();
        for (int end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          String[] event = SseEvents.block(buffer.substring(0, end));
          buffer.delete(0, end + 2);
          if (event != null) {
            parsed.add(new Event(event[0], event[1], event[2]));
          }
        }
        return parsed;
      });
    });
    stream.subscription = source.subscribe(stream.events::add, error -> stream.failure = error);
    return stream;
  }

  /** The events so far. */
  List<Event> events() {
    return List.copyOf(events);
  }

  /** The answer's status once its headers came (0 before). */
  int status() {
    return status;
  }

  /** Why the stream failed, or null. */
  @Nullable Throwable failure() {
    return failure;
  }

  @Override
  public void close() {
    Disposable running = subscription;
    if (running != null) {
      running.dispose();
    }
  }
}
