package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.EmptyInputException;
import dev.fluxgraph.errors.InvalidCommandException;
import dev.fluxgraph.errors.InvalidGraphException;
import dev.fluxgraph.errors.InvalidUpdateException;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.Interrupt;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamMode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * Issue items 1 and 4: every compile-time error is an {@link InvalidGraphException} raised by the builder or by
 * {@code compile}, never during a run, with a message naming the problem; and every run-time misuse fails the run
 * (or the call) promptly with an error naming the node, key or command at fault, never a hang.
 */
class GraphValidationTest {

  private static final Duration VERIFY = Duration.ofSeconds(5);

  private static final NodeFunction<Map<String, Object>> NOOP = (state, context) -> Mono.empty();

  record Point(Integer x, Integer y) {
  }

  record Other(Integer x) {
  }

  /** Asserts {@code action} throws a {@code type} whose message contains every one of {@code expected}. */
  private static <T extends Throwable> T fails(Class<T> type, Executable action, String... expected) {
    T error = assertThrows(type, action);
    for (String part : expected) {
      assertTrue(error.getMessage() != null && error.getMessage().contains(part),
          () -> "'" + error.getMessage() + "' lacks '" + part + "'");
    }
    return error;
  }

  /** Asserts that {@code publisher} errors with a {@code type} whose message contains every one of {@code expected}. */
  private static void errors(Publisher<?> publisher, Class<? extends Throwable> type, String... expected) {
    StepVerifier.create(publisher)
        .expectErrorSatisfies(error -> {
          assertInstanceOf(type, error, () -> "unexpected " + error);
          for (String part : expected) {
            assertTrue(error.getMessage() != null && error.getMessage().contains(part),
                () -> "'" + error.getMessage() + "' lacks '" + part + "'");
          }
        })
        .verify(VERIFY);
  }

  private static StateGraph<Map<String, Object>> ab() {
    return StateGraph.ofMap().addNode("a", NOOP).addNode("b", NOOP);
  }

  // ------------------------------------------------------------------------------------------ compile time

  @Nested
  class NodeNames {

    @ParameterizedTest
    @ValueSource(strings = {"__start__", "__end__", "__x__", "____"})
    void namesLikeDunderAreReserved(String name) {
      fails(InvalidGraphException.class, () -> StateGraph.ofMap().addNode(name, NOOP), "'" + name + "'", "reserved");
    }

    @Test
    void theStartAndEndConstantsAreTheReservedNames() {
      assertEquals("__start__", StateGraph.START);
      assertEquals("__end__", StateGraph.END);
      fails(InvalidGraphException.class, () -> StateGraph.ofMap().addNode(StateGraph.START, NOOP), "reserved");
      fails(InvalidGraphException.class, () -> StateGraph.ofMap().addNode(StateGraph.END, NOOP), "reserved");
    }

    @Test
    void namesThatOnlyStartOrEndWithUnderscoresAreAllowed() {
      Map<String, Object> result = StateGraph.ofMap()
          .addNode("__private", (state, context) -> Mono.just(Map.of("p", 1)))
          .addNode("trailing__", (state, context) -> Mono.just(Map.of("t", 2)))
          .addEdge(StateGraph.START, "__private")
          .addEdge("__private", "trailing__")
          .compile()
          .invoke(Map.of(), RunConfig.none())
          .block(VERIFY);
      assertEquals(Map.of("p", 1, "t", 2), result);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a:b", ":", "ns|node", "|", "a:b|c"})
    void namespaceSeparatorsAreRejected(String name) {
      fails(InvalidGraphException.class, () -> StateGraph.ofMap().addNode(name, NOOP), "'" + name + "'", "':'",
          "'|'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "\t"})
    void blankNamesAreRejected(String name) {
      fails(InvalidGraphException.class, () -> StateGraph.ofMap().addNode(name, NOOP), "blank");
    }

    @Test
    void aNullNameOrBodyIsANullPointerNamingTheArgument() {
      fails(NullPointerException.class, () -> StateGraph.ofMap().addNode(null, NOOP), "name");
      fails(NullPointerException.class, () -> StateGraph.ofMap().addNode("a", (NodeFunction<Map<String, Object>>) null),
          "node");
    }

    @Test
    void aDuplicateNodeIsRejectedWhicheverKindItIs() {
      fails(InvalidGraphException.class, () -> ab().addNode("a", NOOP), "node 'a'", "already");
      fails(InvalidGraphException.class, () -> ab().addNode("b", NOOP, NodeOptions.defaults()), "node 'b'", "already");
      CompiledGraph<Map<String, Object>> sub = StateGraph.ofMap().addNode("x", NOOP).setEntryPoint("x").compile();
      fails(InvalidGraphException.class, () -> ab().addNode("a", sub), "node 'a'", "already");
    }
  }

  @Nested
  class Edges {

    @Test
    void anEdgeToAnUnknownNodeNamesTheEdgeAndTheKnownNodes() {
      fails(InvalidGraphException.class, () -> ab().setEntryPoint("a").addEdge("a", "c").compile(),
          "a -> c", "'c' is not a node", "[a, b]");
    }

    @Test
    void anEdgeFromAnUnknownNodeNamesIt() {
      fails(InvalidGraphException.class, () -> ab().setEntryPoint("a").addEdge("a", "b").addEdge("zz", "b").compile(),
          "zz -> b", "'zz' is not a node");
    }

    @Test
    void anEntryPointThatIsNotANodeIsRejected() {
      fails(InvalidGraphException.class, () -> ab().setEntryPoint("nope").compile(), "'nope' is not a node");
    }

    @Test
    void aFinishPointThatIsNotANodeIsRejected() {
      fails(InvalidGraphException.class, () -> ab().setEntryPoint("a").addEdge("a", "b").setFinishPoint("c")
          .compile(), "'c' is not a node");
    }

    @Test
    void nothingLeadsIntoStart() {
      fails(InvalidGraphException.class, () -> ab().setEntryPoint("a").addEdge("a", "b")
          .addEdge("b", StateGraph.START).compile(), "START cannot be the target");
      fails(InvalidGraphException.class, () -> ab().setEntryPoint("a").addEdge("a", "b")
          .addEdge(List.of("a", "b"), StateGraph.START).compile(), "START cannot be the target");
    }

    @Test
    void nothingLeavesEnd() {
      fails(InvalidGraphException.class, () -> ab().setEntryPoint("a").addEdge("a", "b")
          .addEdge(StateGraph.END, "a").compile(), "END has no outgoing edges");
      fails(InvalidGraphException.class, () -> ab().setEntryPoint("a").addEdge("a", "b")
          .addConditionalEdges(StateGraph.END, state -> Mono.just("a")).compile(), "END has no outgoing edges");
    }

    @Test
    void aFanInFromAnUnknownNodeNamesItAndTheEdge() {
      fails(InvalidGraphException.class, () -> ab().setEntryPoint("a").addEdge("a", "b")
          .addEdge(List.of("a", "ghost"), "b").compile(), "fan-in", "'ghost' is not a node");
    }

    @Test
    void aFanInFromStartOrEndIsRejected() {
      fails(InvalidGraphException.class, () -> ab().setEntryPoint("a").addEdge("a", "b")
          .addEdge(List.of(StateGraph.START, "a"), "b").compile(), "fan-in", "'__start__' is not a node");
      fails(InvalidGraphException.class, () -> ab().setEntryPoint("a").addEdge("a", "b")
          .addEdge(List.of(StateGraph.END, "a"), "b").compile(), "fan-in", "'__end__' is not a node");
    }

    @Test
    void aFanInToAnUnknownNodeIsRejected() {
      fails(InvalidGraphException.class, () -> ab().setEntryPoint("a").addEdge("a", "b")
          .addEdge(List.of("a", "b"), "c").compile(), "fan-in", "'c' is not a node");
    }

    @Test
    void anEmptyFanInIsRejectedAtOnce() {
      fails(InvalidGraphException.class, () -> ab().addEdge(List.of(), "a"), "at least one source", "'a'");
    }

    @Test
    void aFanInFromOneNodeIsAPlainEdge() {
      Map<String, Object> result = StateGraph.ofMap()
          .addNode("a", (state, context) -> Mono.just(Map.of("a", 1)))
          .addNode("b", (state, context) -> Mono.just(Map.of("b", 2)))
          .setEntryPoint("a")
          .addEdge(List.of("a"), "b")
          .compile()
          .invoke(Map.of(), RunConfig.none())
          .block(VERIFY);
      assertEquals(Map.of("a", 1, "b", 2), result);
    }

    @Test
    void aConditionalEdgeFromAnUnknownNodeIsRejected() {
      fails(InvalidGraphException.class, () -> ab().setEntryPoint("a").addEdge("a", "b")
          .addConditionalEdges("nowhere", state -> Mono.just("a")).compile(), "conditional edge", "'nowhere'");
    }

    @Test
    void declaredDestinationsMustBeNodes() {
      fails(InvalidGraphException.class, () -> StateGraph.ofMap()
          .addNode("a", NOOP, NodeOptions.defaults().withDestinations("zz"))
          .setEntryPoint("a").compile(), "destinations of node 'a'", "'zz' is not a node");
      fails(InvalidGraphException.class, () -> StateGraph.ofMap()
          .addNode("a", NOOP, NodeOptions.defaults().withDestinations(StateGraph.START))
          .setEntryPoint("a").compile(), "destinations of node 'a'", "START");
    }

    @Test
    void nullEndpointsAreNullPointers() {
      fails(NullPointerException.class, () -> ab().addEdge((String) null, "a"), "from");
      fails(NullPointerException.class, () -> ab().addEdge("a", null), "to");
      fails(NullPointerException.class, () -> ab().addConditionalEdges("a", null), "router");
    }
  }

  @Nested
  class EntryAndReachability {

    @Test
    void aGraphWithoutNodesIsRejected() {
      fails(InvalidGraphException.class, () -> StateGraph.ofMap().compile(), "has no nodes");
    }

    @Test
    void aGraphWithoutAnEntryEdgeIsRejectedWithAHint() {
      InvalidGraphException error = fails(InvalidGraphException.class, () -> ab().addEdge("a", "b").compile(),
          "no entry point", "START");
      assertTrue(error.getMessage().contains("setEntryPoint"), error.getMessage());
    }

    @Test
    void anEdgeFromStartToEndOnlyIsNotAnEntryIntoTheNodes() {
      fails(InvalidGraphException.class, () -> StateGraph.ofMap().addNode("a", NOOP)
          .addEdge(StateGraph.START, StateGraph.END).compile(), "'a' is not reachable");
    }

    @Test
    void aConditionalEdgeFromStartIsAnEntry() {
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("small", (state, context) -> Mono.just(Map.of("size", "small")))
          .addNode("big", (state, context) -> Mono.just(Map.of("size", "big")))
          .addConditionalEdges(StateGraph.START, state -> Mono.just((Integer) state.get("n") > 10 ? "big" : "small"))
          .compile();
      assertEquals("big", graph.invoke(Map.of("n", 11), RunConfig.none()).block(VERIFY).get("size"));
      assertEquals("small", graph.invoke(Map.of("n", 1), RunConfig.none()).block(VERIFY).get("size"));
    }

    @Test
    void anUnreachableNodeIsNamedWithAHint() {
      InvalidGraphException error = fails(InvalidGraphException.class,
          () -> ab().addNode("c", NOOP).setEntryPoint("a").addEdge("a", "b").compile(), "'c' is not reachable");
      assertTrue(error.getMessage().contains("withDestinations"), error.getMessage());
    }

    @Test
    void aNodeReachableOnlyFromAnUnreachableNodeIsUnreachable() {
      fails(InvalidGraphException.class, () -> ab().addNode("c", NOOP).setEntryPoint("a").addEdge("b", "c")
          .compile(), "not reachable");
    }

    @Test
    void aReachableConditionalEdgeMakesEveryNodeReachable() {
      ab().addNode("c", NOOP).setEntryPoint("a").addConditionalEdges("a", state -> Mono.just("b")).compile();
    }

    @Test
    void aConditionalEdgeFromAnUnreachableNodeDoesNot() {
      fails(InvalidGraphException.class, () -> ab().addNode("c", NOOP).setEntryPoint("a")
          .addConditionalEdges("b", state -> Mono.just("c")).compile(), "'b' is not reachable");
    }

    @Test
    void declaredDestinationsMakeNodesReachable() {
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("decide", (state, context) -> Mono.just(Command.goTo((Boolean) state.get("ok") ? "yes" : "no")),
              NodeOptions.defaults().withDestinations("yes", "no"))
          .addNode("yes", (state, context) -> Mono.just(Map.of("answer", "yes")))
          .addNode("no", (state, context) -> Mono.just(Map.of("answer", "no")))
          .setEntryPoint("decide")
          .compile();
      assertEquals("yes", graph.invoke(Map.of("ok", true), RunConfig.none()).block(VERIFY).get("answer"));
      assertEquals("no", graph.invoke(Map.of("ok", false), RunConfig.none()).block(VERIFY).get("answer"));
    }

    @Test
    void withoutDeclaredDestinationsAGoToTargetIsUnreachable() {
      fails(InvalidGraphException.class, () -> StateGraph.ofMap()
          .addNode("decide", (state, context) -> Mono.just(Command.goTo("yes")))
          .addNode("yes", NOOP)
          .setEntryPoint("decide")
          .compile(), "'yes' is not reachable", "NodeOptions.withDestinations");
    }

    @Test
    void fanInTargetsAreReachable() {
      ab().addNode("c", NOOP).addEdge(StateGraph.START, "a").addEdge(StateGraph.START, "b")
          .addEdge(List.of("a", "b"), "c").compile();
    }
  }

  @Nested
  class OptionsAndReducers {

    private StateGraph<Map<String, Object>> valid() {
      return ab().setEntryPoint("a").addEdge("a", "b");
    }

    @Test
    void interruptBeforeMustNameNodes() {
      fails(InvalidGraphException.class, () -> valid().compile(CompileOptions.defaults().withInterruptBefore("b", "zz")),
          "interruptBefore", "'zz'", "not a node");
    }

    @Test
    void interruptAfterMustNameNodes() {
      fails(InvalidGraphException.class, () -> valid().compile(CompileOptions.defaults().withInterruptAfter("zz")),
          "interruptAfter", "'zz'", "not a node");
    }

    @Test
    void breakpointsOnStartOrEndAreNotNodes() {
      fails(InvalidGraphException.class,
          () -> valid().compile(CompileOptions.defaults().withInterruptBefore(StateGraph.END)), "interruptBefore");
      fails(InvalidGraphException.class,
          () -> valid().compile(CompileOptions.defaults().withInterruptAfter(StateGraph.START)), "interruptAfter");
    }

    @Test
    void aReducerOnAnUnknownRecordPropertyNamesThePropertiesThereAre() {
      fails(InvalidGraphException.class, () -> StateGraph.of(Point.class).reducer("z", Reducers.append()),
          "'z'", "Point", "no such property", "x", "y");
    }

    @Test
    void aReducerOnAKnownPropertyOrAnyMapKeyIsFine() {
      StateGraph.of(Point.class).reducer("x", (a, b) -> b);
      StateGraph.ofMap().reducer("anything", Reducers.append());
    }

    @Test
    void aMapTypeGoesThroughOfMap() {
      fails(InvalidGraphException.class, () -> StateGraph.of(java.util.LinkedHashMap.class), "ofMap()");
    }

    @Test
    void aStateTypeWithoutPropertiesIsRejected() {
      fails(InvalidGraphException.class, () -> StateGraph.of(Object.class), "no properties");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
    void aRecursionLimitBelowOneIsRejected(int limit) {
      // Validated where the option is set (a record's compact constructor), before compile is reached.
      fails(IllegalArgumentException.class, () -> CompileOptions.defaults().withRecursionLimit(limit),
          "recursion limit", "at least 1", Integer.toString(limit));
    }

    @Test
    void aRecursionLimitOfOneAllowsOneSuperstep() {
      StateGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("a", (state, context) -> Mono.just(Map.of("a", 1)))
          .setEntryPoint("a");
      assertEquals(Map.of("a", 1), graph.compile(CompileOptions.defaults().withRecursionLimit(1))
          .invoke(Map.of(), RunConfig.none()).block(VERIFY));
      StateGraph<Map<String, Object>> twoSteps = StateGraph.ofMap()
          .addNode("a", (state, context) -> Mono.just(Map.of("a", 1)))
          .addNode("b", (state, context) -> Mono.just(Map.of("b", 1)))
          .setEntryPoint("a")
          .addEdge("a", "b");
      errors(twoSteps.compile(CompileOptions.defaults().withRecursionLimit(1)).invoke(Map.of(), RunConfig.none()),
          dev.fluxgraph.errors.GraphRecursionException.class, "ran 1 supersteps", "next: [b]");
    }

    @Test
    void otherOptionsAreValidatedWhereTheyAreSet() {
      fails(IllegalArgumentException.class, () -> CompileOptions.defaults().withName(" "), "blank");
      fails(IllegalArgumentException.class, () -> NodeOptions.defaults().withTimeout(Duration.ZERO), "positive");
      fails(IllegalArgumentException.class, () -> NodeOptions.defaults().withTimeout(Duration.ofMillis(-1)),
          "positive");
    }

    @Test
    void theBuilderStaysUsableAndCompiledGraphsAreFrozen() {
      StateGraph<Map<String, Object>> builder = StateGraph.ofMap()
          .addNode("a", (state, context) -> Mono.just(Map.of("a", 1)))
          .setEntryPoint("a");
      CompiledGraph<Map<String, Object>> first = builder.compile();
      builder.addNode("b", (state, context) -> Mono.just(Map.of("b", 2))).addEdge("a", "b");
      CompiledGraph<Map<String, Object>> second = builder.compile();
      assertEquals(Map.of("a", 1), first.invoke(Map.of(), RunConfig.none()).block(VERIFY));
      assertEquals(Map.of("a", 1, "b", 2), second.invoke(Map.of(), RunConfig.none()).block(VERIFY));
    }

    @Test
    void aFailedCompileLeavesTheBuilderFixable() {
      StateGraph<Map<String, Object>> builder = ab().setEntryPoint("a");
      fails(InvalidGraphException.class, builder::compile, "'b' is not reachable");
      builder.addEdge("a", "b").compile();
    }
  }

  // ------------------------------------------------------------------------------------------ run time

  @Nested
  class NodeResults {

    @Test
    void aNodeReturningAWrongTypeNamesTheNodeAndTheType() {
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("a", (state, context) -> Mono.just(42)).setEntryPoint("a").compile();
      errors(graph.invoke(Map.of(), RunConfig.none()), IllegalArgumentException.class,
          "node 'a'", "java.lang.Integer", "Map");
    }

    @Test
    void aNodeReturningAListOrStringIsAWrongType() {
      CompiledGraph<Map<String, Object>> list = StateGraph.ofMap()
          .addNode("lister", (state, context) -> Mono.just(List.of("x"))).setEntryPoint("lister").compile();
      errors(list.invoke(Map.of(), RunConfig.none()), IllegalArgumentException.class, "node 'lister'");
      CompiledGraph<Map<String, Object>> string = StateGraph.ofMap()
          .addNode("talker", (state, context) -> Mono.just("hello")).setEntryPoint("talker").compile();
      errors(string.invoke(Map.of(), RunConfig.none()), IllegalArgumentException.class, "node 'talker'",
          "java.lang.String");
    }

    @Test
    void aRecordStateNodeReturningAnotherRecordIsAWrongType() {
      CompiledGraph<Point> graph = StateGraph.of(Point.class)
          .addNode("a", (state, context) -> Mono.just(new Other(1))).setEntryPoint("a").compile();
      errors(graph.invoke(new Point(1, 2), RunConfig.none()), IllegalArgumentException.class, "node 'a'", "Other",
          "Point");
    }

    @Test
    void aRecordStateNodeReturningAnInstanceUpdatesOnlyItsNonNullFields() {
      CompiledGraph<Point> graph = StateGraph.of(Point.class)
          .addNode("a", (state, context) -> Mono.just(new Point(null, 7))).setEntryPoint("a").compile();
      assertEquals(new Point(1, 7), graph.invoke(new Point(1, 2), RunConfig.none()).block(VERIFY));
    }

    @Test
    void writingAnUnknownKeyOfARecordStateNamesTheKeyAndTheFields() {
      CompiledGraph<Point> graph = StateGraph.of(Point.class)
          .addNode("a", (state, context) -> Mono.just(Map.of("z", 1))).setEntryPoint("a").compile();
      errors(graph.invoke(new Point(1, 2), RunConfig.none()), IllegalArgumentException.class,
          "node 'a'", "'z'", "not a field of Point", "x", "y");
    }

    @Test
    void writingAnUnknownKeyThroughCommandUpdateIsTheSameError() {
      CompiledGraph<Point> graph = StateGraph.of(Point.class)
          .addNode("a", (state, context) -> Mono.just(Command.update(Map.of("z", 1)))).setEntryPoint("a").compile();
      errors(graph.invoke(new Point(1, 2), RunConfig.none()), IllegalArgumentException.class,
          "node 'a'", "'z'", "not a field of Point");
    }

    @Test
    void aNodeReturningNullInsteadOfAMonoNamesTheNode() {
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("lazy", (state, context) -> null).setEntryPoint("lazy").compile();
      errors(graph.invoke(Map.of(), RunConfig.none()), NullPointerException.class, "node 'lazy'",
          "returned null instead of a Mono");
    }

    @Test
    void aNodeThatThrowsFailsTheRunWithItsError() {
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("thrower", (state, context) -> {
            throw new IllegalStateException("thrown, not returned");
          })
          .setEntryPoint("thrower").compile();
      errors(graph.invoke(Map.of(), RunConfig.none()), IllegalStateException.class, "thrown, not returned");
    }

    @Test
    void aNodeReturningAResumeCommandIsRejected() {
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("a", (state, context) -> Mono.just(Command.resume("x"))).setEntryPoint("a").compile();
      errors(graph.invoke(Map.of(), RunConfig.none()), IllegalArgumentException.class, "node 'a'", "resume");
    }

    @Test
    void twoNodesWritingAKeyWithoutAReducerInOneStepNameBoth() {
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("left", (state, context) -> Mono.just(Map.of("k", 1)))
          .addNode("right", (state, context) -> Mono.just(Map.of("k", 2)))
          .addEdge(StateGraph.START, "left")
          .addEdge(StateGraph.START, "right")
          .compile();
      errors(graph.invoke(Map.of(), RunConfig.none()), InvalidUpdateException.class, "'left'", "'right'", "'k'",
          "reducer");
    }

    @Test
    void aNonSerializableUpdateNamesTheNode() {
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("leaky", (state, context) -> Mono.just(Map.of("thread", new Object())))
          .setEntryPoint("leaky").compile();
      errors(graph.invoke(Map.of(), RunConfig.none()), dev.fluxgraph.errors.SerializationException.class, "leaky");
    }
  }

  @Nested
  class Routing {

    @Test
    void aRouterNamingAnUnknownNodeNamesTheRouterTheTargetAndTheNodes() {
      CompiledGraph<Map<String, Object>> graph = ab().setEntryPoint("a")
          .addConditionalEdges("a", state -> Mono.just("nope")).compile();
      errors(graph.invoke(Map.of(), RunConfig.none()), IllegalArgumentException.class,
          "conditional edge from 'a'", "'nope'", "not a node", "[a, b]");
    }

    @Test
    void aRouterFromStartNamingAnUnknownNodeIsTheSameError() {
      CompiledGraph<Map<String, Object>> graph = ab()
          .addConditionalEdges(StateGraph.START, state -> Flux.just("a", "nope")).compile();
      errors(graph.invoke(Map.of(), RunConfig.none()), IllegalArgumentException.class, "'nope'", "not a node");
    }

    @Test
    void aRouterNamingStartIsRejected() {
      CompiledGraph<Map<String, Object>> graph = ab().setEntryPoint("a")
          .addConditionalEdges("a", state -> Mono.just(StateGraph.START)).compile();
      errors(graph.invoke(Map.of(), RunConfig.none()), IllegalArgumentException.class, "'__start__'", "not a node");
    }

    @Test
    void aRouterReturningNullNamesTheEdge() {
      CompiledGraph<Map<String, Object>> graph = ab().setEntryPoint("a")
          .addConditionalEdges("a", state -> null).compile();
      errors(graph.invoke(Map.of(), RunConfig.none()), NullPointerException.class, "conditional edge");
    }

    @Test
    void aFailingRouterFailsTheRunWithItsError() {
      CompiledGraph<Map<String, Object>> graph = ab().setEntryPoint("a")
          .addConditionalEdges("a", state -> Mono.error(new IllegalStateException("router broke"))).compile();
      errors(graph.invoke(Map.of(), RunConfig.none()), IllegalStateException.class, "router broke");
    }

    @Test
    void aRouterNamingEndOrNothingEndsTheRun() {
      CompiledGraph<Map<String, Object>> toEnd = StateGraph.ofMap()
          .addNode("a", (state, context) -> Mono.just(Map.of("a", 1))).addNode("b", NOOP).setEntryPoint("a")
          .addConditionalEdges("a", state -> Mono.just(StateGraph.END)).compile();
      assertEquals(Map.of("a", 1), toEnd.invoke(Map.of(), RunConfig.none()).block(VERIFY));
      CompiledGraph<Map<String, Object>> none = StateGraph.ofMap()
          .addNode("a", (state, context) -> Mono.just(Map.of("a", 1))).addNode("b", NOOP).setEntryPoint("a")
          .addConditionalEdges("a", state -> Flux.empty()).compile();
      assertEquals(Map.of("a", 1), none.invoke(Map.of(), RunConfig.none()).block(VERIFY));
    }

    @Test
    void commandGoToAnUnknownNodeNamesTheNodeAndTheTarget() {
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("a", (state, context) -> Mono.just(Command.goTo("nope").withUpdate(Map.of("x", 1))))
          .setEntryPoint("a").compile();
      errors(graph.invoke(Map.of(), RunConfig.none()), IllegalArgumentException.class,
          "Command.goTo in node 'a'", "'nope'", "not a node");
    }

    @Test
    void commandGoToStartIsRejected() {
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("a", (state, context) -> Mono.just(Command.goTo(StateGraph.START)))
          .setEntryPoint("a").compile();
      errors(graph.invoke(Map.of(), RunConfig.none()), IllegalArgumentException.class, "'__start__'");
    }

    @Test
    void commandGoToEndEndsTheRun() {
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("a", (state, context) -> Mono.just(Command.goTo(StateGraph.END).withUpdate(Map.of("a", 1))))
          .setEntryPoint("a").compile();
      assertEquals(Map.of("a", 1), graph.invoke(Map.of(), RunConfig.none()).block(VERIFY));
    }
  }

  @Nested
  class RunMisuse {

    private final InMemorySaver saver = new InMemorySaver();
    private final RunConfig thread = RunConfig.thread(UUID.randomUUID().toString());

    private CompiledGraph<Map<String, Object>> persistent(CompileOptions options) {
      return StateGraph.ofMap()
          .addNode("a", (state, context) -> Mono.just(Map.of("a", 1)))
          .addNode("b", (state, context) -> Mono.just(Map.of("b", 2)))
          .setEntryPoint("a")
          .addEdge("a", "b")
          .compile(options.withCheckpointer(saver));
    }

    @Test
    void aCheckpointerWithoutAThreadIdIsAnErrorForEveryOperation() {
      CompiledGraph<Map<String, Object>> graph = persistent(CompileOptions.defaults());
      errors(graph.invoke(Map.of(), RunConfig.none()), IllegalArgumentException.class, "thread id",
          "RunConfig.thread");
      errors(graph.run(Map.of(), RunConfig.none()), IllegalArgumentException.class, "thread id");
      errors(graph.stream(Map.of(), RunConfig.none(), StreamMode.VALUES), IllegalArgumentException.class, "thread id");
      errors(graph.invoke(Command.proceed(), RunConfig.none()), IllegalArgumentException.class, "thread id");
      errors(graph.getState(RunConfig.none()), IllegalArgumentException.class, "thread id");
      errors(graph.getStateHistory(RunConfig.none()), IllegalArgumentException.class, "thread id");
      errors(graph.updateState(RunConfig.none(), Map.of("a", 2), "a"), IllegalArgumentException.class, "thread id");
    }

    @Test
    void misuseIsLazyUntilSubscribed() {
      CompiledGraph<Map<String, Object>> graph = persistent(CompileOptions.defaults());
      graph.invoke(Map.of(), RunConfig.none());
      graph.invoke(Command.goTo("a"), thread);
      graph.updateState(RunConfig.none(), Map.of(), "zz");
    }

    @Test
    void resumeWithNothingPendingAfterACompletedRun() {
      CompiledGraph<Map<String, Object>> graph = persistent(CompileOptions.defaults());
      graph.invoke(Map.of(), thread).block(VERIFY);
      errors(graph.invoke(Command.resume("x"), thread), InvalidCommandException.class, "nothing to resume",
          thread.threadId().orElseThrow());
      errors(graph.invoke(Command.resumeById(Map.of("some-id", "x")), thread), InvalidCommandException.class);
    }

    @Test
    void resumeAtABreakpointIsNothingPendingAndPointsToProceed() {
      CompiledGraph<Map<String, Object>> graph = persistent(CompileOptions.defaults().withInterruptBefore("b"));
      GraphOutput<Map<String, Object>> stopped = graph.run(Map.of(), thread).block(VERIFY);
      assertTrue(stopped.interrupts().isEmpty());
      errors(graph.invoke(Command.resume("x"), thread), InvalidCommandException.class, "no interrupt is pending",
          "Command.proceed()");
      // the run is still continuable
      assertEquals(Map.of("a", 1, "b", 2), graph.invoke(Command.proceed(), thread).block(VERIFY));
    }

    @Test
    void resumeOnAThreadWithoutCheckpointsIsAnEmptyInput() {
      CompiledGraph<Map<String, Object>> graph = persistent(CompileOptions.defaults());
      errors(graph.invoke(Command.resume("x"), thread), EmptyInputException.class, "no checkpoint");
      errors(graph.invoke(Command.proceed(), thread), EmptyInputException.class, "no checkpoint");
    }

    @Test
    void resumeWithoutACheckpointerIsAnInvalidCommand() {
      CompiledGraph<Map<String, Object>> graph = ab().setEntryPoint("a").addEdge("a", "b").compile();
      errors(graph.invoke(Command.resume("x"), thread), InvalidCommandException.class, "no checkpointer");
      errors(graph.invoke(Command.proceed(), RunConfig.none()), InvalidCommandException.class, "no checkpointer");
    }

    @Test
    void anAmbiguousResumeListsThePendingIds() {
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("l", (state, context) -> context.interrupt("l?", String.class).map(v -> Map.of("l", v)))
          .addNode("r", (state, context) -> context.interrupt("r?", String.class).map(v -> Map.of("r", v)))
          .addEdge(StateGraph.START, "l")
          .addEdge(StateGraph.START, "r")
          .compile(CompileOptions.defaults().withCheckpointer(saver));
      GraphOutput<Map<String, Object>> paused = graph.run(Map.of(), thread).block(VERIFY);
      assertEquals(2, paused.interrupts().size());
      errors(graph.invoke(Command.resume("x"), thread), InvalidCommandException.class, "ambiguous",
          paused.interrupts().get(0).id(), paused.interrupts().get(1).id(), "resumeById");
      errors(graph.invoke(Command.resumeById(Map.of("not-an-id", "x")), thread), InvalidCommandException.class,
          "'not-an-id'", "not pending");
    }

    @Test
    void aGoToOrUpdateCommandAsRunInputNamesUnknownNodesAndNeedsACheckpointer() {
      CompiledGraph<Map<String, Object>> graph = persistent(CompileOptions.defaults().withInterruptBefore("b"));
      graph.run(Map.of(), thread).block(VERIFY);
      errors(graph.invoke(Command.goTo("nope"), thread), InvalidCommandException.class, "Command.goTo", "'nope'");
      errors(graph.invoke(Command.goTo("a").withUpdate(Map.of("a", 5)), RunConfig.thread("fresh-" + thread
          .threadId().orElseThrow())), dev.fluxgraph.errors.EmptyInputException.class, "no checkpoint");
      errors(ab().setEntryPoint("a").addEdge("a", "b").compile().invoke(Command.goTo("a"), RunConfig.none()),
          InvalidCommandException.class, "no checkpointer");
      // nothing was applied: the thread still waits before b
      assertEquals(List.of("b"), graph.getState(thread).block(VERIFY).next());
    }

    @Test
    void updateStateMisuse() {
      CompiledGraph<Map<String, Object>> graph = persistent(CompileOptions.defaults());
      graph.invoke(Map.of(), thread).block(VERIFY);
      errors(graph.updateState(thread, Map.of("k", 1), "zz"), IllegalArgumentException.class, "asNode 'zz'",
          "not a node");
      errors(graph.updateState(thread.withCheckpointId("no-such-checkpoint"), Map.of("k", 1), "a"),
          IllegalArgumentException.class, "no-such-checkpoint", "not found");
      errors(ab().setEntryPoint("a").addEdge("a", "b").compile().updateState(thread, Map.of("k", 1), "a"), IllegalStateException.class);
    }

    @Test
    void updateStateWithAnUnknownRecordKeyNamesIt() {
      RunConfig pointThread = RunConfig.thread("points-" + UUID.randomUUID());
      CompiledGraph<Point> points = StateGraph.of(Point.class)
          .addNode("a", (state, context) -> Mono.empty()).setEntryPoint("a")
          .compile(CompileOptions.defaults().withCheckpointer(saver));
      points.invoke(new Point(1, 2), pointThread).block(VERIFY);
      errors(points.updateState(pointThread, Map.of("z", 3), "a"), IllegalArgumentException.class, "'z'",
          "not a field of Point");
      assertEquals(new Point(1, 2), points.getState(pointThread).block(VERIFY).values());
    }

    @Test
    void aWrongInputTypeForAMapGraphFailsFast() {
      // the compiled graph is generic; a raw caller may pass anything: it must fail with a clear error, not hang
      @SuppressWarnings({"unchecked", "rawtypes"})
      CompiledGraph<Object> raw = (CompiledGraph) ab().setEntryPoint("a").addEdge("a", "b").compile();
      errors(raw.invoke("not a map", RunConfig.none()), IllegalArgumentException.class, "input");
    }

    @Test
    void aRunFailingAtRunTimeKeepsTheThreadUsable() {
      AtomicInteger calls = new AtomicInteger();
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("a", (state, context) -> calls.incrementAndGet() == 1 ? Mono.just(99) : Mono.just(Map.of("a", 1)))
          .setEntryPoint("a")
          .compile(CompileOptions.defaults().withCheckpointer(saver));
      errors(graph.invoke(Map.of(), thread), IllegalArgumentException.class, "node 'a'");
      assertEquals(List.of("a"), graph.getState(thread).block(VERIFY).next());
      assertEquals(Map.of("a", 1), graph.invoke(Command.proceed(), thread).block(VERIFY));
    }

    @Test
    void interruptsAreReportedWithStableIdsThatResumeById() {
      CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
          .addNode("ask", (state, context) -> context.interrupt("q", String.class).map(v -> Map.of("a", v)))
          .setEntryPoint("ask")
          .compile(CompileOptions.defaults().withCheckpointer(saver));
      Interrupt first = graph.run(Map.of(), thread).block(VERIFY).interrupts().get(0);
      Interrupt again = graph.getState(thread).block(VERIFY).interrupts().get(0);
      assertEquals(first.id(), again.id());
      assertEquals(Map.of("a", "yes"), graph.invoke(Command.resumeById(Map.of(first.id(), "yes")), thread)
          .block(VERIFY));
    }
  }
}
