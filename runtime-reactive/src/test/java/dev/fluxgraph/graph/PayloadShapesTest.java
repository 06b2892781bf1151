package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.types.Interrupt;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * Issue 13 item 7: the payloads clients parse. The input checkpoint shows the state before the input, checkpoint
 * metadata names the thread, node tasks are triggered by {@code branch:to:<node>}, and an interrupted node's task
 * result carries its interrupts.
 */
class PayloadShapesTest {

  private static final Duration VERIFY = Duration.ofSeconds(10);

  record Counter(int count, @Nullable String label) {
  }

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());

  private CompiledGraph<Map<String, Object>> twoSteps() {
    Task<Integer, Integer> twice = Task.of("twice", Integer.class, x -> Mono.just(x * 2));
    return StateGraph.ofMap()
        .addNode("a", (state, context) -> twice.call(1).map(x -> Map.of("x", x)))
        .addNode("b", (state, context) -> Mono.just(Map.of("y", 2)))
        .setEntryPoint("a")
        .addEdge("a", "b")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
  }

  @Test
  void theFirstInputCheckpointShowsAnEmptyStateNotNull() {
    List<StreamChunk> chunks = twoSteps().stream(Map.of("x", 0), config, StreamMode.CHECKPOINTS).collectList()
        .block(VERIFY);
    assertEquals(Map.of(), data(chunks.get(0)).get("values"));
    List<StateSnapshot> history = twoSteps().getStateHistory(config).collectList().block(VERIFY);
    assertEquals(Map.of(), history.get(history.size() - 1).values());
  }

  @Test
  void aRecordStatesInputCheckpointShowsItsDefaults() {
    CompiledGraph<Counter> graph = StateGraph.of(Counter.class)
        .addNode("inc", (state, context) -> Mono.just(Map.of("count", state.count() + 1)))
        .setEntryPoint("inc")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    List<StreamChunk> chunks = graph.stream(new Counter(5, "x"), config, StreamMode.CHECKPOINTS).collectList()
        .block(VERIFY);
    assertEquals(new Counter(0, null), data(chunks.get(0)).get("values"));
    assertEquals(new Counter(6, "x"), data(chunks.get(chunks.size() - 1)).get("values"));
  }

  @Test
  void everyCheckpointsMetadataNamesTheThreadBesideTheRunsMetadata() {
    RunConfig withRun = config.withMetadata(Map.of("run_id", "run-7"));
    List<StreamChunk> chunks = twoSteps().stream(Map.of("x", 0), withRun, StreamMode.CHECKPOINTS).collectList()
        .block(VERIFY);
    assertEquals(4, chunks.size());
    for (StreamChunk chunk : chunks) {
      Map<?, ?> metadata = (Map<?, ?>) data(chunk).get("metadata");
      assertEquals(config.threadId().orElseThrow(), metadata.get("thread_id"), metadata::toString);
      assertEquals("run-7", metadata.get("run_id"), metadata::toString);
    }
    twoSteps().updateState(config, Map.of("y", 3), "a").block(VERIFY);
    assertEquals(config.threadId().orElseThrow(), twoSteps().getState(config).block(VERIFY).metadata()
        .get("thread_id"));
  }

  @Test
  void nodeTasksAreTriggeredByTheirBranchAndTasksTheyCallArePushed() {
    List<StreamChunk> chunks = twoSteps().stream(Map.of("x", 0), config, StreamMode.TASKS).collectList()
        .block(VERIFY);
    Map<String, Object> triggers = new java.util.LinkedHashMap<>();
    chunks.stream().map(PayloadShapesTest::data).filter(task -> task.containsKey("triggers"))
        .forEach(task -> triggers.put((String) task.get("name"), task.get("triggers")));
    assertEquals(Map.of("a", List.of("branch:to:a"), "twice", List.of("__pregel_push"), "b", List.of("branch:to:b")),
        triggers);
  }

  @Test
  void sendTasksArePushedNotTriggeredByABranch() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("done", Reducers.append())
        .addNode("fan", (state, context) -> Mono.just(Map.<String, Object>of()))
        .addNode("work", (state, context) -> Mono.just(Map.<String, Object>of("done", state.get("n"))))
        .setEntryPoint("fan")
        .addConditionalEdges("fan", state -> reactor.core.publisher.Flux.range(0, 2)
            .map(n -> new Send("work", Map.of("n", n))))
        .compile(CompileOptions.defaults());
    List<List<Object>> triggers = graph.stream(Map.of(), RunConfig.none(), StreamMode.TASKS).map(PayloadShapesTest::data)
        .filter(task -> task.containsKey("triggers")).map(task -> List.of(task.get("name"), task.get("triggers")))
        .collect(java.util.stream.Collectors.toList()).block(VERIFY);
    assertEquals(List.of(List.of("fan", List.of("branch:to:fan")), List.of("work", List.of("__pregel_push")),
        List.of("work", List.of("__pregel_push"))), triggers);
  }

  @Test
  void aNodeNamedLikeItsGraphIsStillANodeTaskAndTheGraphIsNone() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("agent", (state, context) -> Mono.just(Map.of("x", 1)))
        .setEntryPoint("agent")
        .compile(CompileOptions.defaults().withName("agent"));
    List<Map<?, ?>> tasks = graph.stream(Map.of(), RunConfig.none(), StreamMode.TASKS).map(PayloadShapesTest::data)
        .collectList().block(VERIFY);
    assertEquals(2, tasks.size(), tasks::toString);
    assertEquals(List.of("branch:to:agent"), tasks.get(0).get("triggers"));
    assertEquals(Map.of("x", 1), tasks.get(1).get("result"));
  }

  @Test
  void anInterruptedNodesTaskResultCarriesItsInterrupts() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("ask", (state, context) -> context.interrupt("sure?", String.class).map(v -> Map.of("a", v)))
        .setEntryPoint("ask")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    List<StreamChunk> chunks = graph.stream(Map.of(), config, StreamMode.TASKS, StreamMode.DEBUG).collectList()
        .block(VERIFY);
    Map<?, ?> end = chunks.stream().filter(chunk -> chunk.mode() == StreamMode.TASKS).map(PayloadShapesTest::data)
        .filter(task -> task.containsKey("interrupts")).findFirst().orElseThrow();
    assertEquals("ask", end.get("name"));
    assertNull(end.get("error"));
    List<?> interrupts = assertInstanceOf(List.class, end.get("interrupts"));
    assertEquals("sure?", ((Interrupt) interrupts.get(0)).value());
    assertEquals(graph.getState(config).block(VERIFY).interrupts(), interrupts);
    Map<?, ?> debugged = chunks.stream().filter(chunk -> chunk.mode() == StreamMode.DEBUG).map(PayloadShapesTest::data)
        .filter(event -> "task_result".equals(event.get("type"))).findFirst().orElseThrow();
    assertEquals(end, debugged.get("payload"));
  }

  private static Map<?, ?> data(StreamChunk chunk) {
    return assertInstanceOf(Map.class, chunk.data(), () -> "data of " + chunk);
  }
}
