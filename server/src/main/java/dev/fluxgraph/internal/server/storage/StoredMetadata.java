package dev.fluxgraph.internal.server.storage;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.types.FluxgraphJson;
import java.util.Map;

/** Metadata (of a thread or a run) as the PostgreSQL stores keep it: JSON text. */
final class StoredMetadata {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();
  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() { };

  private StoredMetadata() {
  }

  /** The metadata as JSON text; 422 when it is not JSON-serializable. */
  static String json(Map<String, Object> value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw HttpProblem.invalid("metadata is not JSON-serializable");
    }
  }

  /** The metadata read back from its JSON text. */
  static Map<String, Object> parse(String json) throws JsonProcessingException {
    return JSON.readValue(json, MAP);
  }
}
