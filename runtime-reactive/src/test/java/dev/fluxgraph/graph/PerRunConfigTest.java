package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.GraphRecursionException;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RunConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The per-run settings of {@link RunConfig}: recursion limit, tags, run name and breakpoints, as a graph run honours
 * them and as its nodes read them.
 */
class PerRunConfigTest {

  private static final Duration VERIFY = Duration.ofSeconds(10);

  private final InMemorySaver saver = new InMemorySaver();

  /** a → b → c, each appending its name and what it read of the run's config. */
  private CompiledGraph<Map<String, Object>> chain(CompileOptions options) {
    StateGraph<Map<String, Object>> graph = StateGraph.ofMap().reducer("seen", Reducers.append());
    for (String node : List.of("a", "b", "c")) {
      graph.addNode(node, (state, context) -> Mono.just(Map.of("seen", node + ":" + context.config().tags() + ":"
          + context.config().runName().orElse("-"))));
    }
    return graph.addEdge(StateGraph.START, "a").addEdge("a", "b").addEdge("b", "c")
        .compile(options.withCheckpointer(saver));
  }

  @Test
  void copiesKeepTheSettingsAndTheyArePartOfEquality() {
    RunConfig config = RunConfig.thread("t").withRecursionLimit(4).withTags(List.of("x", "y")).withRunName("nightly")
        .withInterruptBefore(List.of("b")).withInterruptAfter(List.of("*"));
    RunConfig copied = config.withCheckpointId("c").withMetadata(Map.of("k", 1)).withContext("ctx")
        .withConfigurable(Map.of("model", "m"));
    assertEquals(Optional.of(4), copied.recursionLimit());
    assertEquals(List.of("x", "y"), copied.tags());
    assertEquals(Optional.of("nightly"), copied.runName());
    assertEquals(Optional.of(Set.of("b")), copied.interruptBefore());
    assertEquals(Optional.of(Set.of("*")), copied.interruptAfter());
    assertEquals(RunConfig.thread("t").withRecursionLimit(4).withTags(List.of("x", "y")).withRunName("nightly")
        .withInterruptBefore(List.of("b")).withInterruptAfter(List.of("*")), config);
    assertNotEquals(RunConfig.thread("t"), config);
    assertTrue(config.toString().contains("recursionLimit=4"), config.toString());
    assertEquals(Optional.empty(), RunConfig.none().recursionLimit());
    assertEquals(List.of(), RunConfig.none().tags());
    assertEquals(Optional.empty(), RunConfig.none().interruptBefore());
  }

  @Test
  void badSettingsAreRefusedNamingThem() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> RunConfig.none().withRecursionLimit(0))
        .getMessage().contains("recursion limit"));
    assertThrows(IllegalArgumentException.class, () -> RunConfig.none().withTags(List.of(" ")));
    assertThrows(IllegalArgumentException.class, () -> RunConfig.none().withRunName(""));
    assertThrows(IllegalArgumentException.class, () -> RunConfig.none().withInterruptBefore(List.of("")));
  }

  @Test
  void theRunsRecursionLimitReplacesTheGraphs() {
    CompiledGraph<Map<String, Object>> graph = chain(CompileOptions.defaults());
    StepVerifier.create(graph.invoke(Map.of(), RunConfig.thread(UUID.randomUUID().toString())
            .withRecursionLimit(2)))
        .expectErrorSatisfies(error -> {
          assertTrue(error instanceof GraphRecursionException, error.toString());
          assertTrue(error.getMessage().contains("ran 2 supersteps"), error.getMessage());
        })
        .verify(VERIFY);
    // and raises it above a low compiled one
    CompiledGraph<Map<String, Object>> low = chain(CompileOptions.defaults().withRecursionLimit(1));
    assertEquals(3, ((List<?>) low.invoke(Map.of(), RunConfig.thread(UUID.randomUUID().toString())
        .withRecursionLimit(3)).block(VERIFY).get("seen")).size());
  }

  @Test
  void nodesReadTheRunsTagsAndName() {
    Map<String, Object> done = chain(CompileOptions.defaults()).invoke(Map.of(),
        RunConfig.thread(UUID.randomUUID().toString()).withTags(List.of("t1")).withRunName("r")).block(VERIFY);
    assertEquals(List.of("a:[t1]:r", "b:[t1]:r", "c:[t1]:r"), done.get("seen"));
  }

  @Test
  void theRunsBreakpointsPauseItAndReplaceTheGraphs() {
    CompiledGraph<Map<String, Object>> graph = chain(CompileOptions.defaults().withInterruptBefore("c"));
    RunConfig config = RunConfig.thread(UUID.randomUUID().toString()).withInterruptBefore(List.of("b"));
    graph.invoke(Map.of(), config).block(VERIFY);
    assertEquals(List.of("b"), graph.getState(config).block(VERIFY).next());
    // continuing with the same settings: past b, and not stopped before c (the run's breakpoints replace the graph's)
    assertEquals(3, ((List<?>) graph.invoke(Command.proceed(), config).block(VERIFY).get("seen")).size());

    RunConfig after = RunConfig.thread(UUID.randomUUID().toString()).withInterruptBefore(List.of())
        .withInterruptAfter(List.of("*"));
    graph.invoke(Map.of(), after).block(VERIFY);
    assertEquals(List.of("b"), graph.getState(after).block(VERIFY).next());
    graph.invoke(Command.proceed(), after).block(VERIFY);
    assertEquals(List.of("c"), graph.getState(after).block(VERIFY).next());
  }

  /** A declared run context: a model name. */
  public record ModelContext(String model) {
  }

  @Test
  void aGraphDeclaringItsContextTypeReadsAMapContextAsIt() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap(List.of("model", "raw"))
        .withContext(ModelContext.class)
        .addNode("read", (state, context) -> Mono.just(Map.of(
            "model", context.context(ModelContext.class).map(ModelContext::model).orElse("none"),
            "raw", context.context(Map.class).isPresent())))
        .addEdge(StateGraph.START, "read")
        .compile();
    assertEquals(Map.of("model", "openai", "raw", true),
        graph.invoke(Map.of(), RunConfig.none().withContext(Map.of("model", "openai"))).block(VERIFY));
    assertEquals(Map.of("model", "given", "raw", false),
        graph.invoke(Map.of(), RunConfig.none().withContext(new ModelContext("given"))).block(VERIFY));
    assertEquals(Map.of("model", "none", "raw", false), graph.invoke(Map.of(), RunConfig.none()).block(VERIFY));
    StepVerifier.create(graph.invoke(Map.of(), RunConfig.none().withContext(Map.of("model", List.of(1)))))
        .expectErrorSatisfies(error -> assertTrue(error.getMessage().contains("the run context as ModelContext"),
            error.getMessage()))
        .verify(VERIFY);
    // without the declaration, a map is no ModelContext
    CompiledGraph<Map<String, Object>> undeclared = StateGraph.ofMap()
        .addNode("read", (state, context) -> Mono.just(Map.of(
            "model", context.context(ModelContext.class).map(ModelContext::model).orElse("none"))))
        .addEdge(StateGraph.START, "read")
        .compile();
    assertEquals(Map.of("model", "none"),
        undeclared.invoke(Map.of(), RunConfig.none().withContext(Map.of("model", "openai"))).block(VERIFY));
  }
}
