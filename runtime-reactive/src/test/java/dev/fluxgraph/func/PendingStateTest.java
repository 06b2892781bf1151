package dev.fluxgraph.func;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.Interrupt;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.TaskState;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * SEMANTICS §4: the tasks of an entrypoint's snapshot are its pending work, the entrypoint itself, carrying every
 * pending interrupt of the run wherever it was raised, and the error of a failed run.
 */
class PendingStateTest {

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());

  private final Task<String, String> step1 = Task.of("step_1", String.class, q -> Mono.just(q + " bar"));
  private final Task<String, String> feedback = Task.of("human_feedback", String.class,
      (String q, TaskContext context) -> context.interrupt("Please provide feedback: " + q, String.class)
          .map(answer -> q + " " + answer));
  private final Task<String, String> step3 = Task.of("step_3", String.class, q -> Mono.just(q + " qux"));

  /** The one task of a pending entrypoint run: named after it, no result, the given interrupts and error. */
  private static TaskState onlyTask(StateSnapshot state, String name) {
    assertEquals(List.of(name), state.next());
    assertEquals(1, state.tasks().size(), state.tasks().toString());
    TaskState task = state.tasks().get(0);
    assertEquals(name, task.name());
    assertNull(task.result());
    assertNull(task.state());
    return task;
  }

  @Test
  void aRunPausedInATaskShowsTheEntrypointWithTheInterruptAndNotTheFinishedTasks() {
    Entrypoint<String, String> graph = Entrypoint.named("graph").checkpointer(saver)
        .define(String.class, String.class, (q, context) -> step1.call(q).flatMap(feedback::call)
            .flatMap(step3::call));
    graph.run("foo", config).block();
    StateSnapshot state = graph.getState(config).block();
    TaskState task = onlyTask(state, "graph");
    assertEquals(List.of("Please provide feedback: foo bar"), task.interrupts().stream().map(Interrupt::value)
        .toList());
    assertEquals(state.interrupts(), task.interrupts());
    assertNull(task.error());
    assertEquals(state.tasks(), graph.getState(config, true).block().tasks(), "no nested run: nothing more to show");

    StepVerifier.create(graph.invoke(Command.resume("baz"), config)).expectNext("foo bar baz qux").verifyComplete();
    StateSnapshot done = graph.getState(config).block();
    assertTrue(done.next().isEmpty());
    assertTrue(done.tasks().isEmpty(), "a completed run has no pending work");
    assertTrue(done.interrupts().isEmpty());
    // the input checkpoint of the completed run still names the entrypoint; its interrupt was answered
    StateSnapshot input = graph.getState(done.parentConfig()).block();
    assertTrue(onlyTask(input, "graph").interrupts().isEmpty());
    assertEquals(task.id(), input.tasks().get(0).id(), "the task is the run's root call, with one id");
  }

  @Test
  void aRunPausedInItsBodyShowsTheInterruptOnTheEntrypoint() {
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .define(String.class, String.class, (q, context) -> step1.call(q)
            .flatMap(done -> context.interrupt("ok to send " + done + "?", Boolean.class)
                .map(ok -> ok ? done : "dropped")));
    workflow.run("foo", config).block();
    TaskState task = onlyTask(workflow.getState(config).block(), "workflow");
    assertEquals(List.of("ok to send foo bar?"), task.interrupts().stream().map(Interrupt::value).toList());
  }

  @Test
  void anInterruptTwoTasksDeepIsOnTheEntrypoint() {
    Task<String, String> inner = Task.of("inner", String.class, (String q, TaskContext context) ->
        context.interrupt("deep " + q, String.class));
    Task<String, String> outer = Task.of("outer", String.class, (String q) -> inner.call(q + "!"));
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .define(String.class, String.class, (q, context) -> Task.of("top", String.class, (String s) -> outer.call(s)).call(q));
    workflow.run("x", config).block();
    TaskState task = onlyTask(workflow.getState(config).block(), "workflow");
    assertEquals(List.of("deep x!"), task.interrupts().stream().map(Interrupt::value).toList());
    StepVerifier.create(workflow.invoke(Command.resume("up"), config)).expectNext("up").verifyComplete();
  }

  @Test
  void parallelInterruptsAreAllOnTheEntrypointAndLeaveOneByOne() {
    Task<String, String> ask = Task.of("ask", String.class, (String q, TaskContext context) ->
        context.interrupt(q + "?", String.class));
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .define(String.class, String.class, (q, context) -> Mono.zip(ask.call("a"), ask.call("b"))
            .map(both -> both.getT1() + both.getT2()));
    workflow.run("x", config).block();
    StateSnapshot state = workflow.getState(config).block();
    TaskState task = onlyTask(state, "workflow");
    assertEquals(List.of("a?", "b?"), task.interrupts().stream().map(Interrupt::value).sorted().toList());
    assertEquals(state.interrupts(), task.interrupts());
    String first = task.interrupts().get(0).id();
    workflow.run(Command.resumeById(Map.of(first, "1")), config).block();
    StateSnapshot half = workflow.getState(config).block();
    assertEquals(List.of(task.interrupts().get(1)), onlyTask(half, "workflow").interrupts(),
        "the answered interrupt is no longer pending");
  }

  @Test
  void aFailedRunShowsItsErrorOnTheEntrypointUntilAContinuationPauses() {
    boolean[] broken = {true};
    Task<String, String> flaky = Task.of("flaky", String.class, (String q) -> broken[0]
        ? Mono.error(new IllegalStateException("service down")) : Mono.just(q + "+"));
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .define(String.class, String.class, (q, context) -> step1.call(q).flatMap(flaky::call)
            .flatMap(feedback::call));
    StepVerifier.create(workflow.invoke("foo", config)).expectErrorMessage("service down")
        .verify(Duration.ofSeconds(5));
    TaskState failed = onlyTask(workflow.getState(config).block(), "workflow");
    assertEquals("service down", failed.error());
    assertTrue(failed.interrupts().isEmpty());

    broken[0] = false;
    workflow.run(Command.proceed(), config).block();
    TaskState paused = onlyTask(workflow.getState(config).block(), "workflow");
    assertNull(paused.error(), "the continuation paused: the earlier failure is no longer the run's state");
    assertEquals(List.of("Please provide feedback: foo bar+"), paused.interrupts().stream().map(Interrupt::value)
        .toList());
  }

  @Test
  void historyShowsThePendingEntrypointAtEveryInputCheckpoint() {
    Entrypoint<String, String> graph = Entrypoint.named("graph").checkpointer(saver)
        .define(String.class, String.class, (q, context) -> step1.call(q).flatMap(feedback::call));
    graph.run("foo", config).block();
    graph.invoke(Command.resume("ok"), config).block();
    List<StateSnapshot> history = graph.getStateHistory(config).collectList().block();
    assertEquals(List.of("loop", "input"), history.stream().map(s -> s.metadata().get("source")).toList());
    assertTrue(history.get(0).tasks().isEmpty());
    assertEquals(List.of("graph"), history.get(1).tasks().stream().map(TaskState::name).toList());
  }
}
