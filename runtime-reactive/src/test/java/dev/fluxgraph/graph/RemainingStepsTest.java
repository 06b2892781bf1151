package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.GraphRecursionException;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.TypeRef;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** {@link TaskContext#remainingSteps()}: the supersteps left before the recursion limit. */
class RemainingStepsTest {

  private static final Duration VERIFY = Duration.ofSeconds(10);

  /** A node that loops back to itself, recording what it sees, until fewer than {@code stopBelow} steps remain. */
  private static StateGraph<Map<String, Object>> loop(int stopBelow) {
    return StateGraph.ofMap()
        .reducer("seen", Reducers.append())
        .addNode("agent", (state, context) -> Mono.just(Map.of("seen", context.remainingSteps().getAsInt())))
        .addEdge(StateGraph.START, "agent")
        .addConditionalEdges("agent", state -> {
          List<?> seen = (List<?>) state.get("seen");
          return Mono.just((Integer) seen.get(seen.size() - 1) < stopBelow ? StateGraph.END : "agent");
        });
  }

  @Test
  void aNodeSeesTheStepsLeftAndCanStopBeforeTheLimit() {
    CompiledGraph<Map<String, Object>> graph = loop(2).compile(CompileOptions.defaults().withRecursionLimit(5));
    StepVerifier.create(graph.invoke(Map.of(), RunConfig.none()))
        .expectNext(Map.of("seen", List.of(5, 4, 3, 2, 1)))
        .verifyComplete();
  }

  @Test
  void withoutWindingDownTheLimitStillEndsTheRun() {
    CompiledGraph<Map<String, Object>> graph = loop(0).compile(CompileOptions.defaults().withRecursionLimit(3));
    StepVerifier.create(graph.invoke(Map.of(), RunConfig.none()))
        .expectError(GraphRecursionException.class)
        .verify(VERIFY);
  }

  @Test
  void theBudgetStartsAnewWithEveryInvocationAsTheLimitDoes() {
    InMemorySaver saver = new InMemorySaver();
    RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("seen", Reducers.append())
        .addNode("a", (state, context) -> Mono.just(Map.of("seen", context.remainingSteps().getAsInt())))
        .addNode("ask", (state, context) -> context.interrupt("?", String.class)
            .map(answer -> Map.of("seen", context.remainingSteps().getAsInt())))
        .addNode("b", (state, context) -> Mono.just(Map.of("seen", context.remainingSteps().getAsInt())))
        .addEdge(StateGraph.START, "a")
        .addEdge("a", "ask")
        .addEdge("ask", "b")
        .compile(CompileOptions.defaults().withCheckpointer(saver).withRecursionLimit(10));
    graph.run(Map.of(), config).block(VERIFY);
    assertEquals(Map.of("seen", List.of(10, 10, 9)), graph.invoke(Command.resume("ok"), config).block(VERIFY));
  }

  @Test
  void tasksSeeTheirNodesValueAndANestedGraphCountsItsOwn() {
    Task<String, Integer> probe = Task.of("probe", Integer.class, (String input, TaskContext context) ->
        Mono.just(context.remainingSteps().orElse(-1)));
    CompiledGraph<Map<String, Object>> inner = StateGraph.ofMap()
        .addNode("deep", (state, context) -> Mono.just(Map.of("inner", context.remainingSteps().getAsInt())))
        .addEdge(StateGraph.START, "deep")
        .compile(CompileOptions.defaults().withName("inner").withRecursionLimit(7));
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("first", (state, context) -> Mono.just(Map.of()))
        .addNode("second", (state, context) -> probe.call("x").map(steps -> Map.of("task", steps)))
        .addNode("sub", inner)
        .addEdge(StateGraph.START, "first")
        .addEdge("first", "second")
        .addEdge("second", "sub")
        .compile(CompileOptions.defaults().withRecursionLimit(20));
    assertEquals(Map.of("task", 19, "inner", 7), graph.invoke(Map.of(), RunConfig.none()).block(VERIFY));
  }

  @Test
  void outsideAGraphNodeThereIsNoValue() {
    Task<String, Integer> probe = Task.of("probe", Integer.class, (String input, TaskContext context) ->
        Mono.just(context.remainingSteps().orElse(-1)));
    Entrypoint<String, List<Integer>> workflow = Entrypoint.named("workflow")
        .define(TypeRef.of(String.class), new TypeRef<List<Integer>>() { },
            (input, context) -> probe.call(input).map(steps -> List.of(
                context.remainingSteps().isPresent() ? 1 : -1, steps)));
    assertEquals(List.of(-1, -1), workflow.invoke("x", RunConfig.none()).block(VERIFY));
  }
}
