package dev.fluxgraph.func;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.EmptyInputException;
import dev.fluxgraph.errors.InvalidCommandException;
import dev.fluxgraph.errors.SerializationException;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RunConfig;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** SEMANTICS §9: misuse gives a clear error, never a hang. */
class MisuseErrorsTest {

  private static final Duration NO_HANG = Duration.ofSeconds(5);
  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());

  private static void fails(Mono<?> mono, Class<? extends Throwable> type, String... fragments) {
    StepVerifier.create(mono).expectErrorSatisfies(error -> {
      assertEquals(type, error.getClass(), () -> "got " + error);
      for (String fragment : fragments) {
        assertTrue(error.getMessage().contains(fragment), () -> "'" + error.getMessage() + "' lacks '" + fragment + "'");
      }
    }).verify(NO_HANG);
  }

  private static <T extends Throwable> void throwsWith(Class<T> type, Runnable action, String... fragments) {
    T error = assertThrows(type, action::run);
    for (String fragment : fragments) {
      assertTrue(error.getMessage().contains(fragment), () -> "'" + error.getMessage() + "' lacks '" + fragment + "'");
    }
  }

  private final Task<String, String> echo = Task.of("echo", String.class, Mono::just);

  @Test
  void taskCalledOutsideARun() {
    fails(echo.call("x"), IllegalStateException.class, "'echo'", "outside a running entrypoint");
  }

  @Test
  void contextAndInterruptOutsideARun() {
    fails(TaskContext.current(), IllegalStateException.class, "outside a running entrypoint");
    fails(Interrupts.interrupt("q", String.class), IllegalStateException.class, "outside a running entrypoint");
  }

  @Test
  void taskDetachedWithSubscribeIsOutsideTheRun() {
    Sinks<String> detached = new Sinks<>();
    Entrypoint<String, String> workflow = Entrypoint.named("w").define(String.class, String.class,
        (s, context) -> {
          echo.call(s).subscribe(value -> { }, detached::accept);
          return Mono.just(s);
        });
    workflow.invoke("x", RunConfig.none()).block(NO_HANG);
    assertTrue(detached.error instanceof IllegalStateException);
  }

  private static final class Sinks<T> implements Consumer<Throwable> {
    private Throwable error;

    @Override
    public void accept(Throwable error) {
      this.error = error;
    }
  }

  @Test
  void blankNames() {
    throwsWith(IllegalArgumentException.class, () -> Entrypoint.named(" "), "entrypoint name must not be blank");
    throwsWith(IllegalArgumentException.class, () -> Task.of("", String.class, (String s) -> Mono.just(s)),
        "task name must not be blank");
    throwsWith(NullPointerException.class, () -> Task.of(null, String.class, (String s) -> Mono.just(s)), "name must not be null");
  }

  @Test
  void checkpointerWithoutThreadId() {
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver)
        .define(String.class, String.class, (s, context) -> Mono.just(s));
    fails(workflow.invoke("x", RunConfig.none()), IllegalArgumentException.class, "'w'", "thread id",
        "RunConfig.thread");
    fails(workflow.getState(RunConfig.none()), IllegalArgumentException.class, "thread id");
  }

  @Test
  void resumeOrProceedWithoutCheckpointer() {
    Entrypoint<String, String> workflow = Entrypoint.named("w")
        .define(String.class, String.class, (s, context) -> Mono.just(s));
    fails(workflow.invoke(Command.resume("v"), RunConfig.none()), InvalidCommandException.class, "no checkpointer");
    fails(workflow.invoke(Command.proceed(), RunConfig.none()), InvalidCommandException.class, "no checkpointer");
    fails(workflow.getState(RunConfig.thread("t")), IllegalStateException.class, "needs a checkpointer");
  }

  @Test
  void resumeWithNothingPending() {
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver)
        .define(String.class, String.class, (s, context) -> Mono.just(s));
    fails(workflow.invoke(Command.resume("v"), config), EmptyInputException.class, "no checkpoint");
    fails(workflow.invoke(Command.proceed(), config), EmptyInputException.class, "no checkpoint to continue");
    workflow.invoke("x", config).block(NO_HANG);
    fails(workflow.invoke(Command.resume("v"), config), InvalidCommandException.class, "nothing to resume");
  }

  @Test
  void resumeOfAFailedRunHasNothingToAnswer() {
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver)
        .define(String.class, String.class, (s, context) -> Mono.error(new IllegalStateException("boom")));
    fails(workflow.invoke("x", config), IllegalStateException.class, "boom");
    fails(workflow.invoke(Command.resume("v"), config), InvalidCommandException.class, "no interrupt is pending",
        "Command.proceed()");
  }

  @Test
  void ambiguousResumeAndUnknownId() {
    Task<String, String> ask = Task.of("ask", String.class,
        (String s, TaskContext context) -> context.interrupt("? " + s, String.class));
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver)
        .define(String.class, String.class, (s, context) -> Mono.zip(ask.call("a"), ask.call("b"))
            .map(t -> t.getT1() + t.getT2()));
    var paused = workflow.run("x", config).block(NO_HANG);
    fails(workflow.invoke(Command.resume("v"), config), InvalidCommandException.class, "ambiguous",
        paused.interrupts().get(0).id(), paused.interrupts().get(1).id(), "resumeById");
    fails(workflow.invoke(Command.resumeById(Map.of("no-such-id", "v")), config), InvalidCommandException.class,
        "no-such-id", "not pending");
  }

  @Test
  void commandGoToIsForGraphs() {
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver)
        .define(String.class, String.class, (s, context) -> Mono.just(s));
    fails(workflow.invoke(new Command(Command.Kind.PROCEED, null, Map.of(), "node", Map.of()), config),
        InvalidCommandException.class, "goTo");
  }

  @Test
  void nonSerializableValues() {
    Task<String, Object> leaky = Task.of("leaky", Object.class, s -> Mono.just(new Object()));
    Entrypoint<String, Object> usesLeaky = Entrypoint.named("w")
        .define(String.class, Object.class, (s, context) -> leaky.call(s));
    fails(usesLeaky.invoke("x", RunConfig.none()), SerializationException.class, "'leaky'", "not JSON-serializable");

    Entrypoint<String, Object> returnsLeaky = Entrypoint.named("returns")
        .define(String.class, Object.class, (s, context) -> Mono.just(new Object()));
    fails(returnsLeaky.invoke("x", RunConfig.none()), SerializationException.class, "entrypoint 'returns'");

    Task<Object, String> takesAnything = Task.of("takes", String.class, o -> Mono.just("ok"));
    Entrypoint<String, String> passesLeaky = Entrypoint.named("passes")
        .define(String.class, String.class, (s, context) -> takesAnything.call(new Object()));
    fails(passesLeaky.invoke("x", RunConfig.none()), SerializationException.class, "input of 'takes'");
  }

  @Test
  void nonPositiveTimeouts() {
    throwsWith(IllegalArgumentException.class, () -> echo.withTimeout(Duration.ZERO), "'echo'", "must be positive");
    throwsWith(IllegalArgumentException.class, () -> echo.withTimeout(Duration.ofMillis(-1)), "must be positive");
    throwsWith(IllegalArgumentException.class, () -> Entrypoint.named("w").timeout(Duration.ZERO), "'w'",
        "must be positive");
  }

  @Test
  void storeWithoutAStore() {
    Entrypoint<String, String> workflow = Entrypoint.named("w").define(String.class, String.class,
        (s, context) -> context.store().get(java.util.List.of("a"), "k").thenReturn(s));
    fails(workflow.invoke("x", RunConfig.none()), IllegalStateException.class, "'w' has no store");
  }

  @Test
  void bodyReturningNullInsteadOfAMono() {
    Entrypoint<String, String> workflow = Entrypoint.named("w").define(String.class, String.class,
        (s, context) -> null);
    fails(workflow.invoke("x", RunConfig.none()), NullPointerException.class, "'w' returned null");
  }

  @Test
  void unknownCheckpointId() {
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver)
        .define(String.class, String.class, (s, context) -> Mono.just(s));
    fails(workflow.invoke("x", config.withCheckpointId("nope")), IllegalArgumentException.class, "nope", "not found");
  }

  @Test
  void invalidPolicyValues() {
    throwsWith(IllegalArgumentException.class, () -> dev.fluxgraph.types.RetryPolicy.defaults().withMaxAttempts(0),
        "maxAttempts");
    throwsWith(IllegalArgumentException.class,
        () -> dev.fluxgraph.types.RetryPolicy.defaults().withBackoffFactor(0.5), "backoffFactor");
    throwsWith(IllegalArgumentException.class, () -> dev.fluxgraph.types.CachePolicy.ttl(Duration.ZERO), "ttl");
    throwsWith(IllegalArgumentException.class, () -> RunConfig.thread(" "), "threadId");
    throwsWith(IllegalArgumentException.class, () -> dev.fluxgraph.types.StreamMode.fromWireName("bogus"),
        "bogus", "updates");
  }
}
