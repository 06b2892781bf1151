package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.postgres.PostgresStore;
import dev.fluxgraph.store.InMemoryStore;
import dev.fluxgraph.store.Item;
import dev.fluxgraph.store.Store;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Mono;

/**
 * The store API over a real socket, on the server's {@link Store} (what a graph reads is what the API wrote), in
 * memory and on PostgreSQL (checked there through plain SQL too).
 */
class StoreServerIT {

  private static final ServerFixture.Database DB = ServerFixture.database(StoreServerIT.class);

  /** A server on the store of {@code persistence}; the test gets a client of it and the store. */
  private interface Scenario {
    void run(ApiClient api, Store store);
  }

  private static void withServer(String persistence, Scenario scenario) {
    Entrypoint<String, String> echo = Entrypoint.named("echo").define(String.class, String.class,
        (input, context) -> Mono.just(input));
    String url = DB.urlFor(persistence);
    if (url == null) {
      Store store = new InMemoryStore();
      ServerFixture.withServers(null, 1, builder -> builder.store(store).graph("echo", echo),
          apis -> scenario.run(apis.get(0), store));
      return;
    }
    try (PostgresStore store = PostgresStore.connect(url)) {
      store.setup().block(Duration.ofSeconds(30));
      ServerFixture.withServers(url, 1, builder -> builder.store(store).graph("echo", echo),
          apis -> scenario.run(apis.get(0), store));
    }
  }

  private static String root() {
    return "t" + UUID.randomUUID().toString().replace("-", "");
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "postgres"})
  void putGetSearchListAndDelete(String persistence) {
    withServer(persistence, (api, store) -> {
      String root = root();
      assertEquals(204, api.send("PUT", "/store/items", "{\"namespace\":[\"" + root + "\",\"a\"],\"key\":\"k1\","
          + "\"value\":{\"n\":1,\"tag\":\"x\"}}").status());
      assertEquals(204, api.send("PUT", "/store/items", "{\"namespace\":[\"" + root + "\",\"b\",\"c\"],\"key\":\"k2\","
          + "\"value\":{\"n\":2,\"tag\":\"y\"},\"ttl\":null,\"index\":false}").status());

      ApiClient.Reply got = api.get("/store/items?namespace=" + root + ".a&key=k1");
      assertEquals(200, got.status(), got.body());
      JsonNode item = got.json();
      assertEquals(List.of(root, "a"), List.of(item.get("namespace").get(0).asText(), item.get("namespace").get(1)
          .asText()));
      assertEquals("k1", item.get("key").asText());
      assertEquals(1, item.get("value").get("n").asInt());
      assertTrue(item.get("created_at").isTextual() && item.get("updated_at").isTextual(), item.toString());
      // what the API wrote is the server's store: the one its graphs get
      Item direct = store.get(List.of(root, "a"), "k1").block(Duration.ofSeconds(10));
      assertEquals(Map.of("n", 1, "tag", "x"), direct.value());

      ApiClient.Reply absent = api.get("/store/items?namespace=" + root + ".a&key=nope");
      assertEquals(200, absent.status());
      assertEquals("null", absent.body());

      JsonNode all = api.post("/store/items/search", "{\"namespace_prefix\":[\"" + root + "\"]}").json();
      assertEquals(2, all.get("items").size(), all.toString());
      assertEquals("k2", all.get("items").get(0).get("key").asText(), "most recently updated first");
      JsonNode filtered = api.post("/store/items/search", "{\"namespace_prefix\":[\"" + root + "\"],"
          + "\"filter\":{\"tag\":\"x\"},\"limit\":5,\"offset\":0}").json();
      assertEquals(1, filtered.get("items").size());
      assertEquals("k1", filtered.get("items").get(0).get("key").asText());
      JsonNode paged = api.post("/store/items/search", "{\"namespace_prefix\":[\"" + root + "\"],\"limit\":1,"
          + "\"offset\":1}").json();
      assertEquals("k1", paged.get("items").get(0).get("key").asText());

      JsonNode namespaces = api.post("/store/namespaces", "{\"prefix\":[\"" + root + "\"]}").json();
      assertEquals("[[\"" + root + "\",\"a\"],[\"" + root + "\",\"b\",\"c\"]]", namespaces.get("namespaces")
          .toString());
      JsonNode shallow = api.post("/store/namespaces", "{\"prefix\":[\"" + root + "\"],\"max_depth\":2}").json();
      assertEquals("[[\"" + root + "\",\"a\"],[\"" + root + "\",\"b\"]]", shallow.get("namespaces").toString());
      JsonNode bySuffix = api.post("/store/namespaces", "{\"prefix\":[\"" + root + "\"],\"suffix\":[\"c\"]}").json();
      assertEquals(1, bySuffix.get("namespaces").size());
      JsonNode limited = api.post("/store/namespaces", "{\"prefix\":[\"" + root + "\"],\"limit\":1,\"offset\":1}")
          .json();
      assertEquals("[[\"" + root + "\",\"b\",\"c\"]]", limited.get("namespaces").toString());

      assertEquals(204, api.send("DELETE", "/store/items", "{\"namespace\":[\"" + root + "\",\"a\"],\"key\":\"k1\"}")
          .status());
      assertEquals("null", api.get("/store/items?namespace=" + root + ".a&key=k1").body());
      assertEquals(204, api.send("DELETE", "/store/items", "{\"namespace\":[\"" + root + "\",\"a\"],\"key\":\"k1\"}")
          .status(), "deleting an absent item is not an error");
      if (persistence.equals("postgres")) {
        assertEquals("1", DB.first("SELECT count(*) FROM fluxgraph_store WHERE prefix LIKE '"
            + root + "%'"));
      }
    });
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "postgres"})
  void aTtlInMinutesExpiresTheItemAndARefreshingReadMovesItsExpiry(String persistence) {
    withServer(persistence, (api, store) -> {
      String root = root();
      // 0.002 minutes: 120 ms
      assertEquals(204, api.send("PUT", "/store/items", "{\"namespace\":[\"" + root + "\"],\"key\":\"short\","
          + "\"value\":{\"v\":1},\"ttl\":0.002}").status());
      assertEquals(204, api.send("PUT", "/store/items", "{\"namespace\":[\"" + root + "\"],\"key\":\"hour\","
          + "\"value\":{\"v\":2},\"ttl\":60}").status());
      if (persistence.equals("postgres")) {
        assertEquals("120", DB.first("SELECT ttl_millis FROM fluxgraph_store WHERE prefix = '" + root
            + "' AND key = 'short'"));
        String before = DB.first("SELECT expires_at FROM fluxgraph_store WHERE prefix = '" + root
            + "' AND key = 'hour'");
        assertEquals(200, api.get("/store/items?namespace=" + root + "&key=hour&refresh_ttl=true").status());
        String after = DB.first("SELECT expires_at FROM fluxgraph_store WHERE prefix = '" + root
            + "' AND key = 'hour'");
        assertTrue(after.compareTo(before) > 0, before + " then " + after);
        String searched = DB.first("SELECT expires_at FROM fluxgraph_store WHERE prefix = '" + root
            + "' AND key = 'hour'");
        api.post("/store/items/search", "{\"namespace_prefix\":[\"" + root + "\"],\"refresh_ttl\":true}");
        assertTrue(DB.first("SELECT expires_at FROM fluxgraph_store WHERE prefix = '" + root
            + "' AND key = 'hour'").compareTo(searched) > 0, "a refreshing search moves the expiry");
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (!api.get("/store/items?namespace=" + root + "&key=short").body().equals("null")) {
        assertTrue(System.nanoTime() < deadline, "the item with a 120 ms ttl did not expire");
        Mono.delay(Duration.ofMillis(50)).block();
      }
      assertEquals(2, api.get("/store/items?namespace=" + root + "&key=hour").json().get("value").get("v").asInt());
    });
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "postgres"})
  void badInputIsA422NamingTheField(String persistence) {
    withServer(persistence, (api, store) -> {
      assertRefused(api.send("PUT", "/store/items", "{\"namespace\":[\"a.b\"],\"key\":\"k\",\"value\":{}}"),
          "namespace labels");
      assertRefused(api.send("PUT", "/store/items", "{\"namespace\":[\"\"],\"key\":\"k\",\"value\":{}}"),
          "namespace labels");
      assertRefused(api.send("PUT", "/store/items", "{\"namespace\":[],\"key\":\"k\",\"value\":{}}"), "namespace");
      assertRefused(api.send("PUT", "/store/items", "{\"namespace\":\"a\",\"key\":\"k\",\"value\":{}}"),
          "namespace must be a list");
      assertRefused(api.send("PUT", "/store/items", "{\"namespace\":[1],\"key\":\"k\",\"value\":{}}"),
          "namespace must be a list of strings");
      assertRefused(api.send("PUT", "/store/items", "{\"namespace\":[\"a\"],\"key\":\" \",\"value\":{}}"), "key");
      assertRefused(api.send("PUT", "/store/items", "{\"namespace\":[\"a\"],\"value\":{}}"), "key is required");
      assertRefused(api.send("PUT", "/store/items", "{\"namespace\":[\"a\"],\"key\":\"k\",\"value\":[1]}"),
          "value must be an object");
      assertRefused(api.send("PUT", "/store/items", "{\"namespace\":[\"a\"],\"key\":\"k\",\"value\":{},\"ttl\":0}"),
          "ttl");
      assertRefused(api.send("PUT", "/store/items", "{\"namespace\":[\"a\"],\"key\":\"k\",\"value\":{},"
          + "\"ttl\":\"1\"}"), "ttl");
      assertRefused(api.send("PUT", "/store/items", "{\"namespace\":[\"a\"],\"key\":\"k\",\"value\":{},"
          + "\"index\":[\"text\"]}"), "index");
      assertRefused(api.send("PUT", "/store/items", "{\"namespace\":[\"a\"],\"key\":\"k\",\"value\":{},"
          + "\"colour\":1}"), "unknown field colour");
      assertRefused(api.get("/store/items?namespace=a"), "key is required");
      assertRefused(api.get("/store/items?key=k"), "namespace");
      assertRefused(api.get("/store/items?namespace=a..b&key=k"), "namespace labels");
      assertRefused(api.get("/store/items?namespace=a&key=k&refresh_ttl=maybe"), "refresh_ttl");
      assertRefused(api.post("/store/items/search", "{\"namespace_prefix\":[\"a\"],\"query\":\"cats\"}"), "query");
      assertRefused(api.post("/store/items/search", "{\"namespace_prefix\":[\"a\"],\"limit\":0}"), "limit");
      assertRefused(api.post("/store/items/search", "{\"namespace_prefix\":[\"a\"],\"offset\":-1}"), "offset");
      assertRefused(api.post("/store/items/search", "{\"namespace_prefix\":[\"a\"],\"filter\":[1]}"), "filter");
      assertRefused(api.post("/store/items/search", "{\"namespace_prefix\":[\"a\"],\"refresh_ttl\":1}"),
          "refresh_ttl");
      assertRefused(api.post("/store/namespaces", "{\"max_depth\":0}"), "max_depth");
      assertRefused(api.post("/store/namespaces", "{\"prefix\":[\"a.b\"]}"), "prefix labels");
      assertRefused(api.post("/store/namespaces", "{\"depth\":1}"), "unknown field depth");
      assertRefused(api.send("DELETE", "/store/items", "{\"namespace\":[\"a\"]}"), "key is required");
      ApiClient.Reply huge = api.send("PUT", "/store/items", "{\"namespace\":[\"a\"],\"key\":\"k\",\"value\":{\"v\":\""
          + "x".repeat(2 << 20) + "\"}}");
      assertEquals(413, huge.status());
    });
  }

  private static void assertRefused(ApiClient.Reply reply, String inDetail) {
    assertEquals(422, reply.status(), reply.body());
    assertTrue(reply.detail().contains(inDetail), reply.body());
  }
}
