package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.func.Entrypoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * {@code GET /openapi.json} over a real socket describes every route the server serves: a tag and a summary of its
 * own (not the method and path it falls back to), the path parameters (each {@code {variable}} of a path declared
 * under that name, the official document's: {@code {thread_id}}, not the routes' own {@code {tid}}), a request body
 * for every route that reads one, a JSON or event-stream answer (or a 204), and the refusals' {@code {"detail"}}
 * shape.
 */
class OpenApiIT {

  /** The POST routes that read no body (their input is the path and the query). */
  private static final Set<String> WITHOUT_BODY = Set.of("post /threads/{thread_id}/copy",
      "post /threads/{thread_id}/runs/{run_id}/cancel");

  /** The path variables of the official Agent Server OpenAPI document. */
  private static final Set<String> OFFICIAL_VARIABLES = Set.of("thread_id", "run_id", "assistant_id", "cron_id",
      "checkpoint_id", "namespace");

  @Test
  void everyServedRouteIsDescribed() {
    Entrypoint<String, String> echo = Entrypoint.named("echo").define(String.class, String.class,
        (input, context) -> Mono.just(input));
    ServerFixture.withServers(null, 1, builder -> builder.graph("echo", echo), apis -> {
      ApiClient.Reply reply = apis.get(0).get("/openapi.json");
      assertEquals(200, reply.status(), reply.body());
      JsonNode paths = reply.json().get("paths");
      List<String> undescribed = new ArrayList<>();
      int operations = 0;
      for (Map.Entry<String, JsonNode> path : paths.properties()) {
        for (Map.Entry<String, JsonNode> entry : path.getValue().properties()) {
          operations++;
          String method = entry.getKey();
          String route = method + " " + path.getKey();
          JsonNode operation = entry.getValue();
          if (operation.path("summary").asText().equals(method.toUpperCase(Locale.ROOT) + " " + path.getKey())) {
            undescribed.add(route);
            continue;
          }
          assertFalse(operation.path("tags").path(0).asText().isEmpty(), route);
          List<String> variables = variables(path.getKey());
          for (String variable : variables) {
            assertTrue(OFFICIAL_VARIABLES.contains(variable), route + ": {" + variable + "} is not the official"
                + " document's name");
            assertTrue(hasParameter(operation, variable, "path"), route + " declares " + variable);
          }
          for (JsonNode parameter : operation.path("parameters")) {
            if (parameter.path("in").asText().equals("path")) {
              assertTrue(variables.contains(parameter.path("name").asText()), route + " has no {"
                  + parameter.path("name").asText() + "} for its path parameter of that name");
            }
          }
          boolean readsBody = Set.of("post", "put", "patch").contains(method) && !WITHOUT_BODY.contains(route)
              || route.equals("delete /store/items");
          assertEquals(readsBody, operation.has("requestBody"), route + ": " + operation);
          if (readsBody) {
            assertTrue(operation.at("/requestBody/content/application~1json/schema").isObject(), route);
          }
          JsonNode responses = operation.get("responses");
          assertTrue(responses.has("204") || responses.at("/200/content").size() == 1, route + ": " + responses);
          assertEquals("#/components/schemas/ErrorResponse",
              responses.at("/422/content/application~1json/schema/$ref").asText(), route);
        }
      }
      assertEquals(List.of(), undescribed, "routes without a description of their own");
      assertTrue(operations >= 50, "every served route is listed: " + operations);

      JsonNode stream = paths.at("/~1threads~1{thread_id}~1stream/get");
      assertTrue(hasParameter(stream, "Last-Event-ID", "header"), stream.toString());
      assertTrue(hasParameter(stream, "stream_mode", "query"), stream.toString());
      assertTrue(stream.at("/responses/200/content").has("text/event-stream"), stream.toString());
      JsonNode patchThread = paths.at("/~1threads~1{thread_id}/patch");
      assertEquals("Patch Thread", patchThread.path("summary").asText(),
          paths.path("/threads/{thread_id}").toString());
      assertTrue(patchThread.at("/requestBody/content/application~1json/schema/properties").has("metadata"),
          patchThread.toString());
      JsonNode patch = paths.at("/~1threads~1{thread_id}~1state/patch");
      assertEquals("Patch Thread State", patch.get("summary").asText());
      assertEquals("metadata", patch.at("/requestBody/content/application~1json/schema/required/0").asText());
      assertTrue(patch.at("/responses").has("204"), patch.toString());
      assertEquals(List.of("delete", "keep_latest"), strings(paths.at(
          "/~1threads~1prune/post/requestBody/content/application~1json/schema/properties/strategy/enum")));
      assertTrue(paths.at("/~1runs~1crons/post/requestBody/content/application~1json/schema/properties")
          .has("schedule"));
      assertEquals("Thread Runs", paths.at("/~1threads~1{thread_id}~1runs~1stream/post/tags/0").asText());
      assertTrue(paths.at("/~1threads~1{thread_id}~1runs/get/parameters").toString().contains("\"status\""));
    });
  }

  private static List<String> variables(String template) {
    List<String> names = new ArrayList<>();
    for (String segment : template.split("/")) {
      if (segment.startsWith("{") && segment.endsWith("}")) {
        names.add(segment.substring(1, segment.length() - 1));
      }
    }
    return names;
  }

  private static boolean hasParameter(JsonNode operation, String name, String in) {
    for (JsonNode parameter : operation.path("parameters")) {
      if (parameter.path("name").asText().equals(name) && parameter.path("in").asText().equals(in)) {
        return true;
      }
    }
    return false;
  }

  private static List<String> strings(JsonNode array) {
    List<String> values = new ArrayList<>();
    array.forEach(value -> values.add(value.asText()));
    return values;
  }
}
