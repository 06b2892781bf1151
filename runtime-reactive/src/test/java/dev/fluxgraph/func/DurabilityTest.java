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
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.Interrupt;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.StreamMode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * SEMANTICS §8: when task results reach the checkpointer in each {@link Durability} mode, observed through a saver
 * that records the order of its calls (interleaved with what the tasks and the body do) and can hold the writes
 * of a task until the test releases them.
 */
class DurabilityTest {

  private static final Duration VERIFY = Duration.ofSeconds(10);
  /** How long "nothing happens" is watched for while a write is held. */
  private static final Duration QUIET = Duration.ofMillis(300);

  /**
   * Delegates to an {@link InMemorySaver}; logs {@code put <source>}, {@code writes <labels>} (on subscription) and
   * {@code acked <labels>} (once stored) into a shared event log. A write batch containing a result of a held task
   * waits until {@link #release} is called.
   */
  static final class RecordingSaver implements CheckpointSaver {
    final InMemorySaver delegate = new InMemorySaver();
    final List<String> events;
    private final Map<String, Sinks.Empty<Void>> held = new ConcurrentHashMap<>();

    RecordingSaver(List<String> events) {
      this.events = events;
    }

    void hold(String taskName) {
      held.put(taskName, Sinks.empty());
    }

    void release(String taskName) {
      events.add("release " + taskName);
      held.get(taskName).tryEmitEmpty();
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
        events.add("put " + checkpoint.metadata().get("source"));
        return delegate.put(checkpoint);
      });
    }

    @Override
    public Mono<Void> putWrites(String threadId, String namespace, String checkpointId, List<PendingWrite> writes) {
      return Mono.defer(() -> {
        String labels = writes.stream().map(RecordingSaver::label).collect(Collectors.joining(","));
        events.add("writes " + labels);
        Mono<Void> gate = Flux.fromIterable(writes)
            .filter(write -> write.channel().equals(PendingWrite.RESULT))
            .map(PendingWrite::taskName)
            .distinct()
            .flatMap(name -> held.containsKey(name) ? held.get(name).asMono() : Mono.<Void>empty())
            .then();
        return gate.then(delegate.putWrites(threadId, namespace, checkpointId, writes))
            .doOnSuccess(done -> events.add("acked " + labels));
      });
    }

    @Override
    public Mono<Void> deleteThread(String threadId) {
      return delegate.deleteThread(threadId);
    }

    private static String label(PendingWrite write) {
      return switch (write.channel()) {
        case PendingWrite.RESULT -> write.taskName();
        case PendingWrite.ERROR -> write.taskName() + "!error";
        case PendingWrite.INTERRUPT -> write.taskName() + "!interrupt";
        case PendingWrite.RESUME -> write.taskName() + "!resume";
        default -> write.taskName() + "!" + write.channel();
      };
    }

    /** The events that are saver calls (not task or test markers). */
    List<String> saverCalls() {
      return events.stream().filter(e -> e.startsWith("put ") || e.startsWith("writes ") || e.startsWith("acked "))
          .toList();
    }

    /** Every task name written so far, in any batch. */
    Set<String> written() {
      return events.stream().filter(e -> e.startsWith("writes "))
          .flatMap(e -> List.of(e.substring("writes ".length()).split(",")).stream())
          .collect(Collectors.toSet());
    }
  }

  private final List<String> events = new CopyOnWriteArrayList<>();
  private final RecordingSaver saver = new RecordingSaver(events);
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
  private final AtomicInteger firstRuns = new AtomicInteger();
  private final AtomicInteger secondRuns = new AtomicInteger();

  private final Task<String, String> first = Task.of("first", String.class, (String s) -> {
    firstRuns.incrementAndGet();
    events.add("start first");
    return Mono.just(s + "1");
  });
  private final Task<String, String> second = Task.of("second", String.class, (String s) -> {
    secondRuns.incrementAndGet();
    events.add("start second");
    return Mono.just(s + "2");
  });

  /** first, then second with first's value; the body logs when first's value reaches it. */
  private Entrypoint<String, String> sequential(Entrypoint.Builder builder) {
    return builder.checkpointer(saver).define(String.class, String.class, (s, context) -> first.call(s)
        .doOnNext(value -> events.add("delivered first"))
        .flatMap(second::call));
  }

  private int indexOf(String event) {
    int index = events.indexOf(event);
    assertTrue(index >= 0, "missing event '" + event + "' in " + events);
    return index;
  }

  private void assertBefore(String earlier, String later) {
    assertTrue(indexOf(earlier) < indexOf(later), "'" + earlier + "' should come before '" + later + "' in " + events);
  }

  private void assertNoSaverCallsYet(String when) {
    assertEquals(List.of(), saver.saverCalls(), "nothing may be saved " + when + "; events " + events);
  }

  // ======================================================================================== SYNC

  @Test
  void syncDoesNotDeliverATasksValueBeforeItsWriteCompleted() {
    saver.hold("first");
    StepVerifier.create(sequential(Entrypoint.named("w").durability(Durability.SYNC)).invoke("x", config))
        .expectSubscription()
        .expectNoEvent(QUIET)
        .then(() -> {
          assertTrue(events.contains("writes first"), "first's write was sent: " + events);
          assertFalse(events.contains("delivered first"), "first's value was delivered before its write completed");
          assertEquals(0, secondRuns.get(), "the next task started before first's write completed");
        })
        .then(() -> saver.release("first"))
        .expectNext("x12")
        .expectComplete()
        .verify(VERIFY);
    assertBefore("acked first", "delivered first");
    assertBefore("acked first", "start second");
    assertBefore("acked second", "put loop");
  }

  @Test
  void syncPersistsEachResultBeforeTheNextStep() {
    sequential(Entrypoint.named("w").durability(Durability.SYNC)).invoke("x", config).block(VERIFY);
    assertEquals(List.of("put input", "writes first", "acked first", "delivered first",
        "start second", "writes second", "acked second", "put loop"),
        events.stream().filter(e -> !e.equals("start first")).toList());
  }

  // ======================================================================================== ASYNC

  @Test
  void asyncStartsTheNextTaskWhileTheWriteIsHeldButNotTheFinalValue() {
    saver.hold("first");
    StepVerifier.create(sequential(Entrypoint.named("w").durability(Durability.ASYNC)).invoke("x", config))
        .expectSubscription()
        .expectNoEvent(QUIET) // no value while the write is held
        .then(() -> {
          assertEquals(1, secondRuns.get(), "the next task started while first's write was held: " + events);
          assertFalse(events.contains("acked first"));
          assertFalse(events.contains("put loop"), "the run completed before its writes: " + events);
        })
        .then(() -> saver.release("first"))
        .expectNext("x12")
        .expectComplete()
        .verify(VERIFY);
    assertBefore("writes first", "start second");
    assertBefore("start second", "acked first");
    assertBefore("acked first", "put loop");
    assertBefore("acked second", "put loop");
  }

  @Test
  void asyncIsTheDefault() {
    saver.hold("first");
    StepVerifier.create(sequential(Entrypoint.named("w")).invoke("x", config))
        .expectSubscription()
        .expectNoEvent(QUIET)
        .then(() -> assertEquals(1, secondRuns.get(), "the default went on while the write was held: " + events))
        .then(() -> saver.release("first"))
        .expectNext("x12")
        .expectComplete()
        .verify(VERIFY);
  }

  @Test
  void asyncStreamsTaskChunksButHoldsTheFinalChunkUntilTheWritesAreFlushed() {
    saver.hold("first");
    Entrypoint<String, String> workflow = sequential(Entrypoint.named("w").durability(Durability.ASYNC));
    StepVerifier.create(workflow.stream("x", config, StreamMode.UPDATES, StreamMode.VALUES)
            .map(chunk -> chunk.mode() + " " + chunk.data()))
        .expectNext("UPDATES {first=x1}")
        .expectNext("UPDATES {second=x12}")
        .expectNoEvent(QUIET)
        .then(() -> saver.release("first"))
        .expectNext("UPDATES {w=x12}")
        .expectNext("VALUES x12")
        .expectComplete()
        .verify(VERIFY);
    assertBefore("acked first", "put loop");
  }

  @Test
  void asyncFlushesBeforeTheInterruptChunkOfAPause() {
    saver.hold("first");
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver)
        .define(String.class, String.class, (s, context) -> first.call(s)
            .flatMap(value -> context.interrupt("continue after " + value + "?", String.class)));
    StepVerifier.create(workflow.stream("x", config, StreamMode.UPDATES))
        .assertNext(chunk -> assertEquals(Map.of("first", "x1"), chunk.data()))
        .expectNoEvent(QUIET)
        .then(() -> saver.release("first"))
        .assertNext(chunk -> {
          assertTrue(events.contains("acked first"), "the pause was reported before first's write: " + events);
          Map<?, ?> data = (Map<?, ?>) chunk.data();
          assertEquals(Set.of("__interrupt__"), data.keySet());
        })
        .expectComplete()
        .verify(VERIFY);
    assertEquals("yes", workflow.invoke(Command.resume("yes"), config).block(VERIFY));
    assertEquals(1, firstRuns.get(), "first replayed on resume");
  }

  @Test
  void asyncFlushesBeforeAFailureIsReportedSoTheThreadCanContinue() {
    saver.hold("first");
    AtomicInteger bodyRuns = new AtomicInteger();
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver)
        .define(String.class, String.class, (s, context) -> first.call(s).flatMap(value ->
            bodyRuns.incrementAndGet() == 1 ? Mono.error(new IllegalStateException("boom")) : Mono.just(value)));
    StepVerifier.create(workflow.invoke("x", config))
        .expectSubscription()
        .expectNoEvent(QUIET)
        .then(() -> saver.release("first"))
        .expectErrorSatisfies(error -> {
          assertEquals("boom", error.getMessage());
          assertTrue(events.contains("acked first"), "the failure was reported before first's write: " + events);
        })
        .verify(VERIFY);
    assertEquals("x1", workflow.invoke(Command.proceed(), config).block(VERIFY));
    assertEquals(1, firstRuns.get(), "first's result was persisted before the failure was reported");
  }

  // ======================================================================================== EXIT

  @Test
  void exitSavesNothingUntilTheRunCompletesThenEverything() {
    Sinks.One<String> gate = Sinks.one();
    Task<String, String> waiting = Task.of("waiting", String.class, (String s) -> gate.asMono().map(g -> s + g));
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver).durability(Durability.EXIT)
        .define(String.class, String.class, (s, context) -> first.call(s).flatMap(second::call).flatMap(waiting::call));
    StepVerifier.create(workflow.invoke("x", config))
        .expectSubscription()
        .expectNoEvent(QUIET)
        .then(() -> {
          assertEquals(1, secondRuns.get(), "the run is under way");
          assertNoSaverCallsYet("before the run ends (not even the input checkpoint)");
        })
        .then(() -> {
          events.add("run may end");
          gate.tryEmitValue("!");
        })
        .assertNext(value -> {
          assertEquals("x12!", value);
          assertTrue(events.contains("put loop"), "saved before the value is delivered: " + events);
        })
        .expectComplete()
        .verify(VERIFY);
    int end = indexOf("run may end");
    for (String call : saver.saverCalls()) {
      assertTrue(events.indexOf(call) > end, call + " happened before the run ended: " + events);
    }
    assertBefore("put input", "put loop");
    assertEquals(Set.of("first", "second", "waiting"), saver.written());
    for (String call : saver.saverCalls()) {
      if (call.startsWith("writes ")) {
        assertBefore(call, "put loop");
      }
    }
    StateSnapshot state = workflow.getState(config).block(VERIFY);
    assertEquals("x12!", state.values());
    assertEquals(List.of(), state.next());
  }

  @Test
  void exitSavesOnPauseAndTheRunResumes() {
    Sinks.One<String> gate = Sinks.one();
    Task<String, String> waiting = Task.of("waiting", String.class, (String s) -> gate.asMono().map(g -> s + g));
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver).durability(Durability.EXIT)
        .define(String.class, String.class, (s, context) -> first.call(s).flatMap(waiting::call)
            .flatMap(value -> context.interrupt("approve " + value + "?", String.class)
                .map(answer -> value + " " + answer)));
    StepVerifier.create(workflow.run("x", config))
        .expectSubscription()
        .expectNoEvent(QUIET)
        .then(() -> assertNoSaverCallsYet("while the run is going"))
        .then(() -> {
          events.add("run may pause");
          gate.tryEmitValue("!");
        })
        .assertNext(output -> {
          assertTrue(output.interrupted());
          assertEquals("approve x1!?", output.interrupts().get(0).value());
          assertTrue(saver.written().containsAll(Set.of("first", "waiting", "w!interrupt")),
              "everything saved by the time the pause is reported: " + events);
        })
        .expectComplete()
        .verify(VERIFY);
    int end = indexOf("run may pause");
    for (String call : saver.saverCalls()) {
      assertTrue(events.indexOf(call) > end, call + " happened before the run paused: " + events);
    }
    assertTrue(saver.saverCalls().contains("put input"));
    assertFalse(saver.saverCalls().contains("put loop"), "a paused run saves no loop checkpoint (§1)");

    StateSnapshot paused = workflow.getState(config).block(VERIFY);
    assertEquals(List.of("w"), paused.next());
    assertEquals(List.of("approve x1!?"), paused.interrupts().stream().map(Interrupt::value).toList());

    assertEquals("x1! yes", workflow.invoke(Command.resume("yes"), config).block(VERIFY));
    assertEquals(1, firstRuns.get(), "first replayed on resume");
    assertTrue(saver.saverCalls().contains("put loop"));
  }

  @Test
  void exitSavesOnFailureAndTheRunContinues() {
    Sinks.One<String> gate = Sinks.one();
    AtomicInteger failingRuns = new AtomicInteger();
    Task<String, String> failing = Task.of("failing", String.class, (String s) -> gate.asMono()
        .flatMap(g -> failingRuns.incrementAndGet() == 1
            ? Mono.<String>error(new IllegalStateException("boom")) : Mono.just(s + g)));
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver).durability(Durability.EXIT)
        .define(String.class, String.class, (s, context) -> first.call(s).flatMap(failing::call));
    StepVerifier.create(workflow.invoke("x", config))
        .expectSubscription()
        .expectNoEvent(QUIET)
        .then(() -> assertNoSaverCallsYet("while the run is going"))
        .then(() -> {
          events.add("run may fail");
          gate.tryEmitValue("!");
        })
        .expectErrorSatisfies(error -> {
          assertEquals("boom", error.getMessage());
          assertTrue(saver.written().contains("first"), "saved by the time the failure is reported: " + events);
        })
        .verify(VERIFY);
    int end = indexOf("run may fail");
    for (String call : saver.saverCalls()) {
      assertTrue(events.indexOf(call) > end, call + " happened before the run failed: " + events);
    }
    assertTrue(saver.saverCalls().contains("put input"));
    assertFalse(saver.saverCalls().contains("put loop"));

    assertEquals("x1!", workflow.invoke(Command.proceed(), config).block(VERIFY));
    assertEquals(1, firstRuns.get(), "first replayed: it was saved when the run failed");
    assertEquals(2, failingRuns.get(), "the failed task ran again");
  }

  @Test
  void exitCompletedRunIsReadableAndItsValueIsPrevious() {
    Entrypoint<String, String> counting = Entrypoint.named("w").checkpointer(saver).durability(Durability.EXIT)
        .define(String.class, String.class, (s, context) -> first.call(s)
            .map(value -> value + "/" + context.previous().orElse("none")));
    assertEquals("x1/none", counting.invoke("x", config).block(VERIFY));
    assertEquals("y1/x1/none", counting.invoke("y", config).block(VERIFY));
    List<StateSnapshot> history = counting.getStateHistory(config).collectList().block(VERIFY);
    assertEquals(List.of("loop", "input", "loop", "input"),
        history.stream().map(snapshot -> snapshot.metadata().get("source")).toList());
  }

  // ======================================================================================== override

  @Test
  void runConfigSyncOverridesABuilderExit() {
    saver.hold("first");
    Entrypoint<String, String> workflow = sequential(Entrypoint.named("w").durability(Durability.EXIT));
    StepVerifier.create(workflow.invoke("x", config.withDurability(Durability.SYNC)))
        .expectSubscription()
        .expectNoEvent(QUIET)
        .then(() -> {
          assertTrue(events.contains("put input"), "SYNC saves the input checkpoint during the run: " + events);
          assertTrue(events.contains("writes first"), "SYNC writes during the run: " + events);
          assertEquals(0, secondRuns.get(), "SYNC waits for the write");
        })
        .then(() -> saver.release("first"))
        .expectNext("x12")
        .expectComplete()
        .verify(VERIFY);
  }

  @Test
  void runConfigAsyncOverridesABuilderSync() {
    saver.hold("first");
    Entrypoint<String, String> workflow = sequential(Entrypoint.named("w").durability(Durability.SYNC));
    StepVerifier.create(workflow.invoke("x", config.withDurability(Durability.ASYNC)))
        .expectSubscription()
        .expectNoEvent(QUIET)
        .then(() -> assertEquals(1, secondRuns.get(), "ASYNC goes on while the write is held: " + events))
        .then(() -> saver.release("first"))
        .expectNext("x12")
        .expectComplete()
        .verify(VERIFY);
  }

  @Test
  void runConfigExitOverridesABuilderAsync() {
    Sinks.One<String> gate = Sinks.one();
    Task<String, String> waiting = Task.of("waiting", String.class, (String s) -> gate.asMono().map(g -> s + g));
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver).durability(Durability.ASYNC)
        .define(String.class, String.class, (s, context) -> first.call(s).flatMap(waiting::call));
    StepVerifier.create(workflow.invoke("x", config.withDurability(Durability.EXIT)))
        .expectSubscription()
        .expectNoEvent(QUIET)
        .then(() -> assertNoSaverCallsYet("in an EXIT run"))
        .then(() -> gate.tryEmitValue("!"))
        .expectNext("x1!")
        .expectComplete()
        .verify(VERIFY);
    assertEquals(Set.of("first", "waiting"), saver.written());
  }

  @Test
  void theOverrideAppliesToThatRunOnly() {
    Entrypoint<String, String> workflow = sequential(Entrypoint.named("w").durability(Durability.SYNC));
    GraphOutput<String> exitRun = workflow.run("x", config.withDurability(Durability.EXIT)).block(VERIFY);
    assertEquals("x12", exitRun.value());
    assertTrue(indexOf("start second") < indexOf("put input"), "the EXIT run saved at the end: " + events);
    events.clear();
    saver.hold("first");
    StepVerifier.create(workflow.invoke("y", config))
        .expectSubscription()
        .expectNoEvent(QUIET)
        .then(() -> assertEquals(1, secondRuns.get(),
            "the next run, without override, is SYNC again: second waits for first's write: " + events))
        .then(() -> saver.release("first"))
        .expectNext("y12")
        .expectComplete()
        .verify(VERIFY);
  }
}
