package dev.fluxgraph.postgres;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.errors.SerializationException;
import dev.fluxgraph.internal.Json;
import java.util.Map;

/** JSON text to and from the jsonb columns, with errors that name the row. */
final class PostgresJson {

  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() { };

  private PostgresJson() {
  }

  static String write(Object value) {
    try {
      return Json.mapper().writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new SerializationException("cannot write " + value.getClass().getName() + " as JSON", e);
    }
  }

  static JsonNode tree(String text, String what) {
    try {
      return Json.mapper().readTree(text);
    } catch (JsonProcessingException e) {
      throw new SerializationException("corrupt JSON in " + what + ": " + e.getOriginalMessage(), e);
    }
  }

  static Map<String, Object> object(String text, String what) {
    JsonNode node = tree(text, what);
    if (!node.isObject()) {
      throw new SerializationException("corrupt data in " + what + ": expected a JSON object, found "
          + node.getNodeType(), null);
    }
    return Json.mapper().convertValue(node, MAP);
  }
}
