package dev.fluxgraph.internal.server.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.NullNode;
import dev.fluxgraph.internal.server.storage.InMemoryRunStore;
import dev.fluxgraph.internal.server.storage.RunStore;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/** How long the registry keeps the events of runs for joinStream (its retention limits). */
class RunRegistryTest {

  private static Run started(RunRegistry registry, String runId) {
    return registry.start(runId, "thread-" + runId, "assistant", Map.of(), "reject", false).block();
  }

  @Test
  void aRunKeepsItsNewestEventsForLateJoiners() {
    RunRegistry registry = new RunRegistry(new InMemoryRunStore(), Ownership.NONE);
    Run run = started(registry, "long");
    int published = RunRegistry.EVENTS_KEPT_PER_RUN + 5;
    for (int i = 0; i < published; i++) {
      run.publish("custom", String.valueOf(i));
    }
    run.finish(RunStatus.SUCCESS, NullNode.getInstance());
    run.publishEnd();
    StepVerifier.create(run.events(-1).map(Run.Event::id).collectList())
        .assertNext(ids -> {
          assertEquals(RunRegistry.EVENTS_KEPT_PER_RUN, ids.size());
          assertEquals(5L, ids.get(0), "the oldest are dropped first");
          assertEquals(published - 1L, ids.get(ids.size() - 1));
        })
        .verifyComplete();
    StepVerifier.create(run.events(published - 3L).map(Run.Event::text))
        .expectNext("event: custom\r\ndata: " + (published - 2) + "\r\nid: " + (published - 2) + "\r\n\r\n")
        .expectNextCount(1)
        .verifyComplete();
  }

  @Test
  void finishedRunsAreForgottenOldestFirstPastTheirEventBudget() {
    RunRegistry registry = new RunRegistry(new InMemoryRunStore(), 100, 1_000);
    Run first = started(registry, "first");
    first.publish("values", "\"" + "x".repeat(600) + "\"");
    first.finish(RunStatus.SUCCESS, NullNode.getInstance());
    assertTrue(registry.live(first.threadId, "first").isPresent(), "within the budget");
    Run second = started(registry, "second");
    second.publish("values", "\"" + "y".repeat(600) + "\"");
    assertTrue(registry.live(first.threadId, "first").isPresent(), "a running run's events do not count yet");
    second.finish(RunStatus.SUCCESS, NullNode.getInstance());
    assertTrue(registry.live(first.threadId, "first").isEmpty(), "over the budget: the first finished is forgotten");
    assertTrue(registry.live(second.threadId, "second").isPresent(), "the newest finished run always stays");
    StepVerifier.create(registry.require(first.threadId, "first").map(RunStore.RunRecord::status))
        .expectNext("success") // its record remains
        .verifyComplete();
  }

  @Test
  void finishedRunsAreForgottenPastTheirCount() {
    RunRegistry registry = new RunRegistry(new InMemoryRunStore(), 2, Long.MAX_VALUE);
    for (String id : new String[] {"a", "b", "c"}) {
      started(registry, id).finish(RunStatus.SUCCESS, NullNode.getInstance());
    }
    assertTrue(registry.live("thread-a", "a").isEmpty());
    assertTrue(registry.live("thread-b", "b").isPresent());
    assertTrue(registry.live("thread-c", "c").isPresent());
  }
}
