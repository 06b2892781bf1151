package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.cache.InMemoryCache;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.NodeTimeoutException;
import dev.fluxgraph.store.InMemoryStore;
import dev.fluxgraph.types.CachePolicy;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.Interrupt;
import dev.fluxgraph.types.RetryPolicy;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** Per-node policies, the store, the message reducer, parallel interrupts, failures, and every stream mode. */
class GraphPoliciesAndStreamsTest {

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());

  @Test
  void aNodeIsRetriedByItsOwnPolicy() {
    AtomicInteger attempts = new AtomicInteger();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("flaky", (state, context) -> attempts.incrementAndGet() < 3
                ? Mono.error(new IOException("connection reset")) : Mono.just(Map.of("ok", true)),
            NodeOptions.defaults().withRetry(RetryPolicy.defaults().withInitialInterval(Duration.ofMillis(1))
                .withJitter(false)))
        .setEntryPoint("flaky")
        .compile();
    assertEquals(Map.of("ok", true), graph.invoke(Map.of(), RunConfig.none()).block());
    assertEquals(3, attempts.get());
  }

  @Test
  void aNodeTimesOutPerAttempt() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("slow", (state, context) -> Mono.delay(Duration.ofSeconds(5)).thenReturn(Map.of()),
            NodeOptions.defaults().withTimeout(Duration.ofMillis(50)))
        .setEntryPoint("slow")
        .compile();
    NodeTimeoutException error = assertThrows(NodeTimeoutException.class,
        () -> graph.invoke(Map.of(), RunConfig.none()).block());
    assertTrue(error.getMessage().contains("slow"), error.getMessage());
  }

  @Test
  void aCachedNodeIsNotRunAgainAndItsUpdateSaysSo() {
    AtomicInteger runs = new AtomicInteger();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("expensive", (state, context) -> Mono.just(Map.of("y", (Integer) state.get("x") * runs
                .incrementAndGet() * 10)),
            NodeOptions.defaults().withCachePolicy(CachePolicy.forever()))
        .setEntryPoint("expensive")
        .compile(CompileOptions.defaults().withCache(new InMemoryCache()));
    graph.invoke(Map.of("x", 1), RunConfig.none()).block();
    List<StreamChunk> second = graph.stream(Map.of("x", 1), RunConfig.none(), StreamMode.UPDATES).collectList().block();
    assertEquals(List.of(Map.of("expensive", Map.of("y", 10), "__metadata__", Map.of("cached", true))),
        second.stream().map(StreamChunk::data).toList());
    assertEquals(1, runs.get());
  }

  @Test
  void nodesUseTheStore() {
    InMemoryStore store = new InMemoryStore();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("remember", (state, context) -> context.store()
            .put(List.of("users"), "u1", Map.of("name", state.get("name"))).thenReturn(Map.of()))
        .addNode("recall", (state, context) -> context.store().get(List.of("users"), "u1")
            .map(item -> Map.of("recalled", item.value().get("name"))))
        .addEdge(StateGraph.START, "remember")
        .addEdge("remember", "recall")
        .compile(CompileOptions.defaults().withStore(store));
    assertEquals("Ada", graph.invoke(Map.of("name", "Ada"), RunConfig.none()).block().get("recalled"));
  }

  @Test
  void theMessageReducerAppendsReplacesByIdAssignsIdsAndRemoves() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("messages", Reducers.messages())
        .addNode("reply", (state, context) -> Mono.just(Map.of("messages", List.of(
            Map.of("id", "1", "role", "user", "content", "hi (edited)"),
            Map.of("role", "assistant", "content", "hello")))))
        .addNode("prune", (state, context) -> Mono.just(Map.of("messages", Map.of("id", "2", "type", "remove"))))
        .addEdge(StateGraph.START, "reply")
        .addEdge("reply", "prune")
        .compile();
    Map<String, Object> input = Map.of("messages", List.of(Map.of("id", "1", "role", "user", "content", "hi"),
        Map.of("id", "2", "role", "user", "content", "drop me")));
    List<?> messages = (List<?>) graph.invoke(input, RunConfig.none()).block().get("messages");
    assertEquals(2, messages.size());
    assertEquals("hi (edited)", ((Map<?, ?>) messages.get(0)).get("content"));
    Map<?, ?> reply = (Map<?, ?>) messages.get(1);
    assertEquals("hello", reply.get("content"));
    assertTrue(reply.get("id") instanceof String id && !id.isBlank(), String.valueOf(reply));
  }

  @Test
  void interruptsOfParallelNodesAreReportedTogetherAndAnsweredById() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("left", (state, context) -> context.interrupt("left?", String.class).map(a -> Map.of("l", a)))
        .addNode("right", (state, context) -> context.interrupt("right?", String.class).map(a -> Map.of("r", a)))
        .addEdge(StateGraph.START, "left")
        .addEdge(StateGraph.START, "right")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    GraphOutput<Map<String, Object>> paused = graph.run(Map.of(), config).block();
    assertEquals(Set.of("left?", "right?"), paused.interrupts().stream().map(Interrupt::value)
        .collect(Collectors.toSet()));
    Map<String, Object> answers = new LinkedHashMap<>();
    paused.interrupts().forEach(interrupt -> answers.put(interrupt.id(), "answer to " + interrupt.value()));
    assertEquals(Map.of("l", "answer to left?", "r", "answer to right?"),
        graph.invoke(Command.resumeById(answers), config).block());
  }

  @Test
  void aFailedNodeKeepsItsSiblingsResultsAndProceedRerunsOnlyIt() {
    AtomicInteger steady = new AtomicInteger();
    AtomicInteger shaky = new AtomicInteger();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("steady", (state, context) -> Mono.just(Map.of("s", steady.incrementAndGet())))
        .addNode("shaky", (state, context) -> shaky.incrementAndGet() == 1
            ? Mono.delay(Duration.ofMillis(30)).then(Mono.error(new IllegalStateException("boom")))
            : Mono.just(Map.of("k", shaky.get())))
        .addEdge(StateGraph.START, "steady")
        .addEdge(StateGraph.START, "shaky")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    assertThrows(IllegalStateException.class, () -> graph.invoke(Map.of(), config).block());
    var state = graph.getState(config).block();
    assertEquals(List.of("steady", "shaky"), state.next());
    assertEquals("boom", state.tasks().get(1).error());
    assertEquals(Map.of("s", 1, "k", 2), graph.invoke(Command.proceed(), config).block());
    assertEquals(1, steady.get());
  }

  @Test
  void tasksCheckpointsDebugAndMessagesModes() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("talk", (state, context) -> {
          context.messages().emit(Map.of("content", "tok"));
          return Mono.just(Map.of("said", "tok"));
        })
        .setEntryPoint("talk")
        .compile(CompileOptions.defaults().withCheckpointer(saver).withName("chat"));
    List<StreamChunk> chunks = graph.stream(Map.of(), config, StreamMode.TASKS, StreamMode.CHECKPOINTS,
        StreamMode.DEBUG, StreamMode.MESSAGES).collectList().block();
    List<StreamChunk> checkpoints = chunks.stream().filter(c -> c.mode() == StreamMode.CHECKPOINTS).toList();
    assertEquals(3, checkpoints.size()); // input, after the input, after "talk"
    assertEquals(List.of(List.of("__start__"), List.of("talk"), List.of()),
        checkpoints.stream().map(c -> ((Map<?, ?>) c.data()).get("next")).toList());
    checkpoints.forEach(c -> assertEquals(Set.of("config", "parent_config", "values", "metadata", "next", "tasks"),
        ((Map<?, ?>) c.data()).keySet()));
    List<Map<?, ?>> tasks = chunks.stream().filter(c -> c.mode() == StreamMode.TASKS)
        .<Map<?, ?>>map(c -> (Map<?, ?>) c.data()).filter(t -> "talk".equals(t.get("name"))).toList();
    assertEquals(Set.of("id", "name", "input", "triggers"), tasks.get(0).keySet());
    assertEquals(Set.of("id", "name", "result", "error", "interrupts"), tasks.get(1).keySet());
    assertEquals(Map.of("said", "tok"), tasks.get(1).get("result"));
    assertTrue(chunks.stream().anyMatch(c -> c.mode() == StreamMode.DEBUG
        && "checkpoint".equals(((Map<?, ?>) c.data()).get("type"))));
    StreamChunk message = chunks.stream().filter(c -> c.mode() == StreamMode.MESSAGES).findFirst().orElseThrow();
    assertEquals("talk", ((Map<?, ?>) ((List<?>) message.data()).get(1)).get("langgraph_node"));
  }

  @Test
  void theStreamHonoursDemandAndCancellingLeavesTheThreadResumable() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Map.of("a", 1)))
        .addNode("b", (state, context) -> Mono.delay(Duration.ofSeconds(30)).thenReturn(Map.of("b", 2)))
        .addEdge(StateGraph.START, "a")
        .addEdge("a", "b")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    StepVerifier.create(graph.stream(Map.of(), config, StreamMode.UPDATES), 0)
        .thenRequest(1)
        .expectNext(new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("a", Map.of("a", 1))))
        .thenCancel()
        .verify(Duration.ofSeconds(5));
    assertEquals(List.of("b"), graph.getState(config).block().next());
  }
}
