package dev.fluxgraph.internal.server.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.types.FluxgraphJson;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The OpenAPI 3.1 document of what this server serves, generated from its route declarations
 * ({@link Routes#operations}): every template route is a path and operation, its path variables are path
 * parameters, and a route declared with a {@link Routes.Doc} adds its tag, summary, query and header parameters,
 * request body and answer schemas (JSON, or an event stream). Nothing is listed that no route serves.
 */
final class OpenApi {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();

  /** The reference's tag of a resource, for routes declared without a {@link Routes.Doc}. */
  private static final Map<String, String> TAGS = Map.of("assistants", "Assistants", "threads", "Threads",
      "runs", "Stateless Runs", "store", "Store", "crons", "Crons", "ok", "System", "info", "System",
      "openapi.json", "System");

  private OpenApi() {
  }

  static ObjectNode document(List<Routes.Operation> operations, String version) {
    ObjectNode document = JSON.createObjectNode();
    document.put("openapi", "3.1.0");
    document.putObject("info").put("title", "Fluxgraph").put("version", version);
    ObjectNode paths = document.putObject("paths");
    for (Routes.Operation operation : operations) {
      ObjectNode path = paths.has(operation.template()) ? (ObjectNode) paths.get(operation.template())
          : paths.putObject(operation.template());
      path.set(operation.method().toLowerCase(Locale.ROOT), operation(operation));
    }
    ObjectNode error = document.putObject("components").putObject("schemas").putObject("ErrorResponse");
    error.put("type", "object").putObject("properties").putObject("detail").put("type", "string");
    error.putArray("required").add("detail");
    return document;
  }

  private static ObjectNode operation(Routes.Operation route) {
    Routes.Doc doc = route.doc();
    ObjectNode operation = JSON.createObjectNode();
    operation.putArray("tags").add(doc != null ? doc.tag() : tagOf(route.template()));
    operation.put("summary", doc != null ? doc.summary() : route.method() + " " + route.template());
    operation.put("operationId", operationId(route));
    ArrayNode parameters = JSON.createArrayNode();
    for (String variable : route.variables()) {
      ObjectNode parameter = parameters.addObject().put("name", variable).put("in", "path").put("required", true);
      parameter.putObject("schema").put("type", "string");
    }
    if (doc != null) {
      doc.query().forEach((name, schema) -> parameters.addObject().put("name", name).put("in", "query")
          .put("required", false).set("schema", JSON.valueToTree(schema)));
      doc.headers().forEach((name, schema) -> parameters.addObject().put("name", name).put("in", "header")
          .put("required", false).set("schema", JSON.valueToTree(schema)));
      if (doc.body() != null) {
        operation.putObject("requestBody").put("required", false).putObject("content")
            .putObject("application/json").set("schema", JSON.valueToTree(doc.body()));
      }
    }
    if (!parameters.isEmpty()) {
      operation.set("parameters", parameters);
    }
    ObjectNode responses = operation.putObject("responses");
    if (doc != null && doc.answer() == null) {
      responses.putObject("204").put("description", "Success");
    } else {
      ObjectNode ok = responses.putObject("200").put("description", "Success");
      if (doc != null) {
        ok.putObject("content").putObject(doc.media()).set("schema", JSON.valueToTree(doc.answer()));
      }
    }
    for (String status : List.of("404", "409", "422")) {
      responses.putObject(status).put("description", "Refused").putObject("content").putObject("application/json")
          .putObject("schema").put("$ref", "#/components/schemas/ErrorResponse");
    }
    return operation;
  }

  private static String tagOf(String template) {
    String[] segments = template.substring(1).split("/");
    if (segments[0].equals("threads") && segments.length > 2 && segments[2].equals("runs")) {
      return "Thread Runs";
    }
    return TAGS.getOrDefault(segments[0], "System");
  }

  /** A unique id from method and template: {@code post_assistants_assistant_id_versions}. */
  private static String operationId(Routes.Operation route) {
    return (route.method() + route.template()).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_")
        .replaceAll("_$", "");
  }
}
