package dev.fluxgraph.func;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.EmptyInputException;
import dev.fluxgraph.errors.FluxgraphException;
import dev.fluxgraph.errors.GraphInterruptedException;
import dev.fluxgraph.errors.InvalidCommandException;
import dev.fluxgraph.errors.SerializationException;
import dev.fluxgraph.store.InMemoryStore;
import dev.fluxgraph.types.CachePolicy;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.Interrupt;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** SEMANTICS.md §9: every misuse gives a clear error (type and message), never a hang. */
class MisuseTest {

  private static final Duration WAIT = Duration.ofSeconds(5);

  private final InMemorySaver checkpointer = new InMemorySaver();
  private final String threadId = "thread-" + UUID.randomUUID();
  private final RunConfig config = RunConfig.thread(threadId);
  private final AtomicInteger bodyRuns = new AtomicInteger();

  /** Has no properties Jackson could write: not JSON-serializable. */
  static final class Opaque {
    @Override
    public String toString() {
      return "Opaque";
    }
  }

  private static Consumer<Throwable> error(Class<? extends Throwable> type, String... fragments) {
    return error -> {
      assertInstanceOf(type, error, () -> "expected " + type.getSimpleName() + " but got " + error);
      String message = String.valueOf(error.getMessage());
      for (String fragment : fragments) {
        assertTrue(message.contains(fragment), () -> "message should mention '" + fragment + "': " + message);
      }
    };
  }

  private static void assertFails(Mono<?> mono, Class<? extends Throwable> type, String... fragments) {
    StepVerifier.create(mono).expectErrorSatisfies(error(type, fragments)).verify(WAIT);
  }

  private Entrypoint<String, String> asking() {
    return Entrypoint.named("asking").checkpointer(checkpointer)
        .define(String.class, String.class, (question, context) -> context.interrupt(question, String.class));
  }

  private Entrypoint<String, String> echo() {
    return Entrypoint.named("echo").checkpointer(checkpointer)
        .define(String.class, String.class, (x, context) -> Mono.fromSupplier(() -> {
          bodyRuns.incrementAndGet();
          return x;
        }));
  }

  // ------------------------------------------------------------------ outside a run

  @Test
  void taskCalledOutsideARun() {
    AtomicInteger runs = new AtomicInteger();
    Task<Integer, Integer> addOne = Task.of("add_one", Integer.class, x -> Mono.fromSupplier(() -> {
      runs.incrementAndGet();
      return x + 1;
    }));
    assertFails(addOne.call(1), IllegalStateException.class, "add_one", "outside");
    assertFails(addOne.call(), IllegalStateException.class, "add_one", "outside");
    assertEquals(0, runs.get());
  }

  @Test
  void taskDetachedFromTheRunWithSubscribeIsOutsideTheRun() {
    Task<Integer, Integer> addOne = Task.of("add_one", Integer.class, x -> Mono.just(x + 1));
    List<Throwable> detachedErrors = new ArrayList<>();
    Entrypoint<Integer, Integer> entrypoint = Entrypoint.named("main")
        .define(Integer.class, Integer.class, (x, context) -> Mono.fromSupplier(() -> {
          // subscribe() outside the body's publisher loses the run's Reactor context
          addOne.call(x).subscribe(v -> { }, detachedErrors::add);
          return x;
        }));
    StepVerifier.create(entrypoint.invoke(1, RunConfig.none())).expectNext(1).expectComplete().verify(WAIT);
    assertEquals(1, detachedErrors.size());
    error(IllegalStateException.class, "add_one", "outside").accept(detachedErrors.get(0));
  }

  @Test
  void taskContextCurrentOutsideARun() {
    assertFails(TaskContext.current(), IllegalStateException.class, "TaskContext.current()", "outside");
  }

  @Test
  void interruptOutsideARun() {
    assertFails(Interrupts.interrupt("question", String.class), IllegalStateException.class, "outside");
  }

  @Test
  void taskContextCurrentInsideARunIsTheBodysContext() {
    Entrypoint<String, String> entrypoint = Entrypoint.named("main").checkpointer(checkpointer)
        .define(String.class, String.class, (x, context) -> TaskContext.current()
            .map(current -> current.config().threadId().orElse("none")));
    StepVerifier.create(entrypoint.invoke("x", config)).expectNext(threadId).expectComplete().verify(WAIT);
  }

  // ------------------------------------------------------------------ blank names

  @Test
  void blankEntrypointName() {
    for (String blank : List.of("", "   ", "\t")) {
      IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> Entrypoint.named(blank));
      assertTrue(error.getMessage().contains("blank"), error.getMessage());
      assertTrue(error.getMessage().contains("entrypoint"), error.getMessage());
    }
  }

  @Test
  void blankTaskName() {
    for (String blank : List.of("", "   ")) {
      IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
          () -> Task.<Integer, Integer>of(blank, Integer.class, x -> Mono.just(x)));
      assertTrue(error.getMessage().contains("blank"), error.getMessage());
      assertTrue(error.getMessage().contains("task"), error.getMessage());
      IllegalArgumentException withContext = assertThrows(IllegalArgumentException.class,
          () -> Task.<Integer, Integer>of(blank, Integer.class, (x, context) -> Mono.just(x)));
      assertTrue(withContext.getMessage().contains("blank"), withContext.getMessage());
    }
  }

  // ------------------------------------------------------------------ checkpointer and thread

  @Test
  void checkpointerWithoutThreadId() {
    Entrypoint<String, String> echo = echo();
    assertFails(echo.invoke("x", RunConfig.none()), IllegalArgumentException.class, "echo", "thread id");
    StepVerifier.create(echo.stream("x", RunConfig.none(), StreamMode.UPDATES))
        .expectErrorSatisfies(error(IllegalArgumentException.class, "thread id"))
        .verify(WAIT);
    assertFails(echo.run("x", RunConfig.none()), IllegalArgumentException.class, "thread id");
    assertEquals(0, bodyRuns.get(), "the body does not run");
  }

  @Test
  void resumeWithoutCheckpointer() {
    Entrypoint<String, String> noCheckpointer = Entrypoint.named("plain")
        .define(String.class, String.class, (question, context) -> context.interrupt(question, String.class));
    assertFails(noCheckpointer.invoke(Command.resume("answer"), RunConfig.none()), InvalidCommandException.class,
        "checkpointer");
    assertFails(noCheckpointer.invoke(Command.resume("answer"), config), InvalidCommandException.class,
        "checkpointer");
    assertFails(noCheckpointer.invoke(Command.resumeById(Map.of("some-id", "answer")), RunConfig.none()),
        InvalidCommandException.class, "checkpointer");
    assertFails(noCheckpointer.invoke(Command.proceed(), RunConfig.none()), FluxgraphException.class,
        "checkpointer");
  }

  @Test
  void interruptWithoutCheckpointerStillPausesTheRun() {
    Entrypoint<String, String> noCheckpointer = Entrypoint.named("plain")
        .define(String.class, String.class, (question, context) -> context.interrupt(question, String.class));
    StepVerifier.create(noCheckpointer.invoke("q?", RunConfig.none()))
        .expectErrorSatisfies(error -> {
          GraphInterruptedException paused = assertInstanceOf(GraphInterruptedException.class, error);
          assertEquals("q?", paused.interrupts().get(0).value());
        })
        .verify(WAIT);
  }

  // ------------------------------------------------------------------ nothing to resume

  @Test
  void resumeAfterACompletedRun() {
    Entrypoint<String, String> echo = echo();
    StepVerifier.create(echo.invoke("x", config)).expectNext("x").expectComplete().verify(WAIT);
    assertFails(echo.invoke(Command.resume("y"), config), InvalidCommandException.class, threadId, "pending");
    assertFails(echo.invoke(Command.resumeById(Map.of("nope", "y")), config), InvalidCommandException.class,
        threadId);
    assertEquals(1, bodyRuns.get());
  }

  @Test
  void resumeAfterAFailedRunWithoutInterrupts() {
    Entrypoint<String, String> failing = Entrypoint.named("failing").checkpointer(checkpointer)
        .define(String.class, String.class, (x, context) -> Mono.error(new IllegalStateException("broken")));
    assertFails(failing.invoke("x", config), IllegalStateException.class, "broken");
    assertFails(failing.invoke(Command.resume("y"), config), InvalidCommandException.class, threadId, "pending");
  }

  @Test
  void resumeOnAFreshThread() {
    assertFails(asking().invoke(Command.resume("y"), config), FluxgraphException.class, threadId);
  }

  @Test
  void proceedOnAFreshThread() {
    assertFails(echo().invoke(Command.proceed(), config), EmptyInputException.class, threadId);
    StepVerifier.create(echo().stream(Command.proceed(), config))
        .expectErrorSatisfies(error(EmptyInputException.class, threadId))
        .verify(WAIT);
    assertEquals(0, bodyRuns.get());
  }

  @Test
  void proceedOnACompletedThreadReturnsItsValueWithoutRunning() {
    Entrypoint<String, String> echo = echo();
    StepVerifier.create(echo.invoke("x", config)).expectNext("x").expectComplete().verify(WAIT);
    StepVerifier.create(echo.invoke(Command.proceed(), config)).expectNext("x").expectComplete().verify(WAIT);
    assertEquals(1, bodyRuns.get());
  }

  // ------------------------------------------------------------------ ambiguous and unknown resumes

  @Test
  void ambiguousResumeListsEveryPendingId() {
    Task<String, String> ask = Task.of("ask", String.class,
        (question, context) -> context.interrupt(question, String.class));
    Entrypoint<String, String> both = Entrypoint.named("both").checkpointer(checkpointer)
        .define(String.class, String.class, (x, context) ->
            Mono.zip(ask.call("first?"), ask.call("second?")).map(t -> t.getT1() + "+" + t.getT2()));

    List<Interrupt> pending = new ArrayList<>();
    StepVerifier.create(both.invoke("go", config))
        .expectErrorSatisfies(error -> {
          GraphInterruptedException paused = assertInstanceOf(GraphInterruptedException.class, error);
          pending.addAll(paused.interrupts());
        })
        .verify(WAIT);
    assertEquals(2, pending.size(), pending::toString);
    String first = pending.stream().filter(i -> "first?".equals(i.value())).findFirst().orElseThrow().id();
    String second = pending.stream().filter(i -> "second?".equals(i.value())).findFirst().orElseThrow().id();

    assertFails(both.invoke(Command.resume("answer"), config), InvalidCommandException.class, first, second);
    // the failed command changes nothing: both can still be answered by id
    StepVerifier.create(both.invoke(Command.resumeById(Map.of(first, "A", second, "B")), config))
        .expectNext("A+B")
        .expectComplete()
        .verify(WAIT);
  }

  @Test
  void resumeByIdWithAnUnknownId() {
    Entrypoint<String, String> asking = asking();
    List<Interrupt> pending = new ArrayList<>();
    StepVerifier.create(asking.run("name?", config))
        .assertNext(output -> pending.addAll(output.interrupts()))
        .expectComplete()
        .verify(WAIT);
    String unknown = "no-such-interrupt-" + UUID.randomUUID();
    assertFails(asking.invoke(Command.resumeById(Map.of(unknown, "x")), config), InvalidCommandException.class,
        unknown);
    assertFails(asking.invoke(Command.resumeById(Map.of(pending.get(0).id(), "Bob", unknown, "x")), config),
        InvalidCommandException.class, unknown);
    StepVerifier.create(asking.invoke(Command.resumeById(Map.of(pending.get(0).id(), "Bob")), config))
        .expectNext("Bob")
        .expectComplete()
        .verify(WAIT);
  }

  // ------------------------------------------------------------------ serialization

  @Test
  void nonSerializableTaskResultFailsEvenWithoutCheckpointer() {
    Task<Integer, Opaque> makeOpaque = Task.of("make_opaque", Opaque.class, x -> Mono.just(new Opaque()));
    Entrypoint<Integer, String> noCheckpointer = Entrypoint.named("main")
        .define(Integer.class, String.class, (x, context) -> makeOpaque.call(x).map(Opaque::toString));
    assertFails(noCheckpointer.invoke(1, RunConfig.none()), SerializationException.class, "make_opaque");

    Entrypoint<Integer, String> withCheckpointer = Entrypoint.named("main").checkpointer(checkpointer)
        .define(Integer.class, String.class, (x, context) -> makeOpaque.call(x).map(Opaque::toString));
    assertFails(withCheckpointer.invoke(1, config), SerializationException.class, "make_opaque");
  }

  @Test
  void nonSerializableEntrypointResultFails() {
    Entrypoint<Integer, Opaque> entrypoint = Entrypoint.named("opaque_result")
        .define(Integer.class, Opaque.class, (x, context) -> Mono.just(new Opaque()));
    assertFails(entrypoint.invoke(1, RunConfig.none()), SerializationException.class, "opaque_result");
  }

  @Test
  void nonSerializableEntrypointInputFails() {
    Entrypoint<Object, String> entrypoint = Entrypoint.named("takes_anything")
        .define(Object.class, String.class, (x, context) -> Mono.fromSupplier(() -> {
          bodyRuns.incrementAndGet();
          return "ran";
        }));
    assertFails(entrypoint.invoke(new Opaque(), RunConfig.none()), SerializationException.class, "takes_anything");
    assertEquals(0, bodyRuns.get());
  }

  @Test
  void nonSerializableTaskInputFails() {
    AtomicInteger runs = new AtomicInteger();
    Task<Object, String> describe = Task.of("describe", String.class, x -> Mono.fromSupplier(() -> {
      runs.incrementAndGet();
      return String.valueOf(x);
    }));
    Entrypoint<Integer, String> entrypoint = Entrypoint.named("main")
        .define(Integer.class, String.class, (x, context) -> describe.call(new Opaque()));
    assertFails(entrypoint.invoke(1, RunConfig.none()), SerializationException.class, "describe");
    assertEquals(0, runs.get());
  }

  @Test
  void nonSerializableInterruptValueFails() {
    Entrypoint<Integer, String> entrypoint = Entrypoint.named("main").checkpointer(checkpointer)
        .define(Integer.class, String.class, (x, context) -> context.interrupt(new Opaque(), String.class));
    assertFails(entrypoint.invoke(1, config), SerializationException.class, "interrupt");
  }

  // ------------------------------------------------------------------ timeouts

  @Test
  void taskTimeoutMustBePositive() {
    Task<Integer, Integer> task = Task.of("slow_task", Integer.class, x -> Mono.just(x));
    for (Duration bad : List.of(Duration.ZERO, Duration.ofMillis(-1), Duration.ofSeconds(-5))) {
      IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> task.withTimeout(bad));
      assertTrue(error.getMessage().contains("slow_task"), error.getMessage());
      assertTrue(error.getMessage().contains("positive"), error.getMessage());
    }
  }

  @Test
  void entrypointTimeoutMustBePositive() {
    for (Duration bad : List.of(Duration.ZERO, Duration.ofMillis(-1))) {
      Entrypoint.Builder builder = Entrypoint.named("workflow");
      IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> builder.timeout(bad));
      assertTrue(error.getMessage().contains("workflow"), error.getMessage());
      assertTrue(error.getMessage().contains("positive"), error.getMessage());
    }
  }

  @Test
  void cacheTtlMustBePositive() {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> CachePolicy.ttl(Duration.ZERO));
    assertTrue(error.getMessage().contains("positive"), error.getMessage());
  }

  // ------------------------------------------------------------------ store

  @Test
  void storeWithoutAStoreConfigured() {
    Entrypoint<String, String> inBody = Entrypoint.named("no_store")
        .define(String.class, String.class,
            (x, context) -> context.store().get(List.of("users"), x).map(item -> "found"));
    assertFails(inBody.invoke("alice", RunConfig.none()), IllegalStateException.class, "no_store", "store");

    Task<String, String> lookup = Task.of("lookup", String.class,
        (x, context) -> Mono.defer(() -> context.store().get(List.of("users"), x)).map(item -> "found"));
    Entrypoint<String, String> inTask = Entrypoint.named("no_store").checkpointer(checkpointer)
        .define(String.class, String.class, (x, context) -> lookup.call(x));
    assertFails(inTask.invoke("alice", config), IllegalStateException.class, "store");
  }

  @Test
  void storeWhenConfiguredIsReachable() {
    InMemoryStore store = new InMemoryStore();
    Entrypoint<String, String> entrypoint = Entrypoint.named("with_store").store(store)
        .define(String.class, String.class, (x, context) -> context.store()
            .put(List.of("users"), x, Map.of("name", x))
            .then(context.store().get(List.of("users"), x))
            .map(item -> String.valueOf(item.value().get("name"))));
    StepVerifier.create(entrypoint.invoke("alice", RunConfig.none())).expectNext("alice").expectComplete()
        .verify(WAIT);
  }
}
