package dev.fluxgraph.func;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.checkpoint.PendingWrite;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.RunConfig;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * Calls chained one after the other ({@code flatMap(task::call)}), whose results are handed to the next call on a
 * trampoline rather than from inside the previous call's stack.
 */
class TaskChainTest {

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
  private final AtomicInteger executions = new AtomicInteger();
  private final Task<Integer, Integer> addOne = Task.of("add_one", Integer.class, n -> {
    executions.incrementAndGet();
    return Mono.just(n + 1);
  });

  private static Mono<Integer> chain(Mono<Integer> first, int calls, Function<Integer, Mono<Integer>> call) {
    Mono<Integer> chained = first;
    for (int i = 0; i < calls; i++) {
      chained = chained.flatMap(call);
    }
    return chained;
  }

  @Test
  void aLongChainOfSynchronousCallsDoesNotGrowTheStack() {
    // Each call used to start on top of the previous one's stack frames: 150 calls overflowed a 1 MB stack. (Far
    // longer chains overflow in Reactor itself: request() and onSubscribe travel up the chain recursively.)
    Entrypoint<Integer, Integer> workflow = Entrypoint.named("chain").checkpointer(saver)
        .define(Integer.class, Integer.class, (n, context) -> chain(Mono.just(0), n, addOne::call));

    StepVerifier.create(workflow.invoke(1_000, config)).expectNext(1_000).verifyComplete();
    assertEquals(1_000, executions.get());
    long results = saver.get(config.threadId().orElseThrow(), "", null)
        .flatMap(latest -> saver.get(latest.checkpoint().threadId(), "", latest.checkpoint().parentId()))
        .map(input -> input.writes().stream().filter(w -> w.channel().equals(PendingWrite.RESULT)).count())
        .block();
    assertEquals(1_000, results, "every call of the chain recorded its result");
  }

  @Test
  void aChainResumedAfterAFailureReplaysTheCallsBeforeIt() {
    AtomicInteger failures = new AtomicInteger();
    Task<Integer, Integer> flaky = Task.of("flaky", Integer.class, n -> failures.getAndIncrement() == 0
        ? Mono.error(new IllegalStateException("first attempt fails")) : Mono.just(n + 1));
    Entrypoint<Integer, Integer> workflow = Entrypoint.named("chain").checkpointer(saver)
        .define(Integer.class, Integer.class, (n, context) ->
            chain(chain(Mono.just(0), 300, addOne::call).flatMap(flaky::call), 300, addOne::call));

    StepVerifier.create(workflow.invoke(0, config))
        .expectErrorMatches(error -> error.getMessage().equals("first attempt fails")).verify();
    assertEquals(300, executions.get());

    StepVerifier.create(workflow.invoke(Command.proceed(), config)).expectNext(601).verifyComplete();
    assertEquals(600, executions.get(), "the 300 calls before the failure replayed, the 300 after it ran");
  }

  @Test
  void aRunDoesNotPauseWhileAChainBesideAnInterruptStillHasCallsToMake() throws Exception {
    // The chain continues on the thread that opens the gate, after the run's own subscription has returned, while
    // the other branch waits for an answer: every call's result is handed on from the trampoline, and the run must
    // not count as paused before the last call of the chain has run.
    Sinks.One<Integer> gate = Sinks.one();
    Task<Integer, Integer> waitForGate = Task.of("gate", Integer.class, n -> gate.asMono());
    Task<Integer, String> ask = Task.of("ask", String.class,
        (Integer n, TaskContext context) -> context.interrupt("continue?", String.class));
    Entrypoint<Integer, String> workflow = Entrypoint.named("chain").checkpointer(saver)
        .define(Integer.class, String.class, (n, context) -> Mono.zip(ask.call(0),
                chain(waitForGate.call(0), 50, addOne::call))
            .map(both -> both.getT1() + " " + both.getT2()));

    CompletableFuture<GraphOutput<String>> run = workflow.run(0, config).toFuture();
    assertFalse(run.isDone(), "the gate's call is still running");
    gate.tryEmitValue(0);
    GraphOutput<String> paused = run.get(10, TimeUnit.SECONDS);
    assertEquals(List.of("continue?"), paused.interrupts().stream().map(i -> i.value()).toList());
    assertEquals(50, executions.get(), "the whole chain ran before the run paused");

    StepVerifier.create(workflow.invoke(Command.resume("yes"), config)).expectNext("yes 50").verifyComplete();
    assertEquals(50, executions.get(), "the chain replayed");
  }

  @Test
  void aCallCancelledBeforeItsResultIsDeliveredReleasesItsScope() {
    // Inside the first call's continuation, add_one completes at once and its result waits for that continuation
    // to return; meanwhile next() takes the other value and cancels it. The run must still be able to pause.
    Task<Integer, String> ask = Task.of("ask", String.class,
        (Integer n, TaskContext context) -> context.interrupt("continue?", String.class));
    Entrypoint<Integer, String> workflow = Entrypoint.named("chain").checkpointer(saver)
        .define(Integer.class, String.class, (n, context) -> Mono.zip(ask.call(0),
                addOne.call(0).flatMap(first -> Flux.merge(addOne.call(first), Mono.just(-1)).next()))
            .map(both -> both.getT1() + " " + both.getT2()));

    StepVerifier.create(workflow.run(0, config))
        .assertNext(paused -> assertEquals(1, paused.interrupts().size()))
        .expectComplete()
        .verify(Duration.ofSeconds(10));
    assertEquals(2, executions.get());
  }

  @Test
  void anErrorTravelsDownAChainToTheCallersHandler() {
    Task<Integer, Integer> fail = Task.of("fail", Integer.class,
        n -> Mono.error(new IllegalArgumentException("bad " + n)));
    Entrypoint<Integer, Integer> workflow = Entrypoint.named("chain").checkpointer(saver)
        .define(Integer.class, Integer.class, (n, context) -> chain(chain(Mono.just(0), 100, addOne::call)
            .flatMap(fail::call), 100, addOne::call)
            .onErrorResume(IllegalArgumentException.class, error -> Mono.just(-1)));

    StepVerifier.create(workflow.invoke(0, config)).expectNext(-1).verifyComplete();
    assertEquals(100, executions.get(), "nothing after the failed call ran");
  }
}
