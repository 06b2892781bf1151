package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.InvalidUpdateException;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.Interrupt;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.TaskState;
import dev.fluxgraph.types.TypeRef;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * SEMANTICS §4: a node task carries the interrupts raised anywhere under it, and with {@code getState(config, true)}
 * the snapshot of the nested graph or entrypoint it ran that is paused or failed.
 */
class NestedStateTest {

  private static final Duration VERIFY = Duration.ofSeconds(5);
  private static final TypeRef<Map<String, Object>> MAP = new TypeRef<>() { };

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
  private final AtomicInteger drafted = new AtomicInteger();

  /** A graph that drafts, then asks for a review (its second superstep pauses). */
  private CompiledGraph<Map<String, Object>> reviewGraph() {
    return StateGraph.ofMap()
        .addNode("draft", (state, context) -> {
          int draft = drafted.incrementAndGet();
          return Mono.just(Map.of("text", "draft about " + state.get("topic") + (draft == 1 ? "" : " #" + draft)));
        })
        .addNode("review", (state, context) -> context.interrupt("approve " + state.get("text") + "?",
            String.class).map(verdict -> Map.of("verdict", verdict)))
        .addEdge(StateGraph.START, "draft")
        .addEdge("draft", "review")
        .compile(CompileOptions.defaults().withName("reviewer"));
  }

  private static TaskState only(List<TaskState> tasks) {
    assertEquals(1, tasks.size(), tasks.toString());
    return tasks.get(0);
  }

  private static List<Object> values(List<Interrupt> interrupts) {
    return interrupts.stream().map(Interrupt::value).toList();
  }

  @Test
  void aGraphAsANodePausingInsideShowsItsStateUnderTheNode() {
    CompiledGraph<Map<String, Object>> parent = StateGraph.ofMap()
        .addNode("write", reviewGraph())
        .addNode("publish", (state, context) -> Mono.just(Map.of("published", true)))
        .addEdge(StateGraph.START, "write")
        .addEdge("write", "publish")
        .compile(CompileOptions.defaults().withName("parent").withCheckpointer(saver));
    parent.run(Map.of("topic", "otters"), config).block(VERIFY);

    StateSnapshot flat = parent.getState(config).block(VERIFY);
    TaskState write = only(flat.tasks());
    assertEquals("write", write.name());
    assertEquals(List.of("approve draft about otters?"), values(write.interrupts()));
    assertNull(write.state(), "nested states only when asked for");

    StateSnapshot state = parent.getState(config, true).block(VERIFY);
    TaskState task = only(state.tasks());
    assertEquals(write.id(), task.id());
    assertEquals(write.interrupts(), task.interrupts());
    StateSnapshot nested = task.state();
    assertNotNull(nested);
    assertEquals(Map.of("topic", "otters", "text", "draft about otters"), nested.values());
    assertEquals(List.of("review"), nested.next());
    assertEquals(write.interrupts(), nested.interrupts());
    TaskState review = only(nested.tasks());
    assertEquals("review", review.name());
    assertEquals(write.interrupts(), review.interrupts());
    assertNull(review.state());
    String namespace = nested.config().checkpointNamespace();
    assertTrue(namespace.startsWith("write:"), namespace);
    assertEquals(state.config().checkpointId(), nested.config().checkpointId());
    assertEquals(config.threadId(), nested.config().threadId());

    // the nested state is addressable by its config, and refuses edits while it waits for an interrupt's answer
    StateSnapshot addressed = parent.getState(nested.config()).block(VERIFY);
    assertEquals(nested.values(), addressed.values());
    assertEquals(nested.next(), addressed.next());
    assertEquals(nested.tasks().get(0).interrupts(), addressed.tasks().get(0).interrupts());
    StepVerifier.create(parent.updateState(nested.config(), Map.of("text", "edited")))
        .expectErrorSatisfies(error -> {
          assertEquals(InvalidUpdateException.class, error.getClass());
          assertTrue(error.getMessage().contains(namespace), error.getMessage());
        })
        .verify(VERIFY);
    StepVerifier.create(parent.run(Command.resume("yes"), nested.config()))
        .expectError(IllegalArgumentException.class).verify(VERIFY);
    StepVerifier.create(parent.getState(config.withCheckpointNamespace("write:nope")))
        .expectErrorSatisfies(error -> assertTrue(error.getMessage().contains("write:nope"), error.getMessage()))
        .verify(VERIFY);

    Map<String, Object> done = parent.invoke(Command.resume("yes"), config).block(VERIFY);
    assertEquals("yes", done.get("verdict"));
    assertEquals(true, done.get("published"));
    assertEquals(1, drafted.get());
    StateSnapshot after = parent.getState(config, true).block(VERIFY);
    assertTrue(after.next().isEmpty());
    assertTrue(after.tasks().isEmpty(), "after completion nothing is pending, nested or not");
    assertTrue(parent.getStateHistory(config, true).all(snapshot -> snapshot.tasks().stream()
        .allMatch(t -> t.state() == null)).block(VERIFY), "the nested graph finished: no history entry shows it");
  }

  @Test
  void eachStateInANestedGraphsHistoryHasItsOwnConfigAndParent() {
    CompiledGraph<Map<String, Object>> parent = StateGraph.ofMap()
        .addNode("write", reviewGraph())
        .addEdge(StateGraph.START, "write")
        .compile(CompileOptions.defaults().withName("parent").withCheckpointer(saver));
    parent.run(Map.of("topic", "otters"), config).block(VERIFY);
    StateSnapshot nested = only(parent.getState(config, true).block(VERIFY).tasks()).state();
    assertNotNull(nested);
    RunConfig inner = nested.config();

    // newest first: after draft (next review), after the input (next draft), the input (next __start__)
    List<StateSnapshot> history = parent.getStateHistory(inner.withCheckpointId(null)).collectList().block(VERIFY);
    assertEquals(List.of(List.of("review"), List.of("draft"), List.of("__start__")),
        history.stream().map(StateSnapshot::next).toList());
    assertEquals(inner, history.get(0).config(), "the newest keeps the config a task's state carries");
    assertEquals(3, history.stream().map(StateSnapshot::config).distinct().count(), history.toString());
    for (int i = 0; i < history.size(); i++) {
      StateSnapshot entry = history.get(i);
      assertEquals(inner.checkpointNamespace(), entry.config().checkpointNamespace());
      assertEquals(i + 1 < history.size() ? history.get(i + 1).config() : null, entry.parentConfig(),
          "each names the one before it");
      StateSnapshot addressed = parent.getState(entry.config()).block(VERIFY);
      assertEquals(entry.values(), addressed.values());
      assertEquals(entry.next(), addressed.next());
      assertEquals(entry.config(), addressed.config());
      assertEquals(history.subList(i + 1, history.size()).stream().map(StateSnapshot::config).toList(),
          parent.getStateHistory(entry.config()).map(StateSnapshot::config).collectList().block(VERIFY),
          "the history from a state is the states older than it");
    }

    // an older state cannot be edited (the run stopped at the newest), and a made-up derived id is refused
    StepVerifier.create(parent.updateState(history.get(1).config(), Map.of("text", "edited")))
        .expectErrorSatisfies(error -> {
          assertEquals(InvalidUpdateException.class, error.getClass());
          assertTrue(error.getMessage().contains("not the thread's latest"), error.getMessage());
        })
        .verify(VERIFY);
    RunConfig madeUp = inner.withCheckpointId(inner.checkpointId().orElseThrow() + "#7");
    StepVerifier.create(parent.getState(madeUp))
        .expectErrorSatisfies(error -> {
          assertEquals(IllegalArgumentException.class, error.getClass());
          assertTrue(error.getMessage().contains("#7"), error.getMessage());
        })
        .verify(VERIFY);
    StepVerifier.create(parent.getStateHistory(madeUp)).expectError(IllegalArgumentException.class).verify(VERIFY);
  }

  @Test
  void anEntrypointCallingAGraphThatPausesShowsTheGraphsState() {
    CompiledGraph<Map<String, Object>> graph = reviewGraph();
    Entrypoint<String, Map<String, Object>> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .define(TypeRef.of(String.class), MAP, (topic, context) -> graph.invoke(Map.of("topic", topic)));
    workflow.run("cats", config).block(VERIFY);

    StateSnapshot state = workflow.getState(config, true).block(VERIFY);
    TaskState task = only(state.tasks());
    assertEquals("workflow", task.name());
    assertEquals(List.of("approve draft about cats?"), values(task.interrupts()));
    StateSnapshot nested = task.state();
    assertNotNull(nested);
    assertTrue(nested.config().checkpointNamespace().startsWith("reviewer:"), nested.config().toString());
    assertEquals(Map.of("topic", "cats", "text", "draft about cats"), nested.values());
    assertEquals(List.of("review"), nested.next());
    assertEquals(task.interrupts(), only(nested.tasks()).interrupts());
    assertEquals("loop", nested.metadata().get("source"));
    assertNull(workflow.getState(config).block(VERIFY).tasks().get(0).state());

    workflow.invoke(Command.resume("fine"), config).block(VERIFY);
    assertTrue(workflow.getState(config, true).block(VERIFY).tasks().isEmpty());
  }

  @Test
  void aNestedEntrypointThatPausesShowsItselfAsItsPendingWork() {
    Entrypoint<String, String> child = Entrypoint.named("child")
        .define(String.class, String.class, (q, context) -> context.interrupt("child asks " + q, String.class));
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .define(String.class, String.class, (q, context) -> child.invoke(q + "!").map(answer -> "got " + answer));
    workflow.run("x", config).block(VERIFY);
    TaskState task = only(workflow.getState(config, true).block(VERIFY).tasks());
    StateSnapshot nested = task.state();
    assertNotNull(nested);
    assertEquals(List.of("child"), nested.next());
    assertNull(nested.values());
    TaskState childTask = only(nested.tasks());
    assertEquals("child", childTask.name());
    assertEquals(List.of("child asks x!"), values(childTask.interrupts()));
    assertTrue(nested.config().checkpointNamespace().startsWith("child:"));
    assertEquals("got yes", workflow.invoke(Command.resume("yes"), config).block(VERIFY));
  }

  @Test
  void aNestedEntrypointThatFailedShowsItsError() {
    boolean[] broken = {true};
    Entrypoint<String, String> child = Entrypoint.named("child")
        .define(String.class, String.class, (q, context) -> broken[0]
            ? Mono.error(new IllegalStateException("child broke")) : Mono.just(q + "?"));
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .define(String.class, String.class, (q, context) -> child.invoke(q));
    StepVerifier.create(workflow.invoke("x", config)).expectErrorMessage("child broke").verify(VERIFY);
    TaskState task = only(workflow.getState(config, true).block(VERIFY).tasks());
    assertEquals("child broke", task.error());
    StateSnapshot nested = task.state();
    assertNotNull(nested);
    assertEquals(List.of("child"), nested.next());
    assertEquals("child broke", only(nested.tasks()).error());
    assertEquals(nested.next(), workflow.getState(nested.config()).block(VERIFY).next());
    broken[0] = false;
    assertEquals("x?", workflow.invoke(Command.proceed(), config).block(VERIFY));
    assertTrue(workflow.getState(config, true).block(VERIFY).tasks().isEmpty());
  }

  @Test
  void graphsNestedTwoDeepShowEachLevel() {
    CompiledGraph<Map<String, Object>> middle = StateGraph.ofMap()
        .addNode("prepare", (state, context) -> Mono.just(Map.of("prepared", true)))
        .addNode("inner", reviewGraph())
        .addEdge(StateGraph.START, "prepare")
        .addEdge("prepare", "inner")
        .compile(CompileOptions.defaults().withName("middle"));
    CompiledGraph<Map<String, Object>> outer = StateGraph.ofMap()
        .addNode("outerNode", middle)
        .setEntryPoint("outerNode")
        .compile(CompileOptions.defaults().withName("outer").withCheckpointer(saver));
    outer.run(Map.of("topic", "owls"), config).block(VERIFY);

    TaskState top = only(outer.getState(config, true).block(VERIFY).tasks());
    assertEquals("outerNode", top.name());
    StateSnapshot middleState = top.state();
    assertNotNull(middleState);
    assertEquals(List.of("inner"), middleState.next());
    assertEquals(Map.of("topic", "owls", "prepared", true), middleState.values());
    TaskState innerTask = only(middleState.tasks());
    assertEquals(List.of("approve draft about owls?"), values(innerTask.interrupts()));
    StateSnapshot innerState = innerTask.state();
    assertNotNull(innerState);
    assertEquals(List.of("review"), innerState.next());
    String[] segments = innerState.config().checkpointNamespace().split("\\|");
    assertEquals(2, segments.length, innerState.config().checkpointNamespace());
    assertEquals(middleState.config().checkpointNamespace(), segments[0]);
    assertTrue(segments[1].startsWith("inner:"), segments[1]);
    assertEquals(innerState.values(), outer.getState(innerState.config()).block(VERIFY).values());
    assertEquals(top.interrupts(), only(innerState.tasks()).interrupts());
    outer.invoke(Command.resume("ok"), config).block(VERIFY);
    assertTrue(outer.getState(config, true).block(VERIFY).tasks().isEmpty());
  }

  @Test
  void aFailedNestedGraphShowsTheFailingNode() {
    AtomicInteger attempts = new AtomicInteger();
    CompiledGraph<Map<String, Object>> inner = StateGraph.ofMap()
        .addNode("fetch", (state, context) -> attempts.incrementAndGet() == 1
            ? Mono.error(new IllegalStateException("fetch failed")) : Mono.just(Map.of("fetched", "data")))
        .setEntryPoint("fetch")
        .compile(CompileOptions.defaults().withName("inner"));
    CompiledGraph<Map<String, Object>> parent = StateGraph.ofMap()
        .addNode("load", inner)
        .setEntryPoint("load")
        .compile(CompileOptions.defaults().withName("parent").withCheckpointer(saver));
    StepVerifier.create(parent.invoke(Map.of(), config)).expectErrorMessage("fetch failed").verify(VERIFY);

    TaskState load = only(parent.getState(config, true).block(VERIFY).tasks());
    assertEquals("fetch failed", load.error());
    StateSnapshot nested = load.state();
    assertNotNull(nested);
    assertEquals(List.of("fetch"), nested.next());
    TaskState fetch = only(nested.tasks());
    assertEquals("fetch failed", fetch.error());
    assertTrue(nested.interrupts().isEmpty());

    assertEquals(Map.of("fetched", "data"), parent.invoke(Command.proceed(), config).block(VERIFY));
    assertTrue(parent.getState(config, true).block(VERIFY).tasks().isEmpty());
  }

  @Test
  void interruptsRaisedInTasksCalledByANodeAreAttachedToThatNode() {
    Task<String, String> ask = Task.of("ask", String.class, (String q, TaskContext context) ->
        context.interrupt(q + "?", String.class));
    Task<String, String> viaTask = Task.of("via", String.class, (String q) -> ask.call(q));
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("left", (state, context) -> viaTask.call("left").map(answer -> Map.of("l", answer)))
        .addNode("right", (state, context) -> ask.call("right").map(answer -> Map.of("r", answer)))
        .addNode("calm", (state, context) -> Mono.just(Map.of("c", 1)))
        .addEdge(StateGraph.START, "left")
        .addEdge(StateGraph.START, "right")
        .addEdge(StateGraph.START, "calm")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    graph.run(Map.of(), config).block(VERIFY);
    StateSnapshot state = graph.getState(config).block(VERIFY);
    assertEquals(List.of("left", "right", "calm"), state.tasks().stream().map(TaskState::name).toList());
    assertEquals(List.of("left?"), values(state.tasks().get(0).interrupts()));
    assertEquals(List.of("right?"), values(state.tasks().get(1).interrupts()));
    assertTrue(state.tasks().get(2).interrupts().isEmpty());
    assertEquals(Map.of("c", 1), state.tasks().get(2).result());
    assertEquals(2, state.interrupts().size());
  }

  @Test
  void aForkedSuperstepRecordsTheNestedStateOfItsNewRunOnly() {
    CompiledGraph<Map<String, Object>> parent = StateGraph.ofMap()
        .addNode("write", reviewGraph())
        .setEntryPoint("write")
        .compile(CompileOptions.defaults().withName("parent").withCheckpointer(saver));
    parent.run(Map.of("topic", "otters"), config).block(VERIFY);
    StateSnapshot paused = parent.getState(config).block(VERIFY);
    parent.invoke(Command.resume("first"), config).block(VERIFY);
    // back to the paused superstep with another answer: the nested graph runs again from there, drafting anew
    assertEquals("second", parent.invoke(Command.resume("second"), paused.config()).block(VERIFY).get("verdict"));
    assertEquals(2, drafted.get());
    StateSnapshot fork = parent.getStateHistory(config)
        .filter(snapshot -> "fork".equals(snapshot.metadata().get("source"))).blockFirst(VERIFY);
    List<String> nestedTexts = saver.get(config.threadId().orElseThrow(), "", fork.config().checkpointId().orElseThrow())
        .block(VERIFY).writes().stream()
        .filter(write -> write.channel().equals(dev.fluxgraph.checkpoint.PendingWrite.SUBGRAPH))
        .map(write -> write.value().path("state").path("text").asText(null))
        .filter(java.util.Objects::nonNull)
        .distinct().toList();
    assertEquals(List.of("draft about otters #2"), nestedTexts, "the old run's nested states are not copied");
  }

  @Test
  void updateStateIntoANestedNamespaceIsRefusedForEntrypointsToo() {
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .define(String.class, String.class, (q, context) -> Mono.just(q));
    RunConfig nested = config.withCheckpointNamespace("child:123");
    assertThrows(InvalidUpdateException.class, () -> workflow.updateState(nested, "v").block(VERIFY));
    assertThrows(IllegalArgumentException.class, () -> workflow.invoke("x", nested).block(VERIFY));
    assertThrows(IllegalArgumentException.class, () -> workflow.stream("x", nested).blockLast(VERIFY));
    assertThrows(IllegalArgumentException.class, () -> config.withCheckpointNamespace("a||b"));
  }
}
