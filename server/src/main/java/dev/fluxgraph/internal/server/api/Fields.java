package dev.fluxgraph.internal.server.api;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.types.FluxgraphJson;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** The checks of request fields, in the body or the query, shared by the routes: a bad value is a 422 naming it. */
final class Fields {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();
  static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() { };

  private Fields() {
  }

  /** The text field, or null when absent or null; 422 when it has another type. */
  static @Nullable String optionalText(JsonNode body, String field) {
    JsonNode value = body.path(field);
    if (value.isMissingNode() || value.isNull()) {
      return null;
    }
    if (!value.isTextual()) {
      throw HttpProblem.invalid(field + " must be a string");
    }
    return value.asText();
  }

  /** The object field, or null when absent or null; 422 when it has another type. */
  static @Nullable JsonNode optionalObject(JsonNode body, String field) {
    JsonNode value = body.path(field);
    if (value.isMissingNode() || value.isNull()) {
      return null;
    }
    if (!value.isObject()) {
      throw HttpProblem.invalid(field + " must be an object");
    }
    return value;
  }

  /** The object field as a map, empty when absent or null; 422 when it has another type. */
  static Map<String, Object> optionalMap(JsonNode body, String field) {
    JsonNode value = optionalObject(body, field);
    return value == null ? Map.of() : JSON.convertValue(value, MAP);
  }

  /** The non-negative integer field, or {@code fallback} when absent or null; 422 otherwise. */
  static int nonNegative(JsonNode body, String field, int fallback) {
    JsonNode value = body.path(field);
    if (value.isMissingNode() || value.isNull()) {
      return fallback;
    }
    if (!value.canConvertToInt() || !value.isIntegralNumber() || value.asInt() < 0) {
      throw HttpProblem.invalid(field + " must be a non-negative integer, was " + value);
    }
    return value.asInt();
  }

  /** A boolean body field: false when absent or null; 422 unless a boolean. */
  static boolean booleanField(JsonNode body, String name) {
    JsonNode value = body.path(name);
    if (value.isMissingNode() || value.isNull()) {
      return false;
    }
    if (!value.isBoolean()) {
      throw HttpProblem.invalid(name + " must be a boolean");
    }
    return value.booleanValue();
  }

  /** The text field, {@code fallback} when absent or null; 422 when it is none of {@code allowed}. */
  static String oneOf(JsonNode body, String field, String fallback, String... allowed) {
    String value = Objects.requireNonNullElse(optionalText(body, field), fallback);
    if (!List.of(allowed).contains(value)) {
      throw HttpProblem.invalid(field + " must be " + String.join(", ", allowed).replaceFirst(", (\\w+)$", " or $1")
          + ", was '" + value + "'");
    }
    return value;
  }

  /** 422 naming the first field of {@code body} that is none of {@code known}: nothing sent is silently dropped. */
  static void onlyKnown(JsonNode body, String... known) {
    List<String> fields = List.of(known);
    for (Map.Entry<String, JsonNode> field : body.properties()) {
      if (!fields.contains(field.getKey())) {
        throw HttpProblem.invalid("unknown field " + field.getKey() + " (known: " + String.join(", ", known) + ")");
      }
    }
  }

  /** Whether every entry of {@code filter} is in {@code metadata} (JSON equality). */
  static boolean contains(JsonNode metadata, JsonNode filter) {
    for (Map.Entry<String, JsonNode> entry : filter.properties()) {
      if (!entry.getValue().equals(metadata.get(entry.getKey()))) {
        return false;
      }
    }
    return true;
  }

  /** The query parameter's first value, or null. */
  static @Nullable String queryParam(Request request, String name) {
    return new QueryStringDecoder(request.uri()).parameters()
        .getOrDefault(name, List.of()).stream().findFirst().orElse(null);
  }

  /** An integer query parameter, {@code fallback} when absent; 422 otherwise. */
  static int intParam(Request request, String name, int fallback) {
    String value = queryParam(request, name);
    try {
      int parsed = value == null ? fallback : Integer.parseInt(value);
      if (parsed < 0) {
        throw HttpProblem.invalid(name + " must not be negative, was " + parsed);
      }
      return parsed;
    } catch (NumberFormatException e) {
      throw HttpProblem.invalid(name + " must be an integer, was '" + value + "'");
    }
  }

  /** A boolean query parameter: false when absent; 422 unless {@code true} or {@code false}. */
  static boolean booleanParam(Request request, String name) {
    String value = queryParam(request, name);
    if (value == null || value.equals("false")) {
      return false;
    }
    if (value.equals("true")) {
      return true;
    }
    throw HttpProblem.invalid(name + " must be true or false, was '" + value + "'");
  }
}
