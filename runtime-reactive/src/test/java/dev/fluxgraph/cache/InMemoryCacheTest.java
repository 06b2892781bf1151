package dev.fluxgraph.cache;

import com.fasterxml.jackson.databind.node.TextNode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class InMemoryCacheTest {

  private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
  private final InMemoryCache cache = new InMemoryCache(new Clock() {
    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now.get();
    }
  });

  @Test
  void entriesLiveUntilTheirTtlAndClearEmptiesOnlyTheirNamespace() {
    cache.put("task", "k", TextNode.valueOf("v"), Duration.ofSeconds(60)).block();
    cache.put("task", "forever", TextNode.valueOf("f"), null).block();
    cache.put("other", "k", TextNode.valueOf("o"), null).block();
    StepVerifier.create(cache.get("task", "k")).expectNext(TextNode.valueOf("v")).verifyComplete();
    now.set(now.get().plusSeconds(60));
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
