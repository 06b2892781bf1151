package dev.fluxgraph.store;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.fluxgraph.testing.TestClock;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** {@link InMemoryStore} against the store contract, with a clock the expiry tests can move; and its own rules. */
class InMemoryStoreTest extends StoreContract {

  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final TestClock clock = new TestClock();
  private final InMemoryStore store = new InMemoryStore(clock);

  @Override
  protected Store store() {
    return store;
  }

  @Override
  protected void advanceClock(Duration duration) {
    clock.advance(duration);
  }

  @Test
  void itemsUpdatedAtTheSameInstantAreOrderedByJoinedNamespaceThenKey() {
    InMemoryStore frozen = new InMemoryStore(Clock.fixed(Instant.parse("2024-01-01T00:00:00Z"), ZoneOffset.UTC));
    Flux.just(List.of("s", "b"), List.of("s", "a", "z"), List.of("s", "a-b"), List.of("s", "a"))
        .concatMap(namespace -> Flux.just("k2", "k1").concatMap(key -> frozen.put(namespace, key, Map.of())))
        .as(StepVerifier::create).expectComplete().verify(TIMEOUT);
    // Joined with '.', as a store keeping "s.a-b" and "s.a.z" in one text column sorts them: '-' before '.'.
    StepVerifier.create(frozen.search(List.of("s"), SearchOptions.defaults())
            .map(item -> String.join(".", item.namespace()) + "/" + item.key()))
        .expectNext("s.a/k1", "s.a/k2", "s.a-b/k1", "s.a-b/k2", "s.a.z/k1", "s.a.z/k2", "s.b/k1", "s.b/k2")
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void whatReadersGetIsUnmodifiableAtEveryDepth() {
    StepVerifier.create(store.put(List.of("u"), "k", Map.of("list", List.of(Map.of("a", 1)), "map", Map.of())))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(store.get(List.of("u"), "k"))
        .assertNext(item -> {
          @SuppressWarnings("unchecked")
          List<Object> list = (List<Object>) item.value().get("list");
          @SuppressWarnings("unchecked")
          Map<String, Object> element = (Map<String, Object>) list.get(0);
          @SuppressWarnings("unchecked")
          Map<String, Object> map = (Map<String, Object>) item.value().get("map");
          assertThrows(UnsupportedOperationException.class, () -> item.value().put("x", 1));
          assertThrows(UnsupportedOperationException.class, () -> list.add(1));
          assertThrows(UnsupportedOperationException.class, () -> element.put("b", 2));
          assertThrows(UnsupportedOperationException.class, () -> map.put("b", 2));
        })
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void aStoreIsEmptyUntilWrittenAndInstancesShareNothing() {
    InMemoryStore other = new InMemoryStore();
    StepVerifier.create(store.put(List.of("iso"), "k", Map.of("v", 1))).expectComplete().verify(TIMEOUT);
    StepVerifier.create(other.get(List.of("iso"), "k")).expectComplete().verify(TIMEOUT);
    StepVerifier.create(other.listNamespaces(NamespaceQuery.all())).expectComplete().verify(TIMEOUT);
  }

  @Test
  void aNullClockIsRejected() {
    assertThrows(NullPointerException.class, () -> new InMemoryStore(null));
  }
}
