package dev.fluxgraph.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.fluxgraph.errors.SerializationException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

  private static final ObjectWriter JACKSON = Json.mapper().writer()
      .with(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  @Test
  void scalarFastPathsMatchJackson() throws Exception {
    for (Object value : List.of("plain", "quote \" backslash \\ tab \t newline \n ünï €", "", 0, -17, Integer.MAX_VALUE,
        Long.MIN_VALUE, true, false)) {
      assertArrayEquals(JACKSON.writeValueAsBytes(value), Json.canonicalBytes(value, () -> "v"), value.toString());
      assertEquals(Json.mapper().valueToTree(value), Json.toTree(value, () -> "v"));
    }
    assertArrayEquals(JACKSON.writeValueAsBytes(null), Json.canonicalBytes(null, () -> "v"));
  }

  record Point(int y, int x) {
  }

  @Test
  void canonicalJsonSortsMapKeysAndProperties() {
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("b", 1);
    a.put("a", new Point(2, 1));
    Map<String, Object> b = new LinkedHashMap<>();
    b.put("a", new Point(2, 1));
    b.put("b", 1);
    assertArrayEquals(Json.canonicalBytes(a, () -> "a"), Json.canonicalBytes(b, () -> "b"));
    assertEquals("{\"a\":{\"x\":1,\"y\":2},\"b\":1}", Json.canonicalString(a));
  }

  @Test
  void nonSerializableValuesNameWhatFailed() {
    SerializationException error = assertThrows(SerializationException.class,
        () -> Json.toTree(new Object(), () -> "the result of 'x'"));
    assertTrue(error.getMessage().startsWith("the result of 'x' is not JSON-serializable"), error.getMessage());
  }
}
