package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.InvalidGraphException;
import dev.fluxgraph.errors.InvalidUpdateException;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.StreamOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * Input and output schemas, per-node input types and private channels (the reference's {@code input_schema},
 * {@code output_schema} and {@code add_node(..., input_schema=)}), and subgraphs whose state differs from their
 * parent's. {@link #saver()} is the checkpointer: the Postgres suite runs the same scenarios on PostgreSQL.
 */
public class SchemaTest {

  protected static final Duration VERIFY = Duration.ofSeconds(10);

  /** The reference's how-to: OverallState, InputState, OutputState and a PrivateState only nodes read. */
  public record Overall(@Nullable String userInput, @Nullable String foo, @Nullable String graphOutput) {
  }

  public record In(@Nullable String userInput) {
  }

  public record Out(@Nullable String graphOutput) {
  }

  public record Private(@Nullable String bar) {
  }

  protected CheckpointSaver saver() {
    return saver;
  }

  private final InMemorySaver saver = new InMemorySaver();
  protected final RunConfig config = RunConfig.thread("schemas-" + UUID.randomUUID());

  /** node_1 reads In, node_2 the whole state and writes the private 'bar', node_3 reads only 'bar'. */
  public CompiledGraph<Overall> howTo(CompileOptions options) {
    return StateGraph.of(Overall.class).withInput(In.class).withOutput(Out.class)
        .addNode("node_1", In.class, (state, context) -> Mono.just(Map.of("foo", state.userInput() + " name")))
        .addNode("node_2", (state, context) -> Mono.just(Map.of("bar", state.foo() + " is")))
        .addNode("node_3", Private.class, (state, context) -> Mono.just(Map.of("graphOutput", state.bar()
            + " Lance")))
        .addEdge(StateGraph.START, "node_1")
        .addEdge("node_1", "node_2")
        .addEdge("node_2", "node_3")
        .addEdge("node_3", StateGraph.END)
        .compile(options);
  }

  private CompileOptions persisted() {
    return CompileOptions.defaults().withCheckpointer(saver());
  }

  @Test
  void theResultHoldsOnlyTheOutputSchemasKeys() {
    Entrypoint<In, Out> typed = howTo(persisted()).asEntrypoint(In.class, Out.class);
    assertEquals(new Out("My name is Lance"), typed.invoke(new In("My"), config).block(VERIFY));
    // the state type's view: the other properties are unset
    assertEquals(new Overall(null, null, "My name is Lance"),
        howTo(CompileOptions.defaults()).invoke(new Overall("My", null, null), RunConfig.none()).block(VERIFY));
  }

  @Test
  void getStateShowsTheWholeStateIncludingPrivateChannels() {
    CompiledGraph<Overall> graph = howTo(persisted());
    graph.asEntrypoint(In.class, Out.class).invoke(new In("My"), config).block(VERIFY);
    StateSnapshot state = graph.getState(config).block(VERIFY);
    assertEquals(new Overall("My", "My name", "My name is Lance"), state.values());
    Map<String, Object> saved = new LinkedHashMap<>();
    saved.put("userInput", "My");
    saved.put("foo", "My name");
    saved.put("bar", "My name is");
    saved.put("graphOutput", "My name is Lance");
    assertEquals(saved, savedState(), "the private channel is part of the saved state");
  }

  /** The state as saved in the thread's latest checkpoint, as plain JSON data. */
  @SuppressWarnings("unchecked")
  protected Map<String, Object> savedState() {
    var tuple = saver().get(config.threadId().orElseThrow(), "", null).block(VERIFY);
    return (Map<String, Object>) dev.fluxgraph.internal.Json.toPlain(tuple.checkpoint().values().get("__state__"));
  }

  @Test
  void anInputKeyOutsideTheInputSchemaIsRefusedBeforeAnythingIsSaved() {
    CompiledGraph<Overall> graph = howTo(persisted());
    StepVerifier.create(graph.invoke(new Overall("My", "sneaked", null), config))
        .expectErrorSatisfies(error -> {
          assertTrue(error instanceof InvalidUpdateException, error.toString());
          assertContains(error.getMessage(), "'foo'", "input schema", "userInput");
        })
        .verify(VERIFY);
    StepVerifier.create(graph.asEntrypoint(Map.class, Map.class).invoke(Map.of("userInput", "My", "bar", 1), config))
        .expectErrorSatisfies(error -> assertContains(error.getMessage(), "'bar'", "not in its input schema"))
        .verify(VERIFY);
    assertNull(saver().get(config.threadId().orElseThrow(), "", null).block(VERIFY), "no checkpoint saved");
  }

  @Test
  void streamsShowTheWholeStateAsTheReferenceDoesOnlyTheResultIsTheOutput() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap().withInput(In.class).withOutput(Out.class)
        .addNode("a", (state, context) -> Mono.just(Map.of("scratch", "x")))
        .addNode("b", (state, context) -> Mono.just(Map.of("graphOutput", state.get("userInput") + "!")))
        .addEdge(StateGraph.START, "a")
        .addEdge("a", "b")
        .compile(persisted());
    List<StreamChunk> chunks = graph.stream(Map.of("userInput", "hi"), config, StreamMode.VALUES,
        StreamMode.UPDATES).collectList().block(VERIFY);
    List<Object> values = chunks.stream().filter(chunk -> chunk.mode() == StreamMode.VALUES)
        .map(StreamChunk::data).toList();
    // the reference streams its stream channels (every key); only invoke's result is the output schema's
    assertEquals(List.of(Map.of("userInput", "hi"), Map.of("userInput", "hi", "scratch", "x"),
        Map.of("userInput", "hi", "scratch", "x", "graphOutput", "hi!")), values);
    List<Object> updates = chunks.stream().filter(chunk -> chunk.mode() == StreamMode.UPDATES)
        .map(StreamChunk::data).toList();
    assertEquals(List.of(Map.of("a", Map.of("scratch", "x")), Map.of("b", Map.of("graphOutput", "hi!"))), updates);
    assertEquals(Map.of("userInput", "hi", "scratch", "x", "graphOutput", "hi!"),
        graph.getState(config).block(VERIFY).values());
    // a finished thread continued with nothing to do returns its output again
    assertEquals(Map.of("graphOutput", "hi!"), graph.invoke(Command.proceed(), config).block(VERIFY));
    GraphOutput<Map<String, Object>> again = graph.run(Map.of("userInput", "ho"), config).block(VERIFY);
    assertEquals(Map.of("graphOutput", "ho!"), again.value());
  }

  @Test
  void aNodeWithItsOwnInputTypeReadsOnlyThoseKeysAndItsEdgesTheWholeState() {
    List<Object> seen = new ArrayList<>();
    CompiledGraph<Overall> graph = StateGraph.of(Overall.class)
        .addNode("private", (state, context) -> Mono.just(Map.of("bar", "secret", "foo", "f")))
        .addNode("reader", Private.class, (state, context) -> {
          seen.add(state);
          return Mono.just(Map.of("graphOutput", state.bar()));
        })
        .addNode("done", (state, context) -> Mono.empty())
        .addEdge(StateGraph.START, "private")
        .addEdge("private", "reader")
        .addConditionalEdges("reader", state -> Mono.just(state.foo().equals("f") ? "done" : StateGraph.END))
        .compile(persisted());
    assertEquals(new Overall("u", "f", "secret"), graph.invoke(new Overall("u", null, null), config).block(VERIFY));
    assertEquals(List.of(new Private("secret")), seen);
    assertEquals(List.of(), graph.getState(config).block(VERIFY).next());
  }

  @Test
  void aNodeReadingPartOfTheStateResumesAfterAnInterrupt() {
    AtomicInteger runs = new AtomicInteger();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("ask", Private.class, (state, context) -> {
          runs.incrementAndGet();
          return context.interrupt("bar is " + state.bar() + "?", String.class)
              .map(answer -> Map.of("answer", answer));
        })
        .setEntryPoint("ask")
        .compile(persisted());
    GraphOutput<Map<String, Object>> paused = graph.run(Map.of("bar", "b", "other", 1), config).block(VERIFY);
    assertEquals("bar is b?", paused.interrupts().get(0).value());
    assertEquals(Map.of("bar", "b", "other", 1, "answer", "yes"),
        graph.invoke(Command.resume("yes"), config).block(VERIFY));
    assertEquals(2, runs.get());
  }

  @Test
  void schemasNeedPropertiesAndReducersMayNameTheirKeys() {
    fails(() -> StateGraph.of(Overall.class).withInput(Map.class), "input schema", "record or POJO");
    fails(() -> StateGraph.of(Overall.class).addNode("n", Object.class, (state, context) -> Mono.empty()),
        "no properties", "node 'n'");
    fails(() -> StateGraph.of(Overall.class).reducer("bar", Reducers.append()), "'bar'", "no such property");
    StateGraph.of(Overall.class).addNode("n", Private.class, (state, context) -> Mono.empty())
        .reducer("bar", Reducers.append());
  }

  // ---------------------------------------------------------------- subgraphs with another state

  public record RouterState(@Nullable List<String> messages, @Nullable String route) {
  }

  public record WeatherState(@Nullable List<String> messages, @Nullable String city) {
  }

  /** The reference API tests' weather graph: the subgraph's own key 'city' is not the parent's. */
  public CompiledGraph<RouterState> weather(List<Object> received, boolean breakpoint, AtomicInteger cityRuns) {
    CompiledGraph<WeatherState> weatherGraph = StateGraph.of(WeatherState.class)
        .reducer("messages", Reducers.append())
        .addNode("model_node", (state, context) -> {
          received.add(state);
          cityRuns.incrementAndGet();
          return Mono.just(Map.of("city", "San Francisco"));
        })
        .addNode("weather_node", (state, context) -> Mono.just(Map.of("messages",
            List.of("It's sunny in " + state.city()))))
        .addEdge(StateGraph.START, "model_node")
        .addEdge("model_node", "weather_node")
        .compile(breakpoint ? CompileOptions.defaults().withName("weather_graph").withInterruptBefore("weather_node")
            : CompileOptions.defaults().withName("weather_graph"));
    return StateGraph.of(RouterState.class)
        .reducer("messages", Reducers.append())
        .addNode("router_node", (state, context) -> Mono.just(Map.of("route", "weather")))
        .addNode("normal_llm_node", (state, context) -> Mono.just(Map.of("messages", List.of("hello"))))
        .addNode("weather_graph", weatherGraph)
        .addEdge(StateGraph.START, "router_node")
        .addConditionalEdges("router_node", state -> Mono.just(state.route().equals("weather") ? "weather_graph"
            : "normal_llm_node"))
        .addEdge("normal_llm_node", StateGraph.END)
        .addEdge("weather_graph", StateGraph.END)
        .compile(persisted());
  }

  @Test
  void aSubgraphWithAnotherStateGetsAndReturnsOnlyTheSharedKeys() {
    List<Object> received = new ArrayList<>();
    CompiledGraph<RouterState> graph = weather(received, false, new AtomicInteger());
    RouterState result = graph.invoke(new RouterState(List.of("what's the weather in sf"), null), config)
        .block(VERIFY);
    assertEquals(new RouterState(List.of("what's the weather in sf", "what's the weather in sf",
        "It's sunny in San Francisco"), "weather"), result);
    assertEquals(List.of(new WeatherState(List.of("what's the weather in sf"), null)), received,
        "the subgraph got the shared key only");
  }

  @Test
  void proceedContinuesPastABreakpointInsideASubgraph() {
    AtomicInteger cityRuns = new AtomicInteger();
    CompiledGraph<RouterState> graph = weather(new ArrayList<>(), true, cityRuns);
    List<StreamChunk> updates = graph.stream(new RouterState(List.of("sf?"), null), config,
        StreamOptions.of(StreamMode.UPDATES).withSubgraphs(true)).collectList().block(VERIFY);
    // as the reference: the child's node, then a pause with no interrupt to answer
    assertEquals(List.of(Map.of("router_node", Map.of("route", "weather")),
        Map.of("model_node", Map.of("city", "San Francisco")), Map.of("__interrupt__", List.of())),
        updates.stream().map(StreamChunk::data).toList());
    assertTrue(updates.get(1).namespace().get(0).startsWith("weather_graph:"), updates.toString());
    StateSnapshot state = graph.getState(config, true).block(VERIFY);
    assertEquals(List.of("weather_graph"), state.next());
    assertEquals(List.of(), state.interrupts());
    assertEquals(List.of(), state.tasks().get(0).interrupts());
    StateSnapshot nested = state.tasks().get(0).state();
    assertEquals(List.of("weather_node"), nested.next());
    assertEquals("San Francisco", ((Map<?, ?>) nested.values()).get("city"));
    StepVerifier.create(graph.run(Command.resume("x"), config))
        .expectErrorSatisfies(error -> assertContains(error.getMessage(), "Command.proceed()"))
        .verify(VERIFY);

    RouterState done = graph.invoke(Command.proceed(), config).block(VERIFY);
    assertEquals(List.of("sf?", "sf?", "It's sunny in San Francisco"), done.messages());
    assertEquals(1, cityRuns.get(), "the subgraph's finished node is not run again");
    assertEquals(List.of(), graph.getState(config).block(VERIFY).next());
  }

  @Test
  void aNullInputContinuesPastABreakpointInsideASubgraphToo() {
    CompiledGraph<RouterState> graph = weather(new ArrayList<>(), true, new AtomicInteger());
    GraphOutput<RouterState> stopped = graph.run(new RouterState(List.of("sf?"), null), config).block(VERIFY);
    assertEquals(new GraphOutput<>(new RouterState(List.of("sf?"), "weather"), List.of()), stopped,
        "stopped as at a breakpoint of its own: the state so far, no interrupts");
    RouterState done = graph.invoke((RouterState) null, config).block(VERIFY);
    assertEquals("weather", done.route());
    assertEquals(3, done.messages().size());
  }

  @Test
  void aBreakpointOfAGraphInsideAnEntrypointStopsItWithoutInterruptsAndProceedContinues() {
    AtomicInteger prepared = new AtomicInteger();
    CompiledGraph<Map<String, Object>> inner = StateGraph.ofMap()
        .addNode("prepare", (state, context) -> {
          prepared.incrementAndGet();
          return Mono.just(Map.of("prepared", true));
        })
        .addNode("publish", (state, context) -> Mono.just(Map.of("published", state.get("topic"))))
        .addEdge(StateGraph.START, "prepare")
        .addEdge("prepare", "publish")
        .compile(CompileOptions.defaults().withName("inner").withInterruptBefore("publish"));
    Entrypoint<String, Object> outer = Entrypoint.named("outer").checkpointer(saver())
        .define(String.class, Object.class, (topic, context) -> inner.invoke(Map.of("topic", topic))
            .map(state -> state.get("published")));
    GraphOutput<Object> stopped = outer.run("owls", config).block(VERIFY);
    assertEquals(new GraphOutput<>(null, List.of()), stopped);
    StateSnapshot state = outer.getState(config, true).block(VERIFY);
    assertEquals(List.of("outer"), state.next());
    assertEquals(List.of(), state.interrupts());
    assertEquals("owls", outer.invoke(Command.proceed(), config).block(VERIFY));
    assertEquals(1, prepared.get());
  }

  @Test
  void aSubgraphWithAnInputSchemaGetsOnlyItsKeysFromALargerParentState() {
    CompiledGraph<Map<String, Object>> child = StateGraph.ofMap().withInput(In.class).withOutput(Out.class)
        .addNode("shout", (state, context) -> Mono.just(Map.of("graphOutput", state.get("userInput") + "!",
            "childOnly", 1)))
        .setEntryPoint("shout")
        .compile(CompileOptions.defaults().withName("child"));
    CompiledGraph<Overall> parent = StateGraph.of(Overall.class)
        .addNode("child", child)
        .setEntryPoint("child")
        .compile(persisted());
    assertEquals(new Overall("hey", "kept", "hey!"), parent.invoke(new Overall("hey", "kept", null), config)
        .block(VERIFY));
  }

  static void fails(Executable action, String... parts) {
    InvalidGraphException error = org.junit.jupiter.api.Assertions.assertThrows(InvalidGraphException.class, action);
    assertContains(error.getMessage(), parts);
  }

  static void assertContains(String message, String... parts) {
    for (String part : parts) {
      assertTrue(message.contains(part), "'" + part + "' in: " + message);
    }
  }
}
