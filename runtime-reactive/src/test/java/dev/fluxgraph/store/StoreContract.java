package dev.fluxgraph.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.errors.SerializationException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.opentest4j.TestAbortedException;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The behaviour every {@link Store} must have, as its Javadoc states it. Extend it and return the store under
 * test from {@link #store()}, which is called once per test and may return one shared instance: every test works
 * under a fresh, random first namespace label, so tests neither see nor disturb each other's items.
 *
 * <p>Expiry is optional: a store without it overrides {@link #supportsTtl()}. The expiry tests also need to move
 * the store's clock, through {@link #advanceClock(Duration)}; without that hook they are skipped (aborted).
 *
 * <p>Shipped in this module's test-jar.
 */
public abstract class StoreContract {

  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final String root = "t" + UUID.randomUUID().toString().replace("-", "");
  private @Nullable Store store;

  /** The store under test; called once per test. */
  protected abstract Store store();

  /** Whether the store honours {@code put}'s ttl; true unless overridden. */
  protected boolean supportsTtl() {
    return true;
  }

  /**
   * Moves the store's clock forward by {@code duration}. The default aborts the calling test (it is reported as
   * skipped); stores whose clock the test controls override it.
   */
  protected void advanceClock(Duration duration) {
    Assumptions.abort("this store's clock cannot be advanced by the test");
  }

  private Store subject() {
    if (store == null) {
      store = store();
    }
    return store;
  }

  /** A namespace under this test's own first label. */
  private List<String> ns(String... labels) {
    List<String> namespace = new ArrayList<>();
    namespace.add(root);
    namespace.addAll(List.of(labels));
    return List.copyOf(namespace);
  }

  /**
   * Lets time pass so the next write gets a later timestamp: through the controllable clock when there is one,
   * otherwise by waiting a few milliseconds.
   */
  private void letTimePass() {
    try {
      advanceClock(Duration.ofSeconds(1));
    } catch (TestAbortedException noClock) {
      StepVerifier.create(Mono.delay(Duration.ofMillis(5))).expectNextCount(1).expectComplete().verify(TIMEOUT);
    }
  }

  private void put(List<String> namespace, String key, Map<String, Object> value) {
    StepVerifier.create(subject().put(namespace, key, value)).expectComplete().verify(TIMEOUT);
  }

  private void put(List<String> namespace, String key, Map<String, Object> value, Duration ttl) {
    StepVerifier.create(subject().put(namespace, key, value, ttl)).expectComplete().verify(TIMEOUT);
  }

  private void assertAbsent(List<String> namespace, String key) {
    StepVerifier.create(subject().get(namespace, key)).expectComplete().verify(TIMEOUT);
  }

  private void assertValue(List<String> namespace, String key, Map<String, Object> expected) {
    StepVerifier.create(subject().get(namespace, key).map(Item::value))
        .expectNext(expected)
        .expectComplete().verify(TIMEOUT);
  }

  private void assertSearch(List<String> prefix, SearchOptions options, String... expectedKeys) {
    StepVerifier.create(subject().search(prefix, options).map(Item::key))
        .expectNext(expectedKeys)
        .expectComplete().verify(TIMEOUT);
  }

  private void assertNamespaces(NamespaceQuery query, List<List<String>> expected) {
    StepVerifier.create(subject().listNamespaces(query))
        .expectNextSequence(expected)
        .expectComplete().verify(TIMEOUT);
  }

  private static void assertIllegalArgument(Call call, String... inMessage) {
    StepVerifier.create(Flux.defer(() -> Flux.<Object>from(call.invoke())))
        .expectErrorSatisfies(error -> {
          assertEquals(IllegalArgumentException.class, error.getClass(), () -> "got " + error);
          for (String part : inMessage) {
            assertTrue(error.getMessage().contains(part), () -> "'" + part + "' not in: " + error.getMessage());
          }
        })
        .verify(TIMEOUT);
  }

  /** A store call; deferred, so an implementation may throw or return a failing publisher. */
  private interface Call {
    Publisher<?> invoke();
  }

  /** A value type that is not a map, to show values are normalized through JSON. */
  public record Memory(String text, List<Integer> scores, float weight, Instant at) {
  }

  // put, get, delete

  @Test
  void putGetReplaceAndDelete() {
    put(ns("users", "1"), "profile", Map.of("name", "Ann", "age", 30));
    Item[] first = new Item[1];
    StepVerifier.create(subject().get(ns("users", "1"), "profile"))
        .assertNext(item -> {
          assertEquals(ns("users", "1"), item.namespace());
          assertEquals("profile", item.key());
          assertEquals(Map.of("name", "Ann", "age", 30), item.value());
          assertEquals(item.createdAt(), item.updatedAt(), "a new item was created when it was updated");
          first[0] = item;
        })
        .expectComplete().verify(TIMEOUT);

    letTimePass();
    put(ns("users", "1"), "profile", Map.of("name", "Ann", "age", 31, "city", "Oslo"));
    StepVerifier.create(subject().get(ns("users", "1"), "profile"))
        .assertNext(item -> {
          assertEquals(Map.of("name", "Ann", "age", 31, "city", "Oslo"), item.value(), "replaced, not merged");
          assertEquals(first[0].createdAt(), item.createdAt(), "createdAt stays on replace");
          assertTrue(item.updatedAt().isAfter(first[0].updatedAt()), "updatedAt moves on replace");
        })
        .expectComplete().verify(TIMEOUT);

    StepVerifier.create(subject().delete(ns("users", "1"), "profile")).expectComplete().verify(TIMEOUT);
    assertAbsent(ns("users", "1"), "profile");
    StepVerifier.create(subject().delete(ns("users", "1"), "profile")).expectComplete().verify(TIMEOUT);
  }

  @Test
  void anAbsentItemIsEmpty() {
    assertAbsent(ns("nowhere"), "k");
    put(ns("somewhere"), "k", Map.of("v", 1));
    assertAbsent(ns("somewhere"), "other");
    assertAbsent(ns("somewhere", "deeper"), "k");
    assertAbsent(List.of(root), "k");
    StepVerifier.create(subject().delete(ns("nowhere"), "k")).expectComplete().verify(TIMEOUT);
  }

  @Test
  void namespacesAndKeysAreExact() {
    put(ns("a", "b"), "k", Map.of("v", "ab"));
    put(ns("a"), "k", Map.of("v", "a"));
    put(ns("a", "b"), "K", Map.of("v", "AB"));
    assertValue(ns("a", "b"), "k", Map.of("v", "ab"));
    assertValue(ns("a"), "k", Map.of("v", "a"));
    assertValue(ns("a", "b"), "K", Map.of("v", "AB"));
    StepVerifier.create(subject().delete(ns("a"), "k")).expectComplete().verify(TIMEOUT);
    assertValue(ns("a", "b"), "k", Map.of("v", "ab"));
  }

  @Test
  void anEmptyValueIsAValue() {
    put(ns("e"), "k", Map.of());
    assertValue(ns("e"), "k", Map.of());
  }

  // JSON normalization

  @Test
  void valuesComeBackAsPlainJsonData() {
    Map<String, Object> value = new LinkedHashMap<>();
    value.put("memory", new Memory("likes tea", List.of(1, 2), 0.5f, Instant.parse("2024-05-06T07:08:09Z")));
    value.put("tags", new ArrayList<>(List.of("a", "b")));
    value.put("nested", Map.of("deep", List.of(Map.of("x", true))));
    value.put("big", 1L << 40);
    value.put("nothing", null);
    put(ns("m"), "k", value);

    Map<String, Object> expected = new HashMap<>();
    expected.put("memory", Map.of("text", "likes tea", "scores", List.of(1, 2), "weight", 0.5,
        "at", "2024-05-06T07:08:09Z"));
    expected.put("tags", List.of("a", "b"));
    expected.put("nested", Map.of("deep", List.of(Map.of("x", true))));
    expected.put("big", 1L << 40);
    expected.put("nothing", null);
    assertValue(ns("m"), "k", expected);
  }

  @Test
  void theStoreSharesNoStateWithCallers() {
    List<String> tags = new ArrayList<>(List.of("a"));
    Map<String, Object> value = new HashMap<>(Map.of("tags", tags));
    List<String> namespace = new ArrayList<>(ns("shared"));
    put(namespace, "k", value);
    tags.add("added after put");
    value.put("other", 1);
    namespace.add("changed");
    assertValue(ns("shared"), "k", Map.of("tags", List.of("a")));

    StepVerifier.create(subject().get(ns("shared"), "k"))
        .assertNext(item -> {
          try {
            @SuppressWarnings("unchecked")
            List<Object> read = (List<Object>) item.value().get("tags");
            read.add("added by a reader");
          } catch (UnsupportedOperationException unmodifiable) {
            // Equally fine: what a reader gets may be read-only.
          }
        })
        .expectComplete().verify(TIMEOUT);
    assertValue(ns("shared"), "k", Map.of("tags", List.of("a")));
  }

  @Test
  void aNonSerializableValueFailsNamingNamespaceAndKey() {
    StepVerifier.create(Mono.defer(() -> subject().put(ns("m"), "bad", Map.of("x", new Object()))))
        .expectErrorSatisfies(error -> {
          assertEquals(SerializationException.class, error.getClass(), () -> "got " + error);
          assertTrue(error.getMessage().contains("bad"), error.getMessage());
          assertTrue(error.getMessage().contains(root), error.getMessage());
        })
        .verify(TIMEOUT);
    assertAbsent(ns("m"), "bad");
  }

  // validation

  @Test
  void invalidNamespacesAreRejected() {
    List<List<String>> invalid = List.of(List.of(), List.of(root, ""), List.of(root, "a.b"), List.of("."));
    for (List<String> bad : invalid) {
      assertIllegalArgument(() -> subject().put(bad, "k", Map.of()), "namespace");
      assertIllegalArgument(() -> subject().get(bad, "k"), "namespace");
      assertIllegalArgument(() -> subject().delete(bad, "k"), "namespace");
    }
    assertIllegalArgument(() -> subject().search(List.of(root, "a.b"), SearchOptions.defaults()), "namespace");
    assertIllegalArgument(() -> subject().listNamespaces(NamespaceQuery.all().withPrefix(List.of(root, ""))),
        "namespace");
  }

  @Test
  void blankKeysAreRejected() {
    for (String bad : List.of("", " ", "\t\n")) {
      assertIllegalArgument(() -> subject().put(ns("a"), bad, Map.of()), "key");
      assertIllegalArgument(() -> subject().get(ns("a"), bad), "key");
      assertIllegalArgument(() -> subject().delete(ns("a"), bad), "key");
    }
  }

  @Test
  void aNonPositiveTtlIsRejected() {
    for (Duration bad : List.of(Duration.ZERO, Duration.ofSeconds(-1))) {
      assertIllegalArgument(() -> subject().put(ns("a"), "k", Map.of(), bad), "ttl");
    }
    assertAbsent(ns("a"), "k");
  }

  @Test
  void nullArgumentsAreRejectedAtCallTime() {
    Map<String, Object> value = Map.of();
    assertNullRejected("namespace", () -> subject().put(null, "k", value, null));
    assertNullRejected("key", () -> subject().put(ns("a"), null, value, null));
    assertNullRejected("value", () -> subject().put(ns("a"), "k", null, null));
    assertNullRejected("namespace", () -> subject().get(null, "k"));
    assertNullRejected("key", () -> subject().get(ns("a"), null));
    assertNullRejected("namespace", () -> subject().delete(null, "k"));
    assertNullRejected("key", () -> subject().delete(ns("a"), null));
    assertNullRejected("namespacePrefix", () -> subject().search(null, SearchOptions.defaults()));
    assertNullRejected("options", () -> subject().search(ns(), null));
    assertNullRejected("query", () -> subject().listNamespaces(null));
  }

  private static void assertNullRejected(String argument, Executable call) {
    NullPointerException error = assertThrows(NullPointerException.class, call);
    assertEquals(argument + " must not be null", error.getMessage());
  }

  // search

  @Test
  void searchMatchesNamespacePrefixesLabelByLabel() {
    put(ns("docs"), "1", Map.of("v", 1));
    put(ns("docs", "a"), "2", Map.of("v", 2));
    put(ns("docs", "a", "b"), "3", Map.of("v", 3));
    put(ns("docsx"), "4", Map.of("v", 4));
    put(ns("other", "docs"), "5", Map.of("v", 5));
    StepVerifier.create(subject().search(ns("docs"), SearchOptions.defaults()).map(Item::key).sort())
        .expectNext("1", "2", "3")
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().search(ns("docs", "a"), SearchOptions.defaults()).map(Item::key).sort())
        .expectNext("2", "3")
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().search(ns(), SearchOptions.defaults()).map(Item::key).sort())
        .expectNext("1", "2", "3", "4", "5")
        .expectComplete().verify(TIMEOUT);
    assertSearch(ns("doc"), SearchOptions.defaults());
  }

  @Test
  void searchWithAnEmptyPrefixCoversEveryNamespace() {
    put(ns("anywhere"), "k", Map.of("marker", root));
    assertSearch(List.of(), SearchOptions.defaults().withFilter(Map.of("marker", root)), "k");
  }

  @Test
  void searchFiltersCompareTopLevelFieldsAsJson() {
    put(ns("f"), "ann", Map.of("name", "Ann", "age", 30, "admin", true, "meta", Map.of("n", 1, "tags", List.of("x"))));
    put(ns("f"), "bob", Map.of("name", "Bob", "age", 30L, "admin", false));
    put(ns("f"), "cid", Map.of("name", "Cid", "age", "30"));
    Map<String, Object> withNull = new HashMap<>();
    withNull.put("name", "Dan");
    withNull.put("age", null);
    put(ns("f"), "dan", withNull);

    SearchOptions options = SearchOptions.defaults();
    assertSearch(ns("f"), options.withFilter(Map.of("name", "Ann")), "ann");
    StepVerifier.create(subject().search(ns("f"), options.withFilter(Map.of("age", 30))).map(Item::key).sort())
        .expectNext("ann", "bob")
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().search(ns("f"), options.withFilter(Map.of("age", 30L))).map(Item::key).sort())
        .expectNext("ann", "bob")
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().search(ns("f"), options.withFilter(Map.of("age", 30.0))).map(Item::key).sort())
        .expectNext("ann", "bob")
        .expectComplete().verify(TIMEOUT);
    assertSearch(ns("f"), options.withFilter(Map.of("age", "30")), "cid");
    assertSearch(ns("f"), options.withFilter(Map.of("age", 30, "admin", false)), "bob");
    assertSearch(ns("f"), options.withFilter(Map.of("admin", true)), "ann");
    assertSearch(ns("f"), options.withFilter(Map.of("meta", Map.of("tags", List.of("x"), "n", 1L))), "ann");
    assertSearch(ns("f"), options.withFilter(Map.of("meta", Map.of("n", 1))));
    assertSearch(ns("f"), options.withFilter(Map.of("missing", 1)));
    Map<String, Object> nullFilter = new HashMap<>();
    nullFilter.put("age", null);
    assertSearch(ns("f"), options.withFilter(nullFilter), "dan");
  }

  @Test
  void searchReturnsTheMostRecentlyUpdatedFirst() {
    put(ns("r"), "old", Map.of("v", 1));
    letTimePass();
    put(ns("r", "deeper"), "new", Map.of("v", 2));
    letTimePass();
    put(ns("r"), "newest", Map.of("v", 3));
    assertSearch(ns("r"), SearchOptions.defaults(), "newest", "new", "old");
    letTimePass();
    put(ns("r"), "old", Map.of("v", 4));
    assertSearch(ns("r"), SearchOptions.defaults(), "old", "newest", "new");
  }

  @Test
  void searchPagesWithOffsetAndLimit() {
    for (int i = 0; i < 5; i++) {
      put(ns("p"), "k" + i, Map.of("i", i));
      letTimePass();
    }
    assertSearch(ns("p"), SearchOptions.defaults(), "k4", "k3", "k2", "k1", "k0");
    assertSearch(ns("p"), SearchOptions.defaults().withLimit(2), "k4", "k3");
    assertSearch(ns("p"), SearchOptions.defaults().withOffset(1).withLimit(2), "k3", "k2");
    assertSearch(ns("p"), SearchOptions.defaults().withOffset(4), "k0");
    assertSearch(ns("p"), SearchOptions.defaults().withOffset(5));
    assertSearch(ns("p"), SearchOptions.defaults().withFilter(Map.of("i", 2)).withOffset(1));
  }

  // listNamespaces

  @Test
  void listNamespacesWithPrefixSuffixDepthAndPaging() {
    Flux.just(ns("a", "x", "memories"), ns("a", "y", "memories"), ns("b", "x", "prefs"), ns("b"), ns("a-b"))
        .concatMap(namespace -> subject().put(namespace, "k", Map.of("v", 1)))
        .as(StepVerifier::create).expectComplete().verify(TIMEOUT);
    put(ns("b"), "second", Map.of("v", 2));
    NamespaceQuery mine = NamespaceQuery.all().withPrefix(List.of(root));

    // Sorted label by label: a namespace before its extensions, "a" before "a-b".
    assertNamespaces(mine, List.of(ns("a", "x", "memories"), ns("a", "y", "memories"), ns("a-b"), ns("b"),
        ns("b", "x", "prefs")));
    assertNamespaces(mine.withSuffix(List.of("memories")), List.of(ns("a", "x", "memories"),
        ns("a", "y", "memories")));
    assertNamespaces(mine.withSuffix(List.of("x", "prefs")), List.of(ns("b", "x", "prefs")));
    assertNamespaces(mine.withPrefix(ns("b")), List.of(ns("b"), ns("b", "x", "prefs")));
    assertNamespaces(mine.withPrefix(ns("a")).withSuffix(List.of("memories")),
        List.of(ns("a", "x", "memories"), ns("a", "y", "memories")));
    assertNamespaces(mine.withMaxDepth(2), List.of(ns("a"), ns("a-b"), ns("b")));
    assertNamespaces(mine.withMaxDepth(3), List.of(ns("a", "x"), ns("a", "y"), ns("a-b"), ns("b"), ns("b", "x")));
    assertNamespaces(mine.withMaxDepth(1), List.of(List.of(root)));
    assertNamespaces(mine.withOffset(1).withLimit(2), List.of(ns("a", "y", "memories"), ns("a-b")));
    assertNamespaces(mine.withMaxDepth(2).withOffset(2), List.of(ns("b")));
    assertNamespaces(mine.withOffset(5), List.of());
    assertNamespaces(mine.withPrefix(ns("c")), List.of());
  }

  @Test
  void aNamespaceIsListedWhileItHoldsAnItem() {
    put(ns("n"), "1", Map.of("v", 1));
    put(ns("n"), "2", Map.of("v", 2));
    NamespaceQuery mine = NamespaceQuery.all().withPrefix(List.of(root));
    assertNamespaces(mine, List.of(ns("n")));
    StepVerifier.create(subject().delete(ns("n"), "1")).expectComplete().verify(TIMEOUT);
    assertNamespaces(mine, List.of(ns("n")));
    StepVerifier.create(subject().delete(ns("n"), "2")).expectComplete().verify(TIMEOUT);
    assertNamespaces(mine, List.of());
  }

  // expiry

  @Test
  void itemsExpireAfterTheirTtl() {
    Assumptions.assumeTrue(supportsTtl(), "this store does not expire items");
    put(ns("ttl", "gone"), "short", Map.of("v", 1), Duration.ofSeconds(10));
    put(ns("ttl"), "forever", Map.of("v", 2));
    put(ns("ttl"), "long", Map.of("v", 3), Duration.ofHours(1));
    advanceClock(Duration.ofSeconds(5));
    assertValue(ns("ttl", "gone"), "short", Map.of("v", 1));

    advanceClock(Duration.ofSeconds(6));
    assertAbsent(ns("ttl", "gone"), "short");
    StepVerifier.create(subject().search(ns("ttl"), SearchOptions.defaults()).map(Item::key).sort())
        .expectNext("forever", "long")
        .expectComplete().verify(TIMEOUT);
    assertNamespaces(NamespaceQuery.all().withPrefix(List.of(root)), List.of(ns("ttl")));
    assertValue(ns("ttl"), "long", Map.of("v", 3));
  }

  @Test
  void aPutAfterExpiryStartsANewItemAndAPutWithoutTtlKeepsIt() {
    Assumptions.assumeTrue(supportsTtl(), "this store does not expire items");
    put(ns("ttl"), "k", Map.of("v", 1), Duration.ofSeconds(10));
    Instant[] created = new Instant[1];
    StepVerifier.create(subject().get(ns("ttl"), "k"))
        .assertNext(item -> created[0] = item.createdAt())
        .expectComplete().verify(TIMEOUT);
    advanceClock(Duration.ofSeconds(20));
    put(ns("ttl"), "k", Map.of("v", 2), Duration.ofSeconds(10));
    StepVerifier.create(subject().get(ns("ttl"), "k"))
        .assertNext(item -> {
          assertEquals(Map.of("v", 2), item.value());
          assertTrue(item.createdAt().isAfter(created[0]), "the expired item was not replaced but renewed");
        })
        .expectComplete().verify(TIMEOUT);

    advanceClock(Duration.ofSeconds(5));
    put(ns("ttl"), "k", Map.of("v", 3));
    advanceClock(Duration.ofDays(365));
    assertValue(ns("ttl"), "k", Map.of("v", 3));
  }

  @Test
  void aReadWithRefreshTtlMovesTheExpiryAndOneWithoutLeavesIt() {
    Assumptions.assumeTrue(supportsTtl(), "this store does not expire items");
    put(ns("refresh"), "got", Map.of("v", 1), Duration.ofSeconds(10));
    put(ns("refresh"), "plain", Map.of("v", 2), Duration.ofSeconds(10));
    put(ns("refresh"), "forever", Map.of("v", 3));
    advanceClock(Duration.ofSeconds(8));
    StepVerifier.create(subject().get(ns("refresh"), "got", true).map(Item::value))
        .expectNext(Map.of("v", 1)).expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().get(ns("refresh"), "forever", true).map(Item::value))
        .expectNext(Map.of("v", 3)).expectComplete().verify(TIMEOUT);
    assertValue(ns("refresh"), "plain", Map.of("v", 2)); // read without refresh
    advanceClock(Duration.ofSeconds(4)); // 12 s after the puts, 4 s after the refresh
    assertValue(ns("refresh"), "got", Map.of("v", 1));
    assertAbsent(ns("refresh"), "plain");
    advanceClock(Duration.ofSeconds(7)); // 11 s after the refresh
    assertAbsent(ns("refresh"), "got");
    advanceClock(Duration.ofDays(365));
    assertValue(ns("refresh"), "forever", Map.of("v", 3)); // a refresh gave it no ttl
  }

  @Test
  void aSearchWithRefreshTtlMovesTheExpiryOfTheItemsItReturns() {
    Assumptions.assumeTrue(supportsTtl(), "this store does not expire items");
    put(ns("found", "a"), "k", Map.of("v", 1), Duration.ofSeconds(10));
    put(ns("other"), "k", Map.of("v", 2), Duration.ofSeconds(10));
    advanceClock(Duration.ofSeconds(8));
    StepVerifier.create(subject().search(ns("found"), SearchOptions.defaults().withRefreshTtl(true)).map(Item::key))
        .expectNext("k").expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().search(ns("other"), SearchOptions.defaults()).map(Item::key))
        .expectNext("k").expectComplete().verify(TIMEOUT);
    advanceClock(Duration.ofSeconds(4));
    assertValue(ns("found", "a"), "k", Map.of("v", 1));
    assertAbsent(ns("other"), "k");
  }

  // laziness

  @Test
  void publishersAreColdAndRepeatable() {
    Mono<Void> put = subject().put(ns("cold"), "k", Map.of("v", 1));
    Mono<Void> delete = subject().delete(ns("cold"), "k");
    Mono<Item> get = subject().get(ns("cold"), "k");
    Flux<Item> search = subject().search(ns("cold"), SearchOptions.defaults());
    StepVerifier.create(get).expectComplete().verify(TIMEOUT);
    StepVerifier.create(search).expectComplete().verify(TIMEOUT);
    StepVerifier.create(put).expectComplete().verify(TIMEOUT);
    StepVerifier.create(put).expectComplete().verify(TIMEOUT);
    StepVerifier.create(get.map(Item::value)).expectNext(Map.of("v", 1)).expectComplete().verify(TIMEOUT);
    StepVerifier.create(search.map(Item::key)).expectNext("k").expectComplete().verify(TIMEOUT);
    StepVerifier.create(delete).expectComplete().verify(TIMEOUT);
    StepVerifier.create(get).expectComplete().verify(TIMEOUT);
  }
}
