package dev.fluxgraph.func;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.Checkpoint;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.CheckpointTuple;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.checkpoint.PendingWrite;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.Durability;
import dev.fluxgraph.types.RunConfig;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/** SEMANTICS §8: when writes reach the checkpointer, observed through a saver that records and can hold them. */
class DurabilityModesTest {

  /** Delegates to an InMemorySaver, logs every call, and can hold task writes until released. */
  static final class RecordingSaver implements CheckpointSaver {
    final InMemorySaver delegate = new InMemorySaver();
    final List<String> calls = new CopyOnWriteArrayList<>();
    volatile Sinks.Empty<Void> gate = null;

    void hold() {
      gate = Sinks.empty();
    }

    void release() {
      gate.tryEmitEmpty();
    }

    @Override
    public Mono<CheckpointTuple> get(String threadId, String namespace, @Nullable String checkpointId) {
      return delegate.get(threadId, namespace, checkpointId);
    }

    @Override
    public Flux<CheckpointTuple> list(String threadId, String namespace, @Nullable String before, int limit) {
      return delegate.list(threadId, namespace, before, limit);
    }

    @Override
    public Mono<Void> put(Checkpoint checkpoint) {
      return Mono.defer(() -> {
        calls.add("put " + checkpoint.metadata().get("source"));
        return delegate.put(checkpoint);
      });
    }

    @Override
    public Mono<Void> putWrites(String threadId, String namespace, String checkpointId, List<PendingWrite> writes) {
      return Mono.defer(() -> {
        String names = String.join(",", writes.stream().map(PendingWrite::taskName).toList());
        calls.add("writes " + names);
        Sinks.Empty<Void> held = gate;
        Mono<Void> wait = held == null ? Mono.empty() : held.asMono();
        return wait.then(delegate.putWrites(threadId, namespace, checkpointId, writes))
            .doOnSuccess(done -> calls.add("acked " + names));
      });
    }

    @Override
    public Mono<Void> deleteThread(String threadId) {
      return delegate.deleteThread(threadId);
    }
  }

  private final RecordingSaver saver = new RecordingSaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
  private final AtomicBoolean secondStarted = new AtomicBoolean();
  private final Task<String, String> first = Task.of("first", String.class, s -> Mono.just(s + "1"));
  private final Task<String, String> second = Task.of("second", String.class, (String s) -> {
    secondStarted.set(true);
    return Mono.just(s + "2");
  });

  private Entrypoint<String, String> workflow(Durability durability) {
    return Entrypoint.named("w").checkpointer(saver).durability(durability)
        .define(String.class, String.class, (s, context) -> first.call(s).flatMap(second::call));
  }

  @Test
  void syncDeliversATasksValueOnlyAfterItsWriteIsPersisted() {
    saver.hold();
    StepVerifier.create(workflow(Durability.SYNC).invoke("x", config))
        .expectSubscription()
        .expectNoEvent(Duration.ofMillis(100))
        .then(() -> assertFalse(secondStarted.get(), "the next task waits for the write of the first"))
        .then(saver::release)
        .expectNext("x12")
        .expectComplete()
        .verify(Duration.ofSeconds(5));
    assertEquals(List.of("put input", "writes first", "acked first", "writes second", "acked second", "put loop"),
        saver.calls);
  }

  @Test
  void asyncGoesOnButFlushesBeforeTheFinalValue() {
    saver.hold();
    StepVerifier.create(workflow(Durability.ASYNC).invoke("x", config))
        .expectSubscription()
        .expectNoEvent(Duration.ofMillis(100))
        .then(() -> assertTrue(secondStarted.get(), "the run went on while the write was held"))
        .then(() -> assertFalse(saver.calls.contains("put loop"), "but it does not complete before the flush"))
        .then(saver::release)
        .expectNext("x12")
        .expectComplete()
        .verify(Duration.ofSeconds(5));
    assertEquals("put loop", saver.calls.get(saver.calls.size() - 1));
  }

  @Test
  void exitPersistsNothingUntilTheRunEnds() {
    Sinks.One<String> gate = Sinks.one();
    Task<String, String> waiting = Task.of("waiting", String.class, s -> gate.asMono());
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver).durability(Durability.EXIT)
        .define(String.class, String.class, (s, context) -> first.call(s).flatMap(waiting::call));
    StepVerifier.create(workflow.invoke("x", config))
        .expectSubscription()
        .expectNoEvent(Duration.ofMillis(50))
        .then(() -> assertEquals(List.of(), saver.calls, "nothing saved while the run is going"))
        .then(() -> gate.tryEmitValue("done"))
        .expectNext("done")
        .expectComplete()
        .verify(Duration.ofSeconds(5));
    assertEquals(List.of("put input", "writes first,waiting", "acked first,waiting", "put loop"), saver.calls);
  }

  @Test
  void exitPersistsOnPauseAndFailureSoTheThreadCanContinue() {
    Task<String, String> ask = Task.of("ask", String.class,
        (String s, TaskContext context) -> context.interrupt("?", String.class));
    Entrypoint<String, String> pausing = Entrypoint.named("w").checkpointer(saver).durability(Durability.EXIT)
        .define(String.class, String.class, (s, context) -> first.call(s).flatMap(ask::call));
    assertTrue(pausing.run("x", config).block().interrupted());
    assertEquals(List.of("put input", "writes first,ask", "acked first,ask"), saver.calls);
    assertEquals("yes", pausing.invoke(Command.resume("yes"), config).block());

    RunConfig other = RunConfig.thread(UUID.randomUUID().toString());
    saver.calls.clear();
    Entrypoint<String, String> failing = Entrypoint.named("f").checkpointer(saver).durability(Durability.EXIT)
        .define(String.class, String.class, (s, context) -> first.call(s)
            .then(Mono.error(new IllegalStateException("boom"))));
    StepVerifier.create(failing.invoke("x", other)).expectErrorMessage("boom").verify(Duration.ofSeconds(5));
    assertEquals(List.of("put input", "writes first,f", "acked first,f"), saver.calls);
  }

  @Test
  void runConfigOverridesTheBuildersDurability() {
    saver.hold();
    StepVerifier.create(workflow(Durability.ASYNC).invoke("x", config.withDurability(Durability.SYNC)))
        .expectSubscription()
        .expectNoEvent(Duration.ofMillis(100))
        .then(() -> assertFalse(secondStarted.get()))
        .then(saver::release)
        .expectNext("x12")
        .expectComplete()
        .verify(Duration.ofSeconds(5));
  }
}
