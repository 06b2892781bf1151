package dev.fluxgraph.internal.server.api;

import static dev.fluxgraph.internal.server.api.Fields.onlyKnown;
import static dev.fluxgraph.internal.server.api.Fields.queryParam;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.store.Item;
import dev.fluxgraph.store.NamespaceQuery;
import dev.fluxgraph.store.SearchOptions;
import dev.fluxgraph.store.Store;
import dev.fluxgraph.types.FluxgraphJson;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The store: long-term memory shared across threads ({@code PUT/GET/DELETE /store/items},
 * {@code POST /store/items/search}, {@code POST /store/namespaces}), over the server's {@link Store} (the one its
 * graphs get). Namespaces are lists of labels, neither empty nor containing '.'; a {@code ttl} is in minutes. There is
 * no search index, so {@code index} lists and a {@code query} are refused rather than ignored.
 */
final class StoreRoutes {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();
  private static final int MAX_LIMIT = 1000;

  private static final String TAG = "Store";

  private final Http http;
  private final Store store;

  StoreRoutes(Http http, Store store) {
    this.http = http;
    this.store = store;
  }

  void register(Routes routes) {
    routes
        .put("/store/items", Routes.Doc.of(TAG, "Store Or Update Item").body(Schemas.ITEM_PUT).answer(null),
            (request, response) -> http.guarded(request, response, body -> put(body)
            .then(response.status(204).send())))
        .get("/store/items", Routes.Doc.of(TAG, "Retrieve Item").query("namespace", Map.of("type", "string",
            "description", "the namespace's labels joined with dots")).query("key", Schemas.TEXT)
            .query("refresh_ttl", Schemas.BOOLEAN).answer(Schemas.ITEM), http.handle((request, body) -> get(request)))
        .delete("/store/items", Routes.Doc.of(TAG, "Delete Store Item").body(Schemas.ITEM_DELETE).answer(null),
            (request, response) -> http.guarded(request, response, body -> delete(body)
            .then(response.status(204).send())))
        .post("/store/items/search", Routes.Doc.of(TAG, "Search Store Items").body(Schemas.ITEM_SEARCH)
            .answer(Schemas.ITEMS), http.handle((request, body) -> search(body)))
        .post("/store/namespaces", Routes.Doc.of(TAG, "List Namespaces").body(Schemas.NAMESPACE_SEARCH)
            .answer(Schemas.NAMESPACES), http.handle((request, body) -> namespaces(body)));
  }

  private Mono<Void> put(JsonNode body) {
    return Mono.defer(() -> {
      onlyKnown(body, "namespace", "key", "value", "index", "ttl");
      List<String> namespace = namespace(body, "namespace", true);
      String key = key(body.path("key"));
      JsonNode value = body.path("value");
      if (!value.isObject()) {
        throw HttpProblem.invalid("value must be an object");
      }
      JsonNode index = body.path("index");
      if (!index.isMissingNode() && !index.isNull() && !(index.isBoolean() && !index.booleanValue())) {
        throw HttpProblem.invalid("index: this server keeps no search index for the store (no embeddings are "
            + "configured); send null or false");
      }
      Duration ttl = ttl(body.path("ttl"));
      Map<String, Object> map = JSON.convertValue(value, Fields.MAP);
      return store.put(namespace, key, map, ttl);
    });
  }

  private Mono<JsonNode> get(Request request) {
    return Mono.defer(() -> {
      String key = queryParam(request, "key");
      if (key == null) {
        throw HttpProblem.invalid("key is required");
      }
      String joined = queryParam(request, "namespace");
      List<String> namespace = joined == null || joined.isEmpty() ? List.of() : Arrays.asList(joined.split("\\.", -1));
      validate(namespace, "namespace", true);
      boolean refresh = Fields.booleanParam(request, "refresh_ttl");
      return store.get(namespace, key(JSON.getNodeFactory().textNode(key)), refresh)
          .<JsonNode>map(StoreRoutes::item)
          .defaultIfEmpty(NullNode.getInstance());
    });
  }

  private Mono<Void> delete(JsonNode body) {
    return Mono.defer(() -> {
      onlyKnown(body, "namespace", "key");
      return store.delete(namespace(body, "namespace", true), key(body.path("key")));
    });
  }

  private Mono<JsonNode> search(JsonNode body) {
    return Mono.defer(() -> {
      onlyKnown(body, "namespace_prefix", "filter", "limit", "offset", "query", "refresh_ttl");
      List<String> prefix = namespace(body, "namespace_prefix", false);
      JsonNode query = body.path("query");
      if (!query.isMissingNode() && !query.isNull() && !(query.isTextual() && query.asText().isEmpty())) {
        throw HttpProblem.invalid("query: natural-language search needs a search index, which this server does not "
            + "keep for the store; search by namespace_prefix and filter");
      }
      Map<String, Object> filter = Fields.optionalMap(body, "filter");
      SearchOptions options = new SearchOptions(filter, limit(body, 10), Fields.nonNegative(body, "offset", 0),
          Fields.booleanField(body, "refresh_ttl"));
      return store.search(prefix, options).map(StoreRoutes::item).collectList().map(items -> {
        ObjectNode answer = JSON.createObjectNode();
        ArrayNode array = answer.putArray("items");
        items.forEach(array::add);
        return answer;
      });
    });
  }

  private Mono<JsonNode> namespaces(JsonNode body) {
    return Mono.defer(() -> {
      onlyKnown(body, "prefix", "suffix", "max_depth", "limit", "offset");
      JsonNode depth = body.path("max_depth");
      int maxDepth = Integer.MAX_VALUE;
      if (!depth.isMissingNode() && !depth.isNull()) {
        if (!depth.isIntegralNumber() || !depth.canConvertToInt() || depth.asInt() < 1) {
          throw HttpProblem.invalid("max_depth must be a positive integer, was " + depth);
        }
        maxDepth = depth.asInt();
      }
      NamespaceQuery query = new NamespaceQuery(namespace(body, "prefix", false), namespace(body, "suffix", false),
          maxDepth, limit(body, 100), Fields.nonNegative(body, "offset", 0));
      return store.listNamespaces(query).collectList().map(found -> {
        ObjectNode answer = JSON.createObjectNode();
        ArrayNode array = answer.putArray("namespaces");
        found.forEach(namespace -> array.add(JSON.valueToTree(namespace)));
        return answer;
      });
    });
  }

  /** The wire Item. */
  private static ObjectNode item(Item item) {
    ObjectNode node = JSON.createObjectNode();
    node.set("namespace", JSON.valueToTree(item.namespace()));
    node.put("key", item.key());
    node.set("value", JSON.valueToTree(item.value()));
    node.put("created_at", item.createdAt().toString());
    node.put("updated_at", item.updatedAt().toString());
    return node;
  }

  /** A namespace field: a list of labels, each non-empty and without '.'; {@code required} ones non-empty. */
  private static List<String> namespace(JsonNode body, String field, boolean required) {
    JsonNode value = body.path(field);
    if (value.isMissingNode() || value.isNull()) {
      if (required) {
        throw HttpProblem.invalid(field + " is required");
      }
      return List.of();
    }
    if (!value.isArray()) {
      throw HttpProblem.invalid(field + " must be a list of strings");
    }
    List<String> labels = new ArrayList<>();
    for (JsonNode label : value) {
      if (!label.isTextual()) {
        throw HttpProblem.invalid(field + " must be a list of strings, has " + label);
      }
      labels.add(label.asText());
    }
    validate(labels, field, required);
    return labels;
  }

  private static void validate(List<String> labels, String field, boolean required) {
    if (required && labels.isEmpty()) {
      throw HttpProblem.invalid(field + " must not be empty");
    }
    for (String label : labels) {
      if (label.isEmpty() || label.contains(".")) {
        throw HttpProblem.invalid(field + " labels must be non-empty and must not contain '.', was "
            + JSON.valueToTree(labels));
      }
    }
  }

  private static String key(JsonNode key) {
    if (!key.isTextual()) {
      throw HttpProblem.invalid(key.isMissingNode() || key.isNull() ? "key is required" : "key must be a string");
    }
    if (key.asText().isBlank()) {
      throw HttpProblem.invalid("key must not be blank");
    }
    return key.asText();
  }

  /** The ttl in minutes (a positive number), or null for an item that never expires. */
  private static @Nullable Duration ttl(JsonNode ttl) {
    if (ttl.isMissingNode() || ttl.isNull()) {
      return null;
    }
    if (!ttl.isNumber() || !(ttl.asDouble() > 0) || Double.isInfinite(ttl.asDouble())) {
      throw HttpProblem.invalid("ttl must be a positive number of minutes, or null, was " + ttl);
    }
    long millis = Math.round(ttl.asDouble() * 60_000);
    if (millis < 1) {
      throw HttpProblem.invalid("ttl must be at least a millisecond, was " + ttl + " minutes");
    }
    return Duration.ofMillis(millis);
  }

  private static int limit(JsonNode body, int fallback) {
    int limit = Fields.nonNegative(body, "limit", fallback);
    if (limit < 1 || limit > MAX_LIMIT) {
      throw HttpProblem.invalid("limit must be between 1 and " + MAX_LIMIT + ", was " + limit);
    }
    return limit;
  }
}
