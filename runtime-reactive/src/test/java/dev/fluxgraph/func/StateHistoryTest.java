package dev.fluxgraph.func;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** SEMANTICS §4: previous, Final, updateState, getState, history and time travel. */
class StateHistoryTest {

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());

  private Entrypoint<Integer, Integer> accumulate() {
    return Entrypoint.named("accumulate").checkpointer(saver)
        .defineFinal(Integer.class, Integer.class, Integer.class, (n, context) -> {
          int previous = context.previous().orElse(0);
          return Mono.just(Final.of(previous, previous + n));
        });
  }

  @Test
  void updateStateSetsPreviousAndTheValue() {
    Entrypoint<Integer, Integer> accumulate = accumulate();
    StepVerifier.create(accumulate.invoke(1, config)).expectNext(0).verifyComplete();
    RunConfig updated = accumulate.updateState(config, 100).block();
    StateSnapshot state = accumulate.getState(config).block();
    assertEquals(100, state.values());
    assertEquals("update", state.metadata().get("source"));
    assertEquals(updated.checkpointId(), state.config().checkpointId());
    StepVerifier.create(accumulate.invoke(5, config)).expectNext(100).verifyComplete();
  }

  @Test
  void runMetadataWithNullValuesIsRecordedAndReadBack() {
    java.util.Map<String, Object> metadata = new java.util.HashMap<>();
    metadata.put("owner", "ann");
    metadata.put("ticket", null); // JSON metadata may hold nulls
    StepVerifier.create(accumulate().invoke(1, config.withMetadata(metadata))).expectNext(0).verifyComplete();
    StateSnapshot state = accumulate().getState(config).block();
    assertEquals("ann", state.metadata().get("owner"));
    assertTrue(state.metadata().containsKey("ticket"), state.metadata().toString());
    assertEquals(null, state.metadata().get("ticket"));
    assertTrue(accumulate().getStateHistory(config).all(snapshot -> snapshot.metadata().containsKey("ticket"))
        .block());
  }

  @Test
  void previousIsEmptyOnANewThreadAndWithoutCheckpointer() {
    Entrypoint<String, String> echo = Entrypoint.named("echo")
        .define(String.class, String.class, (s, context) -> Mono.just(context.previous().orElse("none") + s));
    StepVerifier.create(echo.invoke("a", RunConfig.none())).expectNext("nonea").verifyComplete();
    StepVerifier.create(echo.invoke("b", RunConfig.none())).expectNext("noneb").verifyComplete();
  }

  @Test
  void getStateOfAnUnknownThreadIsEmptyAndAnUnknownCheckpointIsAnError() {
    Entrypoint<Integer, Integer> accumulate = accumulate();
    StepVerifier.create(accumulate.getState(config)).verifyComplete();
    StepVerifier.create(accumulate.getState(config.withCheckpointId("nope")))
        .expectErrorSatisfies(error -> assertTrue(error.getMessage().contains("nope")))
        .verify(Duration.ofSeconds(5));
  }

  @Test
  void runningFromAnOlderCheckpointForks() {
    Entrypoint<Integer, Integer> accumulate = accumulate();
    accumulate.invoke(1, config).block();
    accumulate.invoke(2, config).block();
    accumulate.invoke(3, config).block();
    List<StateSnapshot> history = accumulate.getStateHistory(config).collectList().block();
    assertEquals(6, history.size());
    StateSnapshot afterFirst = history.get(4); // loop checkpoint of the first run: saved total 1
    assertEquals("loop", afterFirst.metadata().get("source"));
    StepVerifier.create(accumulate.invoke(10, afterFirst.config())).expectNext(1).verifyComplete();
    StateSnapshot latest = accumulate.getState(config).block();
    assertEquals(1, latest.values());
    StateSnapshot forkInput = accumulate.getState(latest.parentConfig()).block();
    assertEquals(afterFirst.config(), forkInput.parentConfig(), "the new run hangs off the older checkpoint");
    StepVerifier.create(accumulate.invoke(0, config)).expectNext(11).verifyComplete();
  }

  @Test
  void continuingAnOlderPendingRunForksIt() {
    AtomicInteger prepared = new AtomicInteger();
    Task<String, String> prepare = Task.of("prepare", String.class, (String s) -> {
      prepared.incrementAndGet();
      return Mono.just(s + "+");
    });
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(saver)
        .define(String.class, String.class, (s, context) -> prepare.call(s)
            .flatMap(p -> context.interrupt("?", String.class).map(a -> p + a)));
    workflow.run("x", config).block();
    StateSnapshot pausedState = workflow.getState(config).block();
    StepVerifier.create(workflow.invoke(Command.resume("first"), config)).expectNext("x+first").verifyComplete();
    // travel back to the paused checkpoint and answer differently
    StepVerifier.create(workflow.invoke(Command.resume("second"), pausedState.config()))
        .expectNext("x+second").verifyComplete();
    assertEquals(1, prepared.get(), "the fork replays the recorded task");
    StateSnapshot latest = workflow.getState(config).block();
    assertEquals("x+second", latest.values());
    StateSnapshot fork = workflow.getState(latest.parentConfig()).block();
    assertEquals("fork", fork.metadata().get("source"));
    assertEquals(pausedState.config(), fork.parentConfig());
  }
}
