package dev.fluxgraph.cache;

import com.fasterxml.jackson.databind.node.TextNode;
import dev.fluxgraph.testing.TestClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class InMemoryCacheTest {

  private final TestClock clock = new TestClock();
  private final InMemoryCache cache = new InMemoryCache(clock);

  @Test
  void entriesLiveUntilTheirTtlAndClearEmptiesOnlyTheirNamespace() {
    cache.put("task", "k", TextNode.valueOf("v"), Duration.ofSeconds(60)).block();
    cache.put("task", "forever", TextNode.valueOf("f"), null).block();
    cache.put("other", "k", TextNode.valueOf("o"), null).block();
    StepVerifier.create(cache.get("task", "k")).expectNext(TextNode.valueOf("v")).verifyComplete();
    clock.advance(Duration.ofSeconds(60));
    StepVerifier.create(cache.get("task", "k")).verifyComplete();
    StepVerifier.create(cache.get("task", "forever")).expectNext(TextNode.valueOf("f")).verifyComplete();
    StepVerifier.create(cache.clear("task")).verifyComplete();
    StepVerifier.create(cache.get("task", "forever")).verifyComplete();
    StepVerifier.create(cache.get("other", "k")).expectNext(TextNode.valueOf("o")).verifyComplete();
  }

  @Test
  void aNonPositiveTtlIsRejected() {
    StepVerifier.create(Mono.defer(() -> cache.put("t", "k", TextNode.valueOf("v"), Duration.ZERO)))
        .expectError(IllegalArgumentException.class)
        .verify();
  }
}
