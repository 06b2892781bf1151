package dev.fluxgraph.internal.server.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.types.FluxgraphJson;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The OpenAPI 3.1 document of what this server serves, generated from its route declarations
 * ({@link Routes#operations}): every template route is a path and operation, its path variables are path
 * parameters, named as the official Agent Server document names them ({@code {thread_id}}, {@code {run_id}},
 * {@code {assistant_id}}, {@code {cron_id}}, {@code {checkpoint_id}}, {@code {namespace}}: by the collection whose
 * item the variable names; the routes keep their own shorter names), and a route declared with a {@link Routes.Doc}
 * adds its tag, summary, query and header parameters, request body and answer schemas (JSON, or an event stream).
 * Nothing is listed that no route serves.
 */
final class OpenApi {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();

  /** The reference's tag of a resource, for routes declared without a {@link Routes.Doc}. */
  private static final Map<String, String> TAGS = Map.of("assistants", "Assistants", "threads", "Threads",
      "runs", "Stateless Runs", "store", "Store", "crons", "Crons", "ok", "System", "info", "System",
      "openapi.json", "System");

  /** The official document's name of a path variable, by the segment before it (the collection it is an item of). */
  private static final Map<String, String> OFFICIAL = Map.of("threads", "thread_id", "runs", "run_id",
      "crons", "cron_id", "assistants", "assistant_id", "state", "checkpoint_id", "subgraphs", "namespace");

  private OpenApi() {
  }

  /** A route's template and path variables as the document names them. */
  private record Named(String template, List<String> variables) {
  }

  private static Named named(Routes.Operation route) {
    String[] segments = route.template().split("/", -1);
    List<String> variables = new ArrayList<>();
    for (int i = 0; i < segments.length; i++) {
      String segment = segments[i];
      if (segment.startsWith("{") && segment.endsWith("}")) {
        String own = segment.substring(1, segment.length() - 1);
        String name = i > 0 ? OFFICIAL.getOrDefault(segments[i - 1], own) : own;
        variables.add(name);
        segments[i] = "{" + name + "}";
      }
    }
    return new Named(String.join("/", segments), List.copyOf(variables));
  }

  static ObjectNode document(List<Routes.Operation> operations, String version) {
    ObjectNode document = JSON.createObjectNode();
    document.put("openapi", "3.1.0");
    document.putObject("info").put("title", "Fluxgraph").put("version", version);
    ObjectNode paths = document.putObject("paths");
    for (Routes.Operation operation : operations) {
      Named named = named(operation);
      ObjectNode path = paths.has(named.template()) ? (ObjectNode) paths.get(named.template())
          : paths.putObject(named.template());
      path.set(operation.method().toLowerCase(Locale.ROOT), operation(operation, named));
    }
    ObjectNode error = document.putObject("components").putObject("schemas").putObject("ErrorResponse");
    error.put("type", "object").putObject("properties").putObject("detail").put("type", "string");
    error.putArray("required").add("detail");
    return document;
  }

  private static ObjectNode operation(Routes.Operation route, Named named) {
    Routes.Doc doc = route.doc();
    ObjectNode operation = JSON.createObjectNode();
    operation.putArray("tags").add(doc != null ? doc.tag() : tagOf(route.template()));
    operation.put("summary", doc != null ? doc.summary() : route.method() + " " + named.template());
    operation.put("operationId", operationId(route.method(), named.template()));
    ArrayNode parameters = JSON.createArrayNode();
    for (String variable : named.variables()) {
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
  private static String operationId(String method, String template) {
    return (method + template).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_")
        .replaceAll("_$", "");
  }
}
