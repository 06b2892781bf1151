package dev.fluxgraph.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.fluxgraph.testing.TestClock;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

class InMemoryCacheTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final TestClock clock = new TestClock();
  private final InMemoryCache cache = new InMemoryCache(clock);

  private void put(String namespace, String key, JsonNode value, @Nullable Duration ttl) {
    StepVerifier.create(cache.put(namespace, key, value, ttl)).expectComplete().verify(TIMEOUT);
  }

  private void assertCached(String namespace, String key, JsonNode expected) {
    StepVerifier.create(cache.get(namespace, key)).expectNext(expected).expectComplete().verify(TIMEOUT);
  }

  private void assertMissing(String namespace, String key) {
    StepVerifier.create(cache.get(namespace, key)).expectComplete().verify(TIMEOUT);
  }

  @Test
  void aMissIsEmpty() {
    assertMissing("task", "k");
    put("task", "k", TextNode.valueOf("v"), null);
    assertMissing("task", "other");
    assertMissing("other", "k");
  }

  @Test
  void theLastPutWins() {
    put("task", "k", TextNode.valueOf("first"), null);
    put("task", "k", TextNode.valueOf("second"), null);
    assertCached("task", "k", TextNode.valueOf("second"));
  }

  @Test
  void valuesOfAnyJsonShapeAreReturnedAsGiven() {
    JsonNode object = JsonNodeFactory.instance.objectNode().put("n", 1).set("list",
        JsonNodeFactory.instance.arrayNode().add("x").addNull());
    put("task", "k", object, null);
    StepVerifier.create(cache.get("task", "k"))
        .assertNext(value -> assertTrue(value == object, "no copy of an immutable value"))
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void anEntryLivesUntilItsTtlHasPassed() {
    put("task", "k", TextNode.valueOf("v"), Duration.ofSeconds(60));
    put("task", "forever", TextNode.valueOf("f"), null);
    clock.advance(Duration.ofSeconds(59));
    assertCached("task", "k", TextNode.valueOf("v"));
    clock.advance(Duration.ofSeconds(1));
    assertMissing("task", "k");
    clock.advance(Duration.ofDays(365));
    assertCached("task", "forever", TextNode.valueOf("f"));
  }

  @Test
  void aPutRenewsAnExpiredEntry() {
    put("task", "k", TextNode.valueOf("old"), Duration.ofSeconds(1));
    clock.advance(Duration.ofSeconds(2));
    assertMissing("task", "k");
    put("task", "k", TextNode.valueOf("new"), Duration.ofSeconds(1));
    assertCached("task", "k", TextNode.valueOf("new"));
  }

  @Test
  void clearEmptiesOnlyItsNamespace() {
    put("task", "a", TextNode.valueOf("1"), null);
    put("task", "b", TextNode.valueOf("2"), Duration.ofHours(1));
    put("other", "a", TextNode.valueOf("3"), null);
    StepVerifier.create(cache.clear("task")).expectComplete().verify(TIMEOUT);
    assertMissing("task", "a");
    assertMissing("task", "b");
    assertCached("other", "a", TextNode.valueOf("3"));
    StepVerifier.create(cache.clear("task")).expectComplete().verify(TIMEOUT);
    StepVerifier.create(cache.clear("never-used")).expectComplete().verify(TIMEOUT);
    put("task", "a", TextNode.valueOf("again"), null);
    assertCached("task", "a", TextNode.valueOf("again"));
  }

  @Test
  void aNonPositiveTtlFailsThePut() {
    for (Duration bad : List.of(Duration.ZERO, Duration.ofMillis(-1))) {
      StepVerifier.create(cache.put("t", "k", TextNode.valueOf("v"), bad))
          .expectErrorSatisfies(error -> {
            assertEquals(IllegalArgumentException.class, error.getClass());
            assertTrue(error.getMessage().contains("ttl"), error.getMessage());
          })
          .verify(TIMEOUT);
    }
    assertMissing("t", "k");
  }

  @Test
  void publishersAreColdAndRepeatable() {
    Mono<Void> put = cache.put("task", "k", TextNode.valueOf("v"), null);
    Mono<Void> clear = cache.clear("task");
    Mono<JsonNode> get = cache.get("task", "k");
    assertMissing("task", "k");
    StepVerifier.create(put).expectComplete().verify(TIMEOUT);
    StepVerifier.create(get).expectNext(TextNode.valueOf("v")).expectComplete().verify(TIMEOUT);
    StepVerifier.create(clear).expectComplete().verify(TIMEOUT);
    StepVerifier.create(get).expectComplete().verify(TIMEOUT);
    StepVerifier.create(put).expectComplete().verify(TIMEOUT);
    StepVerifier.create(get).expectNextCount(1).expectComplete().verify(TIMEOUT);
  }

  @Test
  void concurrentPutsOfDistinctKeysAllLand() {
    StepVerifier.create(Flux.range(0, 200)
            .flatMap(i -> cache.put("task", "k" + i, JsonNodeFactory.instance.numberNode(i), null)
                .subscribeOn(Schedulers.parallel()), 32))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(Flux.range(0, 200).concatMap(i -> cache.get("task", "k" + i)).map(JsonNode::intValue))
        .expectNextSequence(java.util.stream.IntStream.range(0, 200).boxed().toList())
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void nullArgumentsAreRejectedAtCallTime() {
    assertNullRejected("namespace", () -> cache.get(null, "k"));
    assertNullRejected("key", () -> cache.get("t", null));
    assertNullRejected("namespace", () -> cache.put(null, "k", TextNode.valueOf("v"), null));
    assertNullRejected("key", () -> cache.put("t", null, TextNode.valueOf("v"), null));
    assertNullRejected("value", () -> cache.put("t", "k", null, null));
    assertNullRejected("namespace", () -> cache.clear(null));
    assertNullRejected("clock", () -> new InMemoryCache(null));
  }

  private static void assertNullRejected(String argument, Executable call) {
    NullPointerException error = assertThrows(NullPointerException.class, call);
    assertEquals(argument + " must not be null", error.getMessage());
  }
}
