package dev.fluxgraph.internal.server.sse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SseTest {

  @Test
  void anEventGetsAnotherIdAndKeepsItsNameAndData() {
    String framed = Sse.frame("values", "{\"text\":\"id: 3\\r\\nid: 4\"}", 7);
    assertEquals("event: values\r\ndata: {\"text\":\"id: 3\\r\\nid: 4\"}\r\nid: run-1:7\r\n\r\n",
        Sse.withId(framed, "run-1:7"));
    assertEquals(Sse.frame("metadata", "{}", "run-1:done"), "event: metadata\r\ndata: {}\r\nid: run-1:done\r\n\r\n");
  }

  @Test
  void onlyAFramedEventHasAnIdToReplace() {
    assertThrows(IllegalArgumentException.class, () -> Sse.withId(": heartbeat\r\n\r\n", "x"));
  }
}
