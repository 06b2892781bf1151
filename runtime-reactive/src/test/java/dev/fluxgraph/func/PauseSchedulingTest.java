package dev.fluxgraph.func;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.CompiledGraph;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.Interrupt;
import dev.fluxgraph.types.RunConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * SEMANTICS §4, last point: a pause never loses or repeats work because of scheduling. Branches hop threads between
 * two tasks ({@code publishOn}, {@code delayElement}) while a sibling branch pauses; every task body is counted as
 * started, finished and cancelled, across the pause and the resume. User timeouts and retries around a paused call
 * must not turn the pause into a timeout or a retry.
 */
class PauseSchedulingTest {

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
  private final Map<String, Counts> counts = new ConcurrentHashMap<>();

  /** How often a task body started, delivered its value, and was cancelled. */
  private static final class Counts {
    final AtomicInteger started = new AtomicInteger();
    final AtomicInteger finished = new AtomicInteger();
    final AtomicInteger cancelled = new AtomicInteger();

    @Override
    public String toString() {
      return "started " + started + ", finished " + finished + ", cancelled " + cancelled;
    }
  }

  private Counts counts(String name) {
    return counts.computeIfAbsent(name, key -> new Counts());
  }

  private <I, O> Task<I, O> counted(String name, Class<O> type, Function<I, Mono<O>> body) {
    return counted(name, type, (I input, TaskContext context) -> body.apply(input));
  }

  private <I, O> Task<I, O> counted(String name, Class<O> type, BiFunction<I, TaskContext, Mono<O>> body) {
    return Task.of(name, type, (I input, TaskContext context) -> {
      Counts c = counts(name);
      c.started.incrementAndGet();
      AtomicBoolean done = new AtomicBoolean(); // Reactor may cancel a Mono after its value: that is no cancellation
      return body.apply(input, context)
          .doOnSuccess(value -> {
            done.set(true);
            c.finished.incrementAndGet();
          })
          .doOnCancel(() -> {
            if (!done.get()) {
              c.cancelled.incrementAndGet();
            }
          });
    });
  }

  private static Duration jitter() {
    return Duration.ofMillis(ThreadLocalRandom.current().nextInt(0, 6));
  }

  private void assertNothingRunningOrCancelled(String when) {
    counts.forEach((name, c) -> {
      if (!name.equals("ask")) { // the paused task: it waits for its answer until the run ends
        assertEquals(0, c.cancelled.get(), when + ": '" + name + "' was cancelled (" + c + ")");
        assertEquals(c.started.get(), c.finished.get(), when + ": '" + name + "' did not finish (" + c + ")");
      }
    });
  }

  private void assertRanOnce(String... names) {
    for (String name : names) {
      assertEquals(1, counts(name).started.get(), "'" + name + "' ran " + counts(name));
    }
  }

  /** Runs "ok?" in virtual time for {@code await}: the run must pause on exactly that one question. */
  private void assertPausesAskingOk(Entrypoint<String, String> workflow, Duration await) {
    StepVerifier.withVirtualTime(() -> workflow.run("ok?", config))
        .thenAwait(await)
        .assertNext(output -> assertEquals(List.of("ok?"),
            output.interrupts().stream().map(Interrupt::value).toList()))
        .verifyComplete();
  }

  /** Answers "yes": the resumed run must complete with {@code expected}. */
  private void assertResumesTo(Entrypoint<String, String> workflow, String expected) {
    StepVerifier.create(workflow.invoke(Command.resume("yes"), config)).expectNext(expected).expectComplete()
        .verify(Duration.ofSeconds(5));
  }

  /** A task that takes a second (of virtual time, under withVirtualTime): the sibling a pause has to wait for. */
  private Task<Integer, Integer> slow() {
    return counted("slow", Integer.class, n -> Mono.delay(Duration.ofSeconds(1)).thenReturn(n + 1));
  }

  private Task<String, String> ask(Duration delay) {
    return counted("ask", String.class, (String question, TaskContext context) ->
        Mono.delay(delay).then(context.interrupt(question, String.class)));
  }

  /** task1 → publishOn(boundedElastic) → delayElement → task2, all with random delays. */
  private Mono<Integer> hoppingChain(Task<Integer, Integer> task1, Task<Integer, Integer> task2) {
    return task1.call(1).publishOn(Schedulers.boundedElastic()).delayElement(jitter()).flatMap(task2::call);
  }

  @RepeatedTest(30)
  void aBranchBetweenTwoTasksNeitherLosesNorRepeatsWorkWhenItsSiblingPauses() {
    Task<String, String> ask = ask(jitter());
    Task<Integer, Integer> task1 = counted("task1", Integer.class, n -> Mono.delay(jitter()).thenReturn(n + 1));
    Task<Integer, Integer> task2 = counted("task2", Integer.class, n -> Mono.delay(jitter()).thenReturn(n * 10));
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .define(String.class, String.class, (input, context) ->
            Mono.zip(ask.call(input), hoppingChain(task1, task2)).map(pair -> pair.getT1() + pair.getT2()));

    GraphOutput<String> paused = workflow.run("ok?", config).block(Duration.ofSeconds(10));
    assertTrue(paused.interrupted());
    assertEquals(List.of("ok?"), paused.interrupts().stream().map(Interrupt::value).toList());
    assertNothingRunningOrCancelled("after the pause");

    StepVerifier.create(workflow.invoke(Command.resume("yes"), config)).expectNext("yes20").expectComplete()
        .verify(Duration.ofSeconds(10));
    assertNothingRunningOrCancelled("after the resume");
    assertRanOnce("task1", "task2");
    assertEquals(2, counts("ask").started.get(), "the interrupted task runs again on resume, once");
  }

  @RepeatedTest(30)
  void theSameInsideTasksNestedInATask() {
    Task<String, String> ask = ask(jitter());
    Task<Integer, Integer> task1 = counted("task1", Integer.class, n -> Mono.delay(jitter()).thenReturn(n + 1));
    Task<Integer, Integer> task2 = counted("task2", Integer.class, n -> Mono.delay(jitter()).thenReturn(n * 10));
    Task<String, String> outer = Task.of("outer", String.class, (String question) ->
        Mono.zip(ask.call(question), hoppingChain(task1, task2)).map(pair -> pair.getT1() + pair.getT2()));
    Task<Integer, Integer> task3 = counted("task3", Integer.class, n -> Mono.delay(jitter()).thenReturn(n + 100));
    Task<Integer, Integer> task4 = counted("task4", Integer.class, n -> Mono.delay(jitter()).thenReturn(n + 1000));
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .define(String.class, String.class, (input, context) -> Mono.zip(outer.call(input),
            task3.call(0).publishOn(Schedulers.boundedElastic()).delayElement(jitter()).flatMap(task4::call))
            .map(pair -> pair.getT1() + "/" + pair.getT2()));

    GraphOutput<String> paused = workflow.run("ok?", config).block(Duration.ofSeconds(10));
    assertTrue(paused.interrupted());
    assertNothingRunningOrCancelled("after the pause");

    StepVerifier.create(workflow.invoke(Command.resume("yes"), config)).expectNext("yes20/1100").expectComplete()
        .verify(Duration.ofSeconds(10));
    assertNothingRunningOrCancelled("after the resume");
    assertRanOnce("task1", "task2", "task3", "task4");
  }

  @RepeatedTest(20)
  void theSameInsideAGraphNodeAndBetweenParallelNodes() {
    Task<String, String> ask = ask(jitter());
    Task<Integer, Integer> task1 = counted("task1", Integer.class, n -> Mono.delay(jitter()).thenReturn(n + 1));
    Task<Integer, Integer> task2 = counted("task2", Integer.class, n -> Mono.delay(jitter()).thenReturn(n * 10));
    Task<Integer, Integer> task3 = counted("task3", Integer.class, n -> Mono.delay(jitter()).thenReturn(n + 100));
    Task<Integer, Integer> task4 = counted("task4", Integer.class, n -> Mono.delay(jitter()).thenReturn(n + 1000));
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("review", (state, context) -> Mono.zip(ask.call("ok?"), hoppingChain(task1, task2))
            .map(pair -> Map.<String, Object>of("answer", pair.getT1() + pair.getT2())))
        .addNode("chain", (state, context) -> task3.call(0).publishOn(Schedulers.boundedElastic())
            .delayElement(jitter()).flatMap(task4::call).map(n -> Map.<String, Object>of("chain", n)))
        .addEdge(StateGraph.START, "review")
        .addEdge(StateGraph.START, "chain")
        .compile(CompileOptions.defaults().withCheckpointer(saver));

    GraphOutput<Map<String, Object>> paused = graph.run(Map.of(), config).block(Duration.ofSeconds(10));
    assertTrue(paused.interrupted());
    assertNothingRunningOrCancelled("after the pause");

    StepVerifier.create(graph.invoke(Command.resume("yes"), config))
        .expectNext(Map.of("answer", "yes20", "chain", 1100)).expectComplete().verify(Duration.ofSeconds(10));
    assertNothingRunningOrCancelled("after the resume");
    assertRanOnce("task1", "task2", "task3", "task4");
  }

  @Test
  void aUserTimeoutAroundAPausedCallDoesNotTurnThePauseIntoATimeout() {
    Task<String, String> ask = ask(Duration.ZERO);
    Task<Integer, Integer> slow = slow();
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .define(String.class, String.class, (input, context) -> Mono.zip(
            ask.call(input).timeout(Duration.ofMillis(100)), slow.call(1)).map(pair -> pair.getT1() + pair.getT2()));

    assertPausesAskingOk(workflow, Duration.ofSeconds(2));
    assertNothingRunningOrCancelled("after the pause");
    assertRanOnce("slow", "ask");

    assertResumesTo(workflow, "yes2");
    assertRanOnce("slow");
  }

  @Test
  void aUserTimeoutInsideATaskAroundAPausedCallPausesTheRun() {
    Task<String, String> ask = ask(Duration.ZERO);
    Task<Integer, Integer> slow = slow();
    Task<String, String> outer = counted("outer", String.class, (String question) -> Mono.zip(
        ask.call(question).timeout(Duration.ofMillis(100)).retry(1), slow.call(1))
        .map(pair -> pair.getT1() + pair.getT2()));
    Task<Integer, Integer> other = counted("other", Integer.class,
        n -> Mono.delay(Duration.ofSeconds(2)).thenReturn(n * 3));
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .define(String.class, String.class, (input, context) -> Mono.zip(outer.call(input), other.call(5))
            .map(pair -> pair.getT1() + "/" + pair.getT2()));

    assertPausesAskingOk(workflow, Duration.ofSeconds(3));
    assertEquals(1, counts("outer").started.get());
    assertEquals(0, counts("outer").finished.get(), "the task holding the unanswered interrupt did not finish");
    assertRanOnce("slow", "other", "ask");

    assertResumesTo(workflow, "yes2/15");
    assertRanOnce("slow", "other");
  }

  @Test
  void aUserRetryAroundATimedOutPausedCallDoesNotRunItAgain() {
    Task<String, String> ask = ask(Duration.ZERO);
    Task<Integer, Integer> slow = slow();
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .define(String.class, String.class, (input, context) -> Mono.zip(
            ask.call(input).timeout(Duration.ofMillis(100)).retry(3), slow.call(1))
            .map(pair -> pair.getT1() + pair.getT2()));

    StepVerifier.withVirtualTime(() -> workflow.run("ok?", config))
        .thenAwait(Duration.ofSeconds(2))
        .assertNext(output -> assertEquals(1, output.interrupts().size(), output.interrupts().toString()))
        .verifyComplete();
    assertNothingRunningOrCancelled("after the pause");
    assertRanOnce("slow", "ask");

    assertResumesTo(workflow, "yes2");
  }

  @Test
  void aUserTimeoutAndRetryAroundAnInterruptInTheBodyAskOnce() {
    Task<Integer, Integer> slow = slow();
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .define(String.class, String.class, (input, context) -> Mono.zip(
            context.interrupt(input, String.class).timeout(Duration.ofMillis(100)).retry(2), slow.call(1))
            .map(pair -> pair.getT1() + pair.getT2()));

    assertPausesAskingOk(workflow, Duration.ofSeconds(2));
    assertNothingRunningOrCancelled("after the pause");

    assertResumesTo(workflow, "yes2");
    assertRanOnce("slow");
  }

  @Test
  void aFallbackAfterAUserTimeoutOnAPausedCallStillPauses() {
    Task<String, String> ask = ask(Duration.ZERO);
    Task<Integer, Integer> slow = slow();
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .define(String.class, String.class, (input, context) -> Mono.zip(
            ask.call(input).timeout(Duration.ofMillis(100)).onErrorReturn("no answer"), slow.call(1))
            .map(pair -> pair.getT1() + pair.getT2()));

    StepVerifier.withVirtualTime(() -> workflow.run("ok?", config))
        .thenAwait(Duration.ofSeconds(2))
        .assertNext(output -> assertTrue(output.interrupted(), "an unanswered interrupt pauses the run"))
        .verifyComplete();
    assertResumesTo(workflow, "yes2");
    assertRanOnce("slow");
  }

  @Test
  void aTaskFailingBesideAPausedCallStillFailsTheRun() {
    Task<String, String> ask = ask(Duration.ZERO);
    Task<Integer, Integer> failing = counted("failing", Integer.class,
        n -> Mono.delay(Duration.ofMillis(20)).then(Mono.error(new IllegalStateException("broken"))));
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .define(String.class, String.class, (input, context) -> Mono.zip(
            ask.call(input).timeout(Duration.ofSeconds(5)), failing.call(1)).map(pair -> pair.getT1() + pair.getT2()));

    StepVerifier.create(workflow.run("ok?", config))
        .expectErrorMatches(error -> error instanceof IllegalStateException && error.getMessage().equals("broken"))
        .verify(Duration.ofSeconds(5));
  }
}
