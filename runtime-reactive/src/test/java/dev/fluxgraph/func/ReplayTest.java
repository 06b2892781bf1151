package dev.fluxgraph.func;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.TypeRef;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** SEMANTICS §1–2: checkpoints of a run, task identity and replay. */
class ReplayTest {

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
  private final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();

  private <I, O> Task<I, O> counted(String name, Class<O> type, java.util.function.Function<I, Mono<O>> body) {
    return Task.of(name, type, (I input) -> {
      runs.computeIfAbsent(name + "(" + input + ")", key -> new AtomicInteger()).incrementAndGet();
      return body.apply(input);
    });
  }

  private static Duration jitter() {
    return Duration.ofMillis(ThreadLocalRandom.current().nextInt(0, 8));
  }

  @RepeatedTest(10)
  void taskIdsDoNotDependOnTiming() {
    Task<Integer, Integer> a = counted("a", Integer.class, n -> Mono.delay(jitter()).thenReturn(n * 10));
    Task<Integer, Integer> b = counted("b", Integer.class, n -> Mono.delay(jitter()).thenReturn(n * 100));
    Task<Integer, Integer> t = counted("t", Integer.class, n -> Mono.delay(jitter()).thenReturn(n + 1));
    AtomicInteger attempt = new AtomicInteger();
    Entrypoint<Integer, List<Integer>> workflow = Entrypoint.named("w").checkpointer(saver)
        .define(TypeRef.of(Integer.class), new TypeRef<List<Integer>>() { }, (n, context) ->
            Mono.zip(a.call(1).flatMap(t::call), b.call(2).flatMap(t::call))
                .flatMap(pair -> attempt.getAndIncrement() == 0
                    ? Mono.error(new IllegalStateException("fail after both branches"))
                    : Mono.just(List.of(pair.getT1(), pair.getT2()))));
    StepVerifier.create(workflow.invoke(0, config)).expectError(IllegalStateException.class).verify(Duration.ofSeconds(5));
    StepVerifier.create(workflow.invoke(Command.proceed(), config)).expectNext(List.of(11, 201)).verifyComplete();
    runs.forEach((call, count) -> assertEquals(1, count.get(), call + " ran " + count + " times"));
    assertEquals(4, runs.size());
  }

  @Test
  void identicalCallsInOneScopeAreDistinctAndReplayInOrder() {
    AtomicInteger counter = new AtomicInteger();
    Task<String, Integer> next = Task.of("next", Integer.class, (String s) -> Mono.just(counter.incrementAndGet()));
    AtomicInteger attempt = new AtomicInteger();
    Entrypoint<String, List<Integer>> workflow = Entrypoint.named("w").checkpointer(saver)
        .define(TypeRef.of(String.class), new TypeRef<List<Integer>>() { }, (s, context) ->
            next.call("x").flatMap(first -> next.call("x").flatMap(second -> attempt.getAndIncrement() == 0
                ? Mono.error(new IllegalStateException("boom")) : Mono.just(List.of(first, second)))));
    StepVerifier.create(workflow.invoke("go", config)).expectError().verify(Duration.ofSeconds(5));
    StepVerifier.create(workflow.invoke(Command.proceed(), config)).expectNext(List.of(1, 2)).verifyComplete();
    assertEquals(2, counter.get());
  }

  @Test
  void inputAndLoopCheckpointsWithStepsCountingAcrossRuns() {
    Task<Integer, Integer> twice = Task.of("twice", Integer.class, n -> Mono.just(n * 2));
    Entrypoint<Integer, Integer> workflow = Entrypoint.named("w").checkpointer(saver)
        .define(Integer.class, Integer.class, (n, context) -> twice.call(n));
    StepVerifier.create(workflow.invoke(1, config)).expectNext(2).verifyComplete();
    StepVerifier.create(workflow.invoke(5, config)).expectNext(10).verifyComplete();
    List<StateSnapshot> history = workflow.getStateHistory(config).collectList().block();
    assertEquals(List.of("loop", "input", "loop", "input"),
        history.stream().map(s -> s.metadata().get("source")).toList());
    assertEquals(List.of(2, 1, 0, -1), history.stream().map(s -> s.metadata().get("step")).toList());
    assertEquals(List.of(10, 2, 2), history.subList(0, 3).stream().map(StateSnapshot::values).toList());
    assertEquals(null, history.get(3).values());
    // an input checkpoint lists the entrypoint as its work; the finished task is not pending, so not listed
    assertEquals(1, history.get(1).tasks().size());
    assertEquals("w", history.get(1).tasks().get(0).name());
    assertEquals(null, history.get(1).tasks().get(0).result());
    assertEquals(history.get(1).config(), history.get(0).parentConfig());
    assertTrue(history.get(0).next().isEmpty());
    assertEquals(List.of("w"), history.get(1).next());
  }

  @Test
  void failedTasksRunAgainAndSucceededOnesNever() {
    AtomicInteger flaky = new AtomicInteger();
    Task<String, String> ok = counted("ok", String.class, s -> Mono.just(s + "!"));
    Task<String, String> bad = Task.of("bad", String.class,
        (String s) -> flaky.incrementAndGet() < 3 ? Mono.error(new IllegalStateException("down")) : Mono.just(s + "?"));
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver)
        .define(String.class, String.class, (s, context) -> ok.call(s).flatMap(bad::call));
    StepVerifier.create(workflow.invoke("x", config)).expectErrorMessage("down").verify(Duration.ofSeconds(5));
    StateSnapshot failed = workflow.getState(config).block();
    assertEquals(List.of("w"), failed.next());
    assertEquals(1, failed.tasks().size(), failed.tasks().toString());
    assertEquals("w", failed.tasks().get(0).name());
    assertEquals("down", failed.tasks().get(0).error());
    StepVerifier.create(workflow.invoke(Command.proceed(), config)).expectErrorMessage("down").verify(Duration.ofSeconds(5));
    StepVerifier.create(workflow.invoke(Command.proceed(), config)).expectNext("x!?").verifyComplete();
    assertEquals(1, runs.get("ok(x)").get());
    assertEquals(3, flaky.get());
    // once completed, proceed returns the value without running anything
    StepVerifier.create(workflow.invoke(Command.proceed(), config)).expectNext("x!?").verifyComplete();
    assertEquals(3, flaky.get());
  }

  @Test
  void valuesAreSerializedEvenWithoutACheckpointer() {
    Task<String, Object> leaky = Task.of("leaky", Object.class, s -> Mono.just(new Object()));
    Entrypoint<String, Object> workflow = Entrypoint.named("w")
        .define(String.class, Object.class, (s, context) -> leaky.call(s));
    StepVerifier.create(workflow.invoke("x", RunConfig.none()))
        .expectErrorSatisfies(error -> {
          assertEquals(dev.fluxgraph.errors.SerializationException.class, error.getClass());
          assertTrue(error.getMessage().contains("leaky"), error.getMessage());
        })
        .verify(Duration.ofSeconds(5));
  }
}
