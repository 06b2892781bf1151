package dev.fluxgraph.func;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.internal.Output;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/** SEMANTICS §5: backpressure and cancellation. */
class StreamingControlTest {

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());

  @Test
  void writeWaitsForDemand() {
    AtomicInteger written = new AtomicInteger();
    Entrypoint<Integer, Integer> producer = Entrypoint.named("producer")
        .define(Integer.class, Integer.class, (n, context) -> Flux.range(0, n)
            .concatMap(i -> context.writer().write(i).doOnSuccess(done -> written.incrementAndGet()))
            .then(Mono.just(n)));
    StepVerifier.create(producer.stream(10_000, RunConfig.none(), StreamMode.CUSTOM), 0)
        .expectSubscription()
        .expectNoEvent(Duration.ofMillis(50))
        .then(() -> assertEquals(0, written.get(), "nothing is written without demand"))
        .thenRequest(3)
        .expectNextCount(3)
        .expectNoEvent(Duration.ofMillis(50))
        .then(() -> assertTrue(written.get() <= 3, "the producer waits for demand, wrote " + written.get()))
        .thenRequest(Long.MAX_VALUE)
        .expectNextCount(9_997)
        .verifyComplete();
  }

  @Test
  void engineChunksWaitForDemandTooSoASlowSubscriberSlowsTheRun() {
    AtomicInteger started = new AtomicInteger();
    Task<Integer, Integer> step = Task.of("step", Integer.class, (Integer i) -> {
      started.incrementAndGet();
      return Mono.just(i);
    });
    Entrypoint<Integer, Integer> workflow = Entrypoint.named("w")
        .define(Integer.class, Integer.class, (n, context) -> Flux.range(0, n).concatMap(step::call).last());
    StepVerifier.create(workflow.stream(100, RunConfig.none(), StreamMode.UPDATES), 2)
        .expectNextCount(2)
        .expectNoEvent(Duration.ofMillis(50))
        .then(() -> assertTrue(started.get() <= 3, "tasks started without demand: " + started.get()))
        .thenRequest(Long.MAX_VALUE)
        .expectNextCount(99)
        .verifyComplete();
  }

  @Test
  void emitOverflowFailsTheRunWithAClearError() {
    Entrypoint<Integer, Integer> chatty = Entrypoint.named("chatty")
        .define(Integer.class, Integer.class, (n, context) -> {
          for (int i = 0; i < n; i++) {
            context.writer().emit(i);
          }
          return Mono.just(n);
        });
    StepVerifier.create(chatty.stream(Output.EMIT_BUFFER_LIMIT * 4, RunConfig.none(), StreamMode.CUSTOM), 1)
        .expectNextCount(1)
        .expectNoEvent(Duration.ofMillis(100)) // the subscriber stays slow while the body emits
        .thenRequest(Long.MAX_VALUE)
        .thenConsumeWhile(chunk -> true)
        .expectErrorSatisfies(error -> assertTrue(error.getMessage().contains("fell more than "
            + Output.EMIT_BUFFER_LIMIT), error.getMessage()))
        .verify(Duration.ofSeconds(5));
  }

  @Test
  void emitWithinTheBoundIsDeliveredInOrder() {
    Entrypoint<Integer, Integer> chatty = Entrypoint.named("chatty")
        .define(Integer.class, Integer.class, (n, context) -> {
          for (int i = 0; i < n; i++) {
            context.writer().emit(i);
          }
          return Mono.just(n);
        });
    List<Object> data = chatty.stream(500, RunConfig.none(), StreamMode.CUSTOM)
        .map(StreamChunk::data).collectList().block();
    assertEquals(Flux.range(0, 500).collectList().block(), data);
  }

  @Test
  void cancellingTheSubscriptionCancelsRunningTaskBodiesAndTheThreadStaysResumable() {
    AtomicBoolean slowCancelled = new AtomicBoolean();
    AtomicInteger fastRuns = new AtomicInteger();
    Sinks.One<String> never = Sinks.one();
    AtomicInteger slowRuns = new AtomicInteger();
    Task<String, String> fast = Task.of("fast", String.class, (String s) -> {
      fastRuns.incrementAndGet();
      return Mono.just(s + "-fast");
    });
    Task<String, String> slow = Task.of("slow", String.class, (String s) -> slowRuns.incrementAndGet() == 1
        ? never.asMono().doOnCancel(() -> slowCancelled.set(true))
        : Mono.just(s + "-slow"));
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver)
        .define(String.class, String.class, (s, context) -> fast.call(s).flatMap(slow::call));

    Sinks.One<StreamChunk> firstChunk = Sinks.one();
    Disposable subscription = workflow.stream("x", config, StreamMode.UPDATES)
        .subscribe(chunk -> firstChunk.tryEmitValue(chunk));
    assertEquals("x-fast", ((java.util.Map<?, ?>) firstChunk.asMono().block(Duration.ofSeconds(5)).data()).get("fast"));
    subscription.dispose();
    assertTrue(slowCancelled.get(), "the running task body was cancelled");

    StepVerifier.create(workflow.invoke(Command.proceed(), config)).expectNext("x-fast-slow").verifyComplete();
    assertEquals(1, fastRuns.get(), "the finished task replays");
  }
}
