package dev.fluxgraph.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.errors.SerializationException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The behaviour every {@link Store} must have. Extend it and return the store under test from {@link #store()};
 * it may be shared between tests, which therefore work under a fresh root namespace label.
 */
public abstract class StoreContract {

  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  /** The store under test. */
  protected abstract Store store();

  /**
   * Moves the store's clock forward, for the TTL test. The default skips that test; implementations whose clock
   * can be controlled override it.
   */
  protected void advanceClock(Duration duration) {
    Assumptions.abort("this store's clock cannot be advanced by the test");
  }

  private final String root = "t" + UUID.randomUUID().toString().replace("-", "");

  private List<String> ns(String... labels) {
    List<String> namespace = new java.util.ArrayList<>();
    namespace.add(root);
    namespace.addAll(List.of(labels));
    return namespace;
  }

  /** A value type that is not a map, to show values are normalized through JSON. */
  public record Memory(String text, List<Integer> scores) {
  }

  @Test
  void putGetReplaceDelete() {
    StepVerifier.create(store().put(ns("users", "1"), "profile", Map.of("name", "Ann", "age", 30)))
        .expectComplete().verify(TIMEOUT);
    Item first = store().get(ns("users", "1"), "profile").block(TIMEOUT);
    assertEquals(Map.of("name", "Ann", "age", 30), first.value());
    assertEquals(ns("users", "1"), first.namespace());
    assertEquals("profile", first.key());

    store().put(ns("users", "1"), "profile", Map.of("name", "Ann", "age", 31)).block(TIMEOUT);
    StepVerifier.create(store().get(ns("users", "1"), "profile"))
        .assertNext(item -> {
          assertEquals(31, item.value().get("age"));
          assertEquals(first.createdAt(), item.createdAt());
          assertFalse(item.updatedAt().isBefore(first.updatedAt()));
        })
        .expectComplete().verify(TIMEOUT);

    StepVerifier.create(store().delete(ns("users", "1"), "profile")).expectComplete().verify(TIMEOUT);
    StepVerifier.create(store().get(ns("users", "1"), "profile")).expectComplete().verify(TIMEOUT);
    StepVerifier.create(store().delete(ns("users", "1"), "profile")).expectComplete().verify(TIMEOUT);
  }

  @Test
  void valuesComeBackAsPlainJsonData() {
    store().put(ns("m"), "k", Map.of("memory", new Memory("likes tea", List.of(1, 2)))).block(TIMEOUT);
    StepVerifier.create(store().get(ns("m"), "k"))
        .assertNext(item -> assertEquals(Map.of("memory", Map.of("text", "likes tea", "scores", List.of(1, 2))),
            item.value()))
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void aNonSerializableValueFailsNamingTheKey() {
    StepVerifier.create(Mono.defer(() -> store().put(ns("m"), "bad", Map.of("x", new Object()))))
        .expectErrorSatisfies(error -> {
          assertEquals(SerializationException.class, error.getClass());
          assertTrue(error.getMessage().contains("bad"), error.getMessage());
        })
        .verify(TIMEOUT);
  }

  @Test
  void invalidNamespacesAndKeysAreRejected() {
    for (List<String> bad : List.of(List.<String>of(), List.of(root, ""), List.of(root, "a.b"))) {
      StepVerifier.create(Mono.defer(() -> store().put(bad, "k", Map.of())))
          .expectErrorSatisfies(error -> {
            assertEquals(IllegalArgumentException.class, error.getClass());
            assertTrue(error.getMessage().contains("namespace"), error.getMessage());
          })
          .verify(TIMEOUT);
    }
    StepVerifier.create(Mono.defer(() -> store().put(ns("a"), " ", Map.of())))
        .expectErrorSatisfies(error -> assertTrue(error.getMessage().contains("key"), error.getMessage()))
        .verify(TIMEOUT);
  }

  @Test
  void searchByPrefixFilterAndPage() {
    store().put(ns("docs", "a"), "1", Map.of("kind", "note", "n", 1)).block(TIMEOUT);
    store().put(ns("docs", "a"), "2", Map.of("kind", "todo", "n", 2)).block(TIMEOUT);
    store().put(ns("docs", "b"), "3", Map.of("kind", "note", "n", 3)).block(TIMEOUT);
    store().put(ns("other"), "4", Map.of("kind", "note", "n", 4)).block(TIMEOUT);

    StepVerifier.create(store().search(ns("docs"), SearchOptions.defaults()).map(Item::key).collectList())
        .assertNext(keys -> assertEquals(List.of("1", "2", "3"), keys.stream().sorted().toList()))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(store().search(ns("docs"), SearchOptions.defaults().withFilter(Map.of("kind", "note")))
            .map(Item::key).collectList())
        .assertNext(keys -> assertEquals(List.of("1", "3"), keys.stream().sorted().toList()))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(store().search(ns("docs"), SearchOptions.defaults().withFilter(Map.of("n", 2L)))
            .map(Item::key))
        .expectNext("2")
        .expectComplete().verify(TIMEOUT);
    List<String> all = store().search(List.of(root), SearchOptions.defaults()).map(Item::key).collectList()
        .block(TIMEOUT);
    assertEquals(4, all.size());
    StepVerifier.create(store().search(List.of(root), SearchOptions.defaults().withOffset(1).withLimit(2))
            .map(Item::key).collectList())
        .expectNext(all.subList(1, 3))
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void searchReturnsTheMostRecentlyUpdatedFirst() {
    store().put(ns("r"), "old", Map.of("v", 1)).block(TIMEOUT);
    Mono.delay(Duration.ofMillis(5)).block();
    store().put(ns("r"), "new", Map.of("v", 2)).block(TIMEOUT);
    Mono.delay(Duration.ofMillis(5)).block();
    store().put(ns("r"), "old", Map.of("v", 3)).block(TIMEOUT);
    StepVerifier.create(store().search(ns("r"), SearchOptions.defaults()).map(Item::key))
        .expectNext("old", "new")
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void listNamespacesWithPrefixSuffixDepthAndPaging() {
    Flux.just(ns("a", "x", "memories"), ns("a", "y", "memories"), ns("b", "x", "prefs"), ns("b"))
        .concatMap(namespace -> store().put(namespace, "k", Map.of("v", 1)))
        .then().block(TIMEOUT);
    NamespaceQuery mine = NamespaceQuery.all().withPrefix(List.of(root));
    StepVerifier.create(store().listNamespaces(mine).collectList())
        .expectNext(List.of(ns("a", "x", "memories"), ns("a", "y", "memories"), ns("b"), ns("b", "x", "prefs")))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(store().listNamespaces(mine.withSuffix(List.of("memories"))).collectList())
        .expectNext(List.of(ns("a", "x", "memories"), ns("a", "y", "memories")))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(store().listNamespaces(mine.withMaxDepth(2)).collectList())
        .expectNext(List.of(ns("a"), ns("b")))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(store().listNamespaces(mine.withOffset(1).withLimit(2)).collectList())
        .expectNext(List.of(ns("a", "y", "memories"), ns("b")))
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void itemsExpireAfterTheirTtl() {
    store().put(ns("ttl"), "short", Map.of("v", 1), Duration.ofSeconds(10)).block(TIMEOUT);
    store().put(ns("ttl"), "forever", Map.of("v", 2)).block(TIMEOUT);
    advanceClock(Duration.ofSeconds(11));
    StepVerifier.create(store().get(ns("ttl"), "short")).expectComplete().verify(TIMEOUT);
    StepVerifier.create(store().search(ns("ttl"), SearchOptions.defaults()).map(Item::key))
        .expectNext("forever")
        .expectComplete().verify(TIMEOUT);
  }
}
