package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** The events of a whole SSE answer, for the ITs that read a stream to its end. */
final class SseEvents {

  private SseEvents() {
  }

  /** The events of an SSE body (a 200), each as name, id and data; comments (heartbeats) are left out. */
  static List<String[]> of(HttpResponse<String> response) {
    assertEquals(200, response.statusCode(), response.body());
    List<String[]> events = new ArrayList<>();
    for (String block : response.body().replace("\r\n", "\n").split("\n\n")) {
      String[] event = block(block);
      if (event != null) {
        events.add(event);
      }
    }
    return events;
  }

  /** One event's block (its lines, without the blank line after them) as name, id and data; null for a comment. */
  static String @Nullable [] block(String block) {
    String name = null;
    String id = null;
    StringBuilder data = new StringBuilder();
    for (String line : block.split("\n")) {
      if (line.startsWith("event: ")) {
        name = line.substring(7);
      } else if (line.startsWith("id: ")) {
        id = line.substring(4);
      } else if (line.startsWith("data: ")) {
        data.append(line.substring(6));
      }
    }
    return name == null ? null : new String[] {name, id, data.toString()};
  }
}
