package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.InvalidGraphException;
import dev.fluxgraph.types.RunConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * A map state declared by its keys ({@link StateGraph#ofMap(java.util.Collection)}), as the reference's state
 * declared by its channels: a run's input keeps only the declared keys, nodes write only those, subgraphs exchange
 * only the keys both states declare; a map state without declared keys still takes any key.
 */
class DeclaredMapStateTest {

  private static final Duration VERIFY = Duration.ofSeconds(10);

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread("declared-" + UUID.randomUUID());

  /** The reference suite's simple_runtime: a state of "message" and "model", one node writing "model". */
  private static CompiledGraph<Map<String, Object>> modelGraph(StateGraph<Map<String, Object>> graph,
                                                               List<Map<String, Object>> seen,
                                                               CompileOptions options) {
    return graph
        .addNode("use_context", (state, context) -> {
          seen.add(state);
          return Mono.just(map("model", "unknown"));
        })
        .addEdge(StateGraph.START, "use_context")
        .compile(options);
  }

  @Test
  void anInputKeyTheStateDoesNotDeclareIsDropped() {
    List<Map<String, Object>> seen = new ArrayList<>();
    CompiledGraph<Map<String, Object>> graph = modelGraph(StateGraph.ofMap(List.of("message", "model")), seen,
        CompileOptions.defaults().withCheckpointer(saver));
    Map<String, Object> input = new LinkedHashMap<>();
    input.put("messages", List.of(Map.of("role", "human", "content", "input")));
    input.put("message", null);
    StepVerifier.create(graph.invoke(input, config))
        .assertNext(result -> assertEquals(map("message", null, "model", "unknown"), result))
        .verifyComplete();
    assertEquals(List.of(map("message", null)), seen, "the node saw the declared keys only, a null value kept");
    assertEquals(map("message", null, "model", "unknown"), graph.getState(config).block(VERIFY).values(),
        "the saved state has no undeclared key");
  }

  @Test
  void aMapStateWithoutDeclaredKeysKeepsEveryInputKey() {
    List<Map<String, Object>> seen = new ArrayList<>();
    CompiledGraph<Map<String, Object>> graph = modelGraph(StateGraph.ofMap(), seen, CompileOptions.defaults());
    StepVerifier.create(graph.invoke(Map.of("messages", List.of("hi")), RunConfig.none()))
        .assertNext(result -> assertEquals(Map.of("messages", List.of("hi"), "model", "unknown"), result))
        .verifyComplete();
    assertEquals(List.of(Map.of("messages", List.of("hi"))), seen);
  }

  @Test
  void aNodeWritingAnUndeclaredKeyFailsTheRunNamingIt() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap(List.of("model"))
        .addNode("writer", (state, context) -> Mono.just(Map.of("model", "m", "extra", 1)))
        .addEdge(StateGraph.START, "writer")
        .compile();
    StepVerifier.create(graph.invoke(Map.of(), RunConfig.none()))
        .expectErrorSatisfies(error -> {
          assertTrue(error instanceof IllegalArgumentException, error.toString());
          assertContains(error.getMessage(), "'extra'", "node 'writer'", "declares", "[model]");
        })
        .verify(VERIFY);
  }

  @Test
  void updateStateRefusesAnUndeclaredKey() {
    CompiledGraph<Map<String, Object>> graph = modelGraph(StateGraph.ofMap(List.of("message", "model")),
        new ArrayList<>(), CompileOptions.defaults().withCheckpointer(saver));
    graph.invoke(Map.of("message", "m"), config).block(VERIFY);
    StepVerifier.create(graph.updateState(config, Map.of("other", 1), "use_context"))
        .expectErrorSatisfies(error -> assertContains(error.getMessage(), "'other'", "declares"))
        .verify(VERIFY);
  }

  @Test
  void reducersAndSchemasAreCheckedAgainstTheDeclaredKeys() {
    InvalidGraphException unknown = assertThrows(InvalidGraphException.class,
        () -> StateGraph.ofMap(List.of("model")).reducer("messages", Reducers.messages()));
    assertContains(unknown.getMessage(), "'messages'", "declares no such key", "[model]");
    InvalidGraphException empty = assertThrows(InvalidGraphException.class, () -> StateGraph.ofMap(List.of()));
    assertContains(empty.getMessage(), "at least one key", "ofMap()");
    assertThrows(InvalidGraphException.class, () -> StateGraph.ofMap(List.of(" ")));
    // an input schema's properties become declared keys, as for a record state
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap(List.of("model")).withInput(Question.class)
        .reducer("question", (a, b) -> b)
        .addNode("answer", (state, context) -> Mono.just(Map.of("model", "for " + state.get("question"))))
        .addEdge(StateGraph.START, "answer")
        .compile();
    assertEquals(Map.of("question", "q", "model", "for q"), graph.invoke(Map.of("question", "q"), RunConfig.none())
        .block(VERIFY));
  }

  /** An input schema of one key. */
  public record Question(@Nullable String question) {
  }

  @Test
  void aSubgraphGetsAndReturnsOnlyTheKeysBothStatesDeclare() {
    List<Map<String, Object>> childSaw = new ArrayList<>();
    CompiledGraph<Map<String, Object>> child = StateGraph.ofMap(List.of("messages", "city"))
        .reducer("messages", Reducers.append(), List.of())
        .addNode("model_node", (state, context) -> {
          childSaw.add(state);
          return Mono.just(Map.of("city", "San Francisco", "messages", List.of("sunny")));
        })
        .addEdge(StateGraph.START, "model_node")
        .compile(CompileOptions.defaults().withName("weather_graph"));
    CompiledGraph<Map<String, Object>> parent = StateGraph.ofMap(List.of("messages", "route"))
        .reducer("messages", Reducers.append(), List.of())
        .addNode("router_node", (state, context) -> Mono.just(Map.of("route", "weather")))
        .addNode("weather_graph", child)
        .addEdge(StateGraph.START, "router_node").addEdge("router_node", "weather_graph")
        .compile();
    // the child returns its whole state's "messages" ([hi, sunny]), which the parent's append reducer adds; its
    // "city" is no key of the parent's
    assertEquals(Map.of("messages", List.of("hi", "hi", "sunny"), "route", "weather"),
        parent.invoke(Map.of("messages", List.of("hi")), RunConfig.none()).block(VERIFY));
    assertEquals(List.of(Map.of("messages", List.of("hi"))), childSaw, "the parent's 'route' is not the child's");
  }

  private static Map<String, Object> map(Object... keysAndValues) {
    Map<String, Object> map = new HashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }

  private static void assertContains(@Nullable String text, String... parts) {
    for (String part : parts) {
      assertTrue(text != null && text.contains(part), "expected '" + part + "' in: " + text);
    }
  }
}
