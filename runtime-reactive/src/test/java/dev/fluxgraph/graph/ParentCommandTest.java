package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.InvalidCommandException;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.TypeRef;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** {@code Command.toParent()}: a node of a subgraph routes and updates the graph that runs it. */
class ParentCommandTest {

  private static final Duration VERIFY = Duration.ofSeconds(10);

  private final AtomicInteger afterInner = new AtomicInteger();

  /** A subgraph whose node "inner" hands the parent a command; "never" would run after it inside the subgraph. */
  private CompiledGraph<Map<String, Object>> child(Command command) {
    return StateGraph.ofMap()
        .addNode("inner", (state, context) -> Mono.just(command))
        .addNode("never", (state, context) -> {
          afterInner.incrementAndGet();
          return Mono.just(Map.of("never", true));
        })
        .addEdge(StateGraph.START, "inner")
        .addEdge("inner", "never")
        .compile(CompileOptions.defaults().withName("child"));
  }

  record Parent(String route, List<String> log, Integer n) {
  }

  private StateGraph<Parent> parent() {
    return StateGraph.of(Parent.class)
        .reducer("log", Reducers.append())
        .addNode("after", (state, context) -> Mono.just(Map.of("log", "after")))
        .addNode("other", (state, context) -> Mono.just(Map.of("log", "other " + state.route())))
        .addNode("square", (state, context) -> Mono.just(Map.of("log", "square " + state.n() * state.n())))
        .addEdge(StateGraph.START, "sub")
        .addEdge("sub", "after");
  }

  @Test
  void aSubgraphNodeRoutesAndUpdatesTheParentGraph() {
    CompiledGraph<Parent> graph = parent()
        .addNode("sub", child(Command.goTo("other").withUpdate(Map.of("route", "from the child")).toParent()),
            NodeOptions.defaults().withDestinations("other", "square"))
        .compile(CompileOptions.defaults().withCheckpointer(new InMemorySaver()));
    RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
    StepVerifier.create(graph.invoke(new Parent(null, List.of(), null), config))
        // the update is the parent's (a key the child does not have), and the parent goes to "other" besides the
        // node's own edge to "after"
        .expectNext(new Parent("from the child", List.of("after", "other from the child"), null))
        .verifyComplete();
    assertEquals(0, afterInner.get(), "the subgraph stopped at the node that returned the command");
    assertTrue(graph.getState(config).block(VERIFY).next().isEmpty());
  }

  @Test
  void toParentCarriesSendsForTheParent() {
    CompiledGraph<Parent> graph = parent()
        .addNode("sub", child(Command.goTo(new Send("square", Map.of("n", 3)), new Send("square", Map.of("n", 4)))
            .toParent()), NodeOptions.defaults().withDestinations("other", "square"))
        .compile();
    assertEquals(List.of("after", "square 9", "square 16"), graph.invoke(new Parent(null, List.of(), null),
        RunConfig.none()).block(VERIFY).log());
  }

  @Test
  void aGraphInvokedInsideANodeFunctionAlsoHandsTheCommandToThatNodesGraph() {
    CompiledGraph<Map<String, Object>> child = child(Command.goTo("other").withUpdate(Map.of("route", "nested"))
        .toParent());
    CompiledGraph<Parent> graph = parent()
        .addNode("sub", (state, context) -> child.invoke(Map.of()).map(result -> Map.of("log", "unreachable")),
            NodeOptions.defaults().withDestinations("other", "square"))
        .compile();
    assertEquals(new Parent("nested", List.of("after", "other nested"), null),
        graph.invoke(new Parent(null, List.of(), null), RunConfig.none()).block(VERIFY));
  }

  @Test
  void theParentChecksTheCommandAgainstItsOwnNodesAndKeys() {
    CompiledGraph<Parent> unknownNode = parent()
        .addNode("sub", child(Command.goTo("inner").toParent()), NodeOptions.defaults().withDestinations("other",
            "square"))
        .compile();
    StepVerifier.create(unknownNode.invoke(new Parent(null, List.of(), null), RunConfig.none()))
        .expectErrorSatisfies(error -> assertTrue(error.getMessage().contains("'inner', which is not a node of graph"),
            error.getMessage()))
        .verify(VERIFY);
    CompiledGraph<Parent> unknownKey = parent()
        .addNode("sub", child(Command.update(Map.of("never", true)).toParent()),
            NodeOptions.defaults().withDestinations("other", "square"))
        .compile();
    StepVerifier.create(unknownKey.invoke(new Parent(null, List.of(), null), RunConfig.none()))
        .expectErrorSatisfies(error -> assertTrue(error.getMessage().contains("writes 'never', which is not a field"),
            error.getMessage()))
        .verify(VERIFY);
  }

  @Test
  void withoutAParentGraphToParentFailsSayingSo() {
    CompiledGraph<Map<String, Object>> root = child(Command.goTo("never").toParent());
    StepVerifier.create(root.invoke(Map.of(), RunConfig.none()))
        .expectErrorSatisfies(error -> {
          assertTrue(error instanceof IllegalStateException, error.toString());
          assertTrue(error.getMessage().contains("Command.toParent()"), error.getMessage());
          assertTrue(error.getMessage().contains("graph 'child' has no parent graph"), error.getMessage());
          assertTrue(error.getMessage().contains("root graph"), error.getMessage());
        })
        .verify(VERIFY);
    Entrypoint<Map<String, Object>, Map<String, Object>> workflow = Entrypoint.named("workflow")
        .define(new TypeRef<Map<String, Object>>() { }, new TypeRef<Map<String, Object>>() { },
            (input, context) -> root.invoke(input));
    StepVerifier.create(workflow.invoke(Map.of(), RunConfig.none()))
        .expectErrorSatisfies(error -> assertTrue(error.getMessage().contains("inside an entrypoint or task"),
            error.getMessage()))
        .verify(VERIFY);
    assertEquals(0, afterInner.get());
  }

  @Test
  void toParentIsNotARunInputNorAResume() {
    assertThrows(IllegalArgumentException.class, () -> Command.resume("x").toParent());
    CompiledGraph<Map<String, Object>> graph = child(Command.update(Map.of("a", 1)));
    StepVerifier.create(graph.invoke(Command.goTo("never").toParent(), RunConfig.none()))
        .expectErrorSatisfies(error -> {
          assertTrue(error instanceof InvalidCommandException, error.toString());
          assertTrue(error.getMessage().contains("toParent()"), error.getMessage());
        })
        .verify(VERIFY);
  }
}
