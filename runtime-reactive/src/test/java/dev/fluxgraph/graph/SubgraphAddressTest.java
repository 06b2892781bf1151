package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.StreamOptions;
import dev.fluxgraph.types.TaskState;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * Issue 13 item 7: a task whose node is a subgraph carries the config addressing the subgraph's state (thread id and
 * checkpoint namespace {@code "<node>:<id>"}) before the subgraph has run, as the reference's {@code PregelTask.state}
 * config does, in {@code getState} and in the checkpoint events; the namespace is the one the subgraph then runs and
 * records under.
 */
class SubgraphAddressTest {

  private static final Duration VERIFY = Duration.ofSeconds(5);

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());

  private static CompiledGraph<Map<String, Object>> reviewGraph(String name) {
    return StateGraph.ofMap()
        .addNode("draft", (state, context) -> Mono.just(Map.of("text", "draft about " + state.get("topic"))))
        .addNode("review", (state, context) -> context.interrupt("approve " + state.get("text") + "?",
            String.class).map(verdict -> Map.of("verdict", verdict)))
        .addEdge(StateGraph.START, "draft")
        .addEdge("draft", "review")
        .compile(CompileOptions.defaults().withName(name));
  }

  /** prepare, then the subgraph {@code write}; with a breakpoint before {@code write}. */
  private CompiledGraph<Map<String, Object>> parent() {
    return StateGraph.ofMap()
        .addNode("prepare", (state, context) -> Mono.just(Map.of("prepared", true)))
        .addNode("write", reviewGraph("reviewer"))
        .addEdge(StateGraph.START, "prepare")
        .addEdge("prepare", "write")
        .compile(CompileOptions.defaults().withName("parent").withCheckpointer(saver)
            .withInterruptBefore("write"));
  }

  private static TaskState only(List<TaskState> tasks) {
    assertEquals(1, tasks.size(), tasks.toString());
    return tasks.get(0);
  }

  @Test
  void aSubgraphTaskThatHasNotRunCarriesItsNamespacedConfig() {
    CompiledGraph<Map<String, Object>> parent = parent();
    parent.run(Map.of("topic", "otters"), config).block(VERIFY);

    StateSnapshot before = parent.getState(config, true).block(VERIFY);
    assertEquals(List.of("write"), before.next());
    TaskState write = only(before.tasks());
    assertNull(write.state(), "nothing of the subgraph is recorded yet");
    RunConfig address = write.checkpoint();
    assertNotNull(address, "a subgraph task names its subgraph's config before it runs");
    assertEquals(config.threadId(), address.threadId());
    assertEquals(Optional.empty(), address.checkpointId(), "no checkpoint of the subgraph yet");
    String namespace = address.checkpointNamespace();
    assertTrue(namespace.startsWith("write:") && namespace.length() > "write:".length(), namespace);
    assertEquals(address.checkpointNamespace(), parent.getState(config).block(VERIFY).tasks().get(0).checkpoint()
        .checkpointNamespace(), "the same without subgraphs");

    // the history's earlier checkpoint (next: prepare) shows a plain node: no config
    StateSnapshot prepared = parent.getStateHistory(config).filter(s -> s.next().equals(List.of("prepare")))
        .blockFirst(VERIFY);
    assertNotNull(prepared);
    assertNull(only(prepared.tasks()).checkpoint());

    // the subgraph runs (and pauses) under exactly that namespace
    parent.run(Command.proceed(), config).block(VERIFY);
    TaskState paused = only(parent.getState(config, true).block(VERIFY).tasks());
    assertEquals(write.id(), paused.id());
    assertNotNull(paused.state());
    assertEquals(namespace, paused.state().config().checkpointNamespace());
    assertEquals(paused.state().config(), paused.checkpoint(), "once recorded, the config has the checkpoint id");
    assertTrue(paused.checkpoint().checkpointId().isPresent());
    assertEquals(List.of("review"), parent.getState(paused.checkpoint()).block(VERIFY).next());

    Map<String, Object> done = parent.invoke(Command.resume("yes"), config).block(VERIFY);
    assertEquals("yes", done.get("verdict"));
  }

  @Test
  void checkpointEventsNameTheSubgraphsNamespaceItsChunksThenCarry() {
    CompiledGraph<Map<String, Object>> parent = StateGraph.ofMap()
        .addNode("prepare", (state, context) -> Mono.just(Map.of("prepared", true)))
        .addNode("write", reviewGraph("reviewer"))
        .addEdge(StateGraph.START, "prepare")
        .addEdge("prepare", "write")
        .compile(CompileOptions.defaults().withName("parent").withCheckpointer(saver));
    List<StreamChunk> chunks = parent.stream(Map.of("topic", "owls"), config,
        StreamOptions.of(StreamMode.CHECKPOINTS, StreamMode.UPDATES).withSubgraphs(true)).collectList().block(VERIFY);
    assertNotNull(chunks);

    RunConfig announced = null;
    for (StreamChunk chunk : chunks) {
      if (chunk.mode() != StreamMode.CHECKPOINTS) {
        continue;
      }
      Map<?, ?> data = (Map<?, ?>) chunk.data();
      for (Object item : (List<?>) data.get("tasks")) {
        Map<?, ?> task = (Map<?, ?>) item;
        assertTrue(task.containsKey("state"), task.toString());
        if (task.get("name").equals("write")) {
          announced = (RunConfig) task.get("state");
        } else {
          assertNull(task.get("state"), "a plain node's task has no nested config: " + task);
        }
      }
    }
    assertNotNull(announced, "the checkpoint before the subgraph's superstep lists it: " + chunks);
    assertEquals(config.threadId(), announced.threadId());
    assertEquals(Optional.empty(), announced.checkpointId());
    String namespace = announced.checkpointNamespace();
    assertTrue(chunks.stream().anyMatch(chunk -> chunk.namespace().equals(List.of(namespace))),
        "the subgraph's chunks carry the announced namespace " + namespace + ": " + chunks);
    assertEquals(namespace, only(parent.getState(config, true).block(VERIFY).tasks()).checkpoint()
        .checkpointNamespace());
  }

  @Test
  void aSubgraphOfAPausedSubgraphIsAddressedUnderItsParentsNamespace() {
    CompiledGraph<Map<String, Object>> middle = StateGraph.ofMap()
        .addNode("prepare", (state, context) -> Mono.just(Map.of("prepared", true)))
        .addNode("inner", reviewGraph("inner"))
        .addEdge(StateGraph.START, "prepare")
        .addEdge("prepare", "inner")
        .compile(CompileOptions.defaults().withName("middle").withInterruptBefore("inner"));
    CompiledGraph<Map<String, Object>> outer = StateGraph.ofMap()
        .addNode("outerNode", middle)
        .setEntryPoint("outerNode")
        .compile(CompileOptions.defaults().withName("outer").withCheckpointer(saver));
    outer.run(Map.of("topic", "owls"), config).block(VERIFY);

    TaskState top = only(outer.getState(config, true).block(VERIFY).tasks());
    StateSnapshot middleState = top.state();
    assertNotNull(middleState, "the middle graph stopped at its breakpoint");
    assertEquals(List.of("inner"), middleState.next());
    TaskState inner = only(middleState.tasks());
    assertNull(inner.state());
    RunConfig address = inner.checkpoint();
    assertNotNull(address);
    assertEquals(Optional.empty(), address.checkpointId());
    String[] segments = address.checkpointNamespace().split("\\|");
    assertEquals(2, segments.length, address.checkpointNamespace());
    assertEquals(middleState.config().checkpointNamespace(), segments[0]);
    assertTrue(segments[1].startsWith("inner:"), segments[1]);

    outer.run(Command.proceed(), config).block(VERIFY);
    StateSnapshot innerState = only(only(outer.getState(config, true).block(VERIFY).tasks()).state().tasks())
        .state();
    assertNotNull(innerState, "the inner graph paused at its review");
    assertEquals(address.checkpointNamespace(), innerState.config().checkpointNamespace());
  }
}
