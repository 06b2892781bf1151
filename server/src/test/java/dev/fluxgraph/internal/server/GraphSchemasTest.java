package dev.fluxgraph.internal.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.graph.CompiledGraph;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.types.TypeRef;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

class GraphSchemasTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  public record Topic(String topic, @Nullable List<String> notes) {
  }

  @Test
  void typeParametersAndRecordsBecomeTheirSchemas() throws Exception {
    Entrypoint<Map<String, Integer>, List<String>> counts = Entrypoint.named("counts")
        .define(new TypeRef<Map<String, Integer>>() { }, new TypeRef<List<String>>() { },
            (input, context) -> Mono.just(List.copyOf(input.keySet())));
    JsonNode schemas = GraphSchemas.of("counts", counts);
    assertEquals("counts", schemas.get("graph_id").asText());
    assertEquals(JSON.readTree("{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\"}}"),
        without(schemas.get("input_schema"), "$schema"), schemas::toString);
    assertEquals(JSON.readTree("{\"type\":\"array\",\"items\":{\"type\":\"string\"}}"),
        without(schemas.get("output_schema"), "$schema"));
    assertEquals(schemas.get("output_schema"), schemas.get("state_schema"), "an entrypoint's state is its value");

    CompiledGraph<Topic> graph = StateGraph.of(Topic.class)
        .addNode("write", (state, context) -> Mono.just(Map.of("notes", List.of(state.topic()))))
        .setEntryPoint("write").compile();
    JsonNode state = GraphSchemas.of("topic", graph.asEntrypoint()).get("state_schema");
    assertEquals(JSON.readTree("{\"topic\":{\"type\":\"string\"},\"notes\":{\"type\":\"array\","
        + "\"items\":{\"type\":\"string\"}}}"), state.get("properties"), state::toString);
  }

  @Test
  void subgraphsAreFoundByNamespaceAsTheReferenceFindsThem() {
    Entrypoint<String, String> leaf = Entrypoint.named("leaf").define(String.class, String.class,
        (input, context) -> Mono.just(input));
    CompiledGraph<Map<String, Object>> middle = StateGraph.ofMap().addNode("leaf", leaf).setEntryPoint("leaf")
        .compile();
    CompiledGraph<Map<String, Object>> root = StateGraph.ofMap().addNode("middle", middle)
        .addNode("other", (state, context) -> Mono.just(Map.of())).setEntryPoint("middle").addEdge("middle", "other")
        .compile();
    assertEquals(List.of("middle"), List.copyOf(GraphSchemas.subgraphs(root.asEntrypoint(), null, false).keySet()));
    assertEquals(List.of("middle", "middle|leaf"),
        List.copyOf(GraphSchemas.subgraphs(root.asEntrypoint(), null, true).keySet()));
    assertEquals(List.of("middle|leaf"),
        List.copyOf(GraphSchemas.subgraphs(root.asEntrypoint(), "middle|leaf", true).keySet()));
    assertTrue(GraphSchemas.subgraphs(root.asEntrypoint(), "middle|leaf", false).isEmpty());
    assertTrue(GraphSchemas.subgraphs(root.asEntrypoint(), "mid", true).isEmpty(), "a namespace is a whole name");
    assertTrue(GraphSchemas.subgraphs(leaf, null, true).isEmpty());
  }

  private static JsonNode without(JsonNode schema, String field) {
    return ((ObjectNode) schema.deepCopy()).without(field);
  }
}
