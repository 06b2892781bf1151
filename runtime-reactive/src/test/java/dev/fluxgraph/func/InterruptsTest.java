package dev.fluxgraph.func;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.GraphInterruptedException;
import dev.fluxgraph.errors.InvalidCommandException;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.Interrupt;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** SEMANTICS §3: pausing, resuming, interrupt ids, several interrupts. */
class InterruptsTest {

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());

  @Test
  void severalInterruptsInOneTaskAreResumedOneByOne() {
    AtomicInteger bodyRuns = new AtomicInteger();
    Task<String, String> ask = Task.of("ask", String.class, (String name, TaskContext context) -> {
      bodyRuns.incrementAndGet();
      return context.interrupt("first?", String.class)
          .flatMap(first -> context.interrupt("second?", String.class).map(second -> name + first + second));
    });
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .define(String.class, String.class, (input, context) -> ask.call(input));

    GraphOutput<String> paused1 = workflow.run("x", config).block();
    assertTrue(paused1.interrupted());
    assertEquals("first?", paused1.interrupts().get(0).value());

    GraphOutput<String> paused2 = workflow.run(Command.resume("1"), config).block();
    assertEquals(List.of("second?"), paused2.interrupts().stream().map(Interrupt::value).toList());
    assertNotEquals(paused1.interrupts().get(0).id(), paused2.interrupts().get(0).id(),
        "every interrupt has its own id");

    StepVerifier.create(workflow.invoke(Command.resume("2"), config)).expectNext("x12").verifyComplete();
    assertEquals(3, bodyRuns.get(), "the task re-executes from the top on each resume");
  }

  @Test
  void parallelTasksThatEachInterruptAreReportedTogetherAndResumedById() {
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    Task<String, String> review = Task.of("review", String.class, (String item, TaskContext context) -> {
      runs.computeIfAbsent(item, key -> new AtomicInteger()).incrementAndGet();
      return Mono.delay(Duration.ofMillis(item.equals("a") ? 1 : 30))
          .then(context.interrupt("approve " + item + "?", String.class))
          .map(answer -> item + "=" + answer);
    });
    Task<String, String> fast = Task.of("fast", String.class, item -> Mono.just(item.toUpperCase()));
    Entrypoint<List<String>, List<String>> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .define(new dev.fluxgraph.types.TypeRef<List<String>>() { }, new dev.fluxgraph.types.TypeRef<List<String>>() { },
            (items, context) -> Mono.zip(review.call("a"), review.call("b"), fast.call("c"))
                .map(t -> List.of(t.getT1(), t.getT2(), t.getT3())));

    GraphOutput<List<String>> paused = workflow.run(List.of("a", "b"), config).block();
    assertEquals(2, paused.interrupts().size(), "both interrupts are reported, not only the first");
    assertEquals(2, new HashSet<>(paused.interrupts().stream().map(Interrupt::id).toList()).size());

    StateSnapshot state = workflow.getState(config).block();
    assertEquals(List.of("workflow"), state.next());
    assertEquals(paused.interrupts(), state.interrupts());

    StepVerifier.create(workflow.invoke(Command.resume("yes"), config))
        .expectErrorSatisfies(error -> {
          assertTrue(error instanceof InvalidCommandException);
          for (Interrupt interrupt : paused.interrupts()) {
            assertTrue(error.getMessage().contains(interrupt.id()), error.getMessage());
          }
        })
        .verify(Duration.ofSeconds(5));

    Interrupt forA = paused.interrupts().stream().filter(i -> "approve a?".equals(i.value())).findFirst().orElseThrow();
    Interrupt forB = paused.interrupts().stream().filter(i -> "approve b?".equals(i.value())).findFirst().orElseThrow();
    GraphOutput<List<String>> partly = workflow.run(Command.resumeById(Map.of(forA.id(), "ok")), config).block();
    assertEquals(List.of(forB), partly.interrupts(), "answering a subset leaves the rest pending");

    StepVerifier.create(workflow.invoke(Command.resumeById(Map.of(forB.id(), "fine")), config))
        .expectNext(List.of("a=ok", "b=fine", "C"))
        .verifyComplete();
  }

  @Test
  void aTaskThatPausesAtOnceDoesNotEndTheRunBeforeItsSiblingsStart() {
    Task<String, String> ask = Task.of("ask", String.class,
        (String item, TaskContext context) -> context.interrupt("now " + item, String.class));
    Task<String, String> slow = Task.of("slow", String.class,
        (String item) -> Mono.delay(Duration.ofMillis(20)).then(Interrupts.interrupt("later " + item, String.class)));
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver)
        .define(String.class, String.class, (input, context) -> Mono.zip(ask.call(input), slow.call(input))
            .map(t -> t.getT1() + t.getT2()));
    GraphOutput<String> paused = workflow.run("x", config).block();
    assertEquals(List.of("now x", "later x"), paused.interrupts().stream().map(Interrupt::value).toList());
  }

  @Test
  void interruptInTheEntrypointBodyAndInvokeErrors() {
    Entrypoint<String, String> workflow = Entrypoint.named("review").checkpointer(saver)
        .define(String.class, String.class, (topic, context) ->
            context.interrupt(Map.of("question", "Please provide a review", "essay", topic), String.class)
                .map(review -> topic + ": " + review));
    StepVerifier.create(workflow.invoke("cats", config))
        .expectErrorSatisfies(error -> {
          GraphInterruptedException paused = (GraphInterruptedException) error;
          assertEquals(Map.of("question", "Please provide a review", "essay", "cats"),
              paused.interrupts().get(0).value());
        })
        .verify(Duration.ofSeconds(5));
    List<StreamChunk> chunks = workflow.stream(Command.resume("great"), config, StreamMode.UPDATES)
        .collectList().block();
    assertEquals(List.of(Map.of("review", "cats: great")), chunks.stream().map(StreamChunk::data).toList());
  }

  @Test
  void interruptIdsAreStableAcrossReplays() {
    Task<Integer, Integer> ask = Task.of("ask", Integer.class,
        (Integer n, TaskContext context) -> context.interrupt("n=" + n, Integer.class));
    Entrypoint<Integer, Integer> workflow = Entrypoint.named("w").checkpointer(saver)
        .define(Integer.class, Integer.class, (n, context) -> ask.call(n));
    String first = workflow.run(1, config).block().interrupts().get(0).id();
    String again = workflow.run(Command.proceed(), config).block().interrupts().get(0).id();
    assertEquals(first, again);
    StepVerifier.create(workflow.invoke(Command.resumeById(Map.of(first, 7)), config)).expectNext(7).verifyComplete();
  }

  @Test
  void resumeValuesArePersistedSoLaterInterruptsSeeEarlierAnswersOnReplay() {
    AtomicInteger sideEffects = new AtomicInteger();
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver)
        .define(String.class, String.class, (input, context) -> {
          sideEffects.incrementAndGet(); // outside a task: runs again on every resume, as documented
          return context.interrupt("a?", String.class)
              .flatMap(a -> context.interrupt("b?", String.class).map(b -> a + b));
        });
    workflow.run("go", config).block();
    workflow.run(Command.resume("A"), config).block();
    // a fresh saver instance reading the same data would see the same; here the answer "A" must come back on replay
    StepVerifier.create(workflow.invoke(Command.resume("B"), config)).expectNext("AB").verifyComplete();
    assertEquals(3, sideEffects.get());
  }

  @Test
  void newInputAbandonsAPausedRun() {
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver)
        .define(String.class, String.class, (input, context) -> input.equals("ask")
            ? context.interrupt("?", String.class) : Mono.just("done " + input));
    assertTrue(workflow.run("ask", config).block().interrupted());
    StepVerifier.create(workflow.invoke("other", config)).expectNext("done other").verifyComplete();
    StepVerifier.create(workflow.invoke(Command.resume("late"), config))
        .expectError(InvalidCommandException.class)
        .verify(Duration.ofSeconds(5));
  }

  @Test
  void interruptInsideANestedTaskPausesAndResumesIntoIt() {
    AtomicInteger outerRuns = new AtomicInteger();
    Task<String, String> inner = Task.of("inner", String.class,
        (String s, TaskContext context) -> context.interrupt("inner " + s, String.class));
    Task<String, String> outer = Task.of("outer", String.class, (String s) -> {
      outerRuns.incrementAndGet();
      return Mono.zip(inner.call(s), Mono.just("!").subscribeOn(Schedulers.parallel()))
          .map(t -> t.getT1() + t.getT2());
    });
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver)
        .define(String.class, String.class, (input, context) -> outer.call(input));
    GraphOutput<String> paused = workflow.run("x", config).block();
    assertEquals("inner x", paused.interrupts().get(0).value());
    StepVerifier.create(workflow.invoke(Command.resume("answer"), config)).expectNext("answer!").verifyComplete();
    assertEquals(2, outerRuns.get());
  }
}
