package dev.fluxgraph.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.internal.Json;
import dev.fluxgraph.internal.StoreKeys;
import dev.fluxgraph.store.Item;
import dev.fluxgraph.store.NamespaceQuery;
import dev.fluxgraph.store.SearchOptions;
import dev.fluxgraph.store.Store;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A {@link Store} on PostgreSQL over R2DBC: items in one table keyed by the namespace (labels joined with '.')
 * and the key, values as {@code jsonb}, optional expiry. Filters compare top-level value fields for JSON
 * equality. Timestamps and expiry follow the store's {@link Clock}. Invalid arguments fail the returned
 * publisher with {@link IllegalArgumentException}; nulls throw at call time. Call {@link #setup()} before use.
 */
public final class PostgresStore implements Store, AutoCloseable {

  /** Most recently updated first, then by namespace and key (byte order, as the in-memory store compares). */
  private static final String SEARCH_ORDER = "updated_at DESC, prefix COLLATE \"C\", key COLLATE \"C\"";

  private final ConnectionFactory factory;
  private final @Nullable ConnectionPool ownedPool;
  private final Clock clock;

  private PostgresStore(ConnectionFactory factory, @Nullable ConnectionPool ownedPool, Clock clock) {
    this.factory = factory;
    this.ownedPool = ownedPool;
    this.clock = clock;
  }

  /** A store with its own connection pool, released by {@link #close()}. */
  public static PostgresStore connect(String r2dbcUrl) {
    Objects.requireNonNull(r2dbcUrl, "r2dbcUrl must not be null");
    ConnectionPool pool = PostgresSaver.pool(r2dbcUrl);
    return new PostgresStore(pool, pool, Clock.systemUTC());
  }

  /** A store on a connection factory the caller owns. */
  public static PostgresStore using(ConnectionFactory factory) {
    return new PostgresStore(Objects.requireNonNull(factory, "factory must not be null"), null, Clock.systemUTC());
  }

  /** A copy whose timestamps and expiry follow {@code clock} (for tests); it shares this store's connections. */
  public PostgresStore withClock(Clock clock) {
    return new PostgresStore(factory, null, Objects.requireNonNull(clock, "clock must not be null"));
  }

  /** Creates or upgrades the table; idempotent and safe to run from several processes at once. */
  public Mono<Void> setup() {
    return Mono.defer(() -> Schema.migrate(factory, Schema.STORE));
  }

  @Override
  public Mono<Void> put(List<String> namespace, String key, Map<String, Object> value, @Nullable Duration ttl) {
    Objects.requireNonNull(namespace, "namespace must not be null");
    Objects.requireNonNull(key, "key must not be null");
    Objects.requireNonNull(value, "value must not be null");
    return Mono.defer(() -> {
      StoreKeys.validate(namespace, key);
      StoreKeys.validateTtl(ttl);
      JsonNode json = StoreKeys.toJson(namespace, key, value);
      OffsetDateTime now = now();
      return update("""
          INSERT INTO fluxgraph_store (prefix, key, value, created_at, updated_at, expires_at, ttl_millis)
          VALUES ($1, $2, $3::jsonb, $4, $4, $5, $6)
          ON CONFLICT (prefix, key) DO UPDATE SET
            value = excluded.value,
            updated_at = excluded.updated_at,
            expires_at = excluded.expires_at,
            ttl_millis = excluded.ttl_millis,
            created_at = CASE WHEN fluxgraph_store.expires_at IS NOT NULL AND fluxgraph_store.expires_at <= $4
                              THEN excluded.created_at ELSE fluxgraph_store.created_at END""", statement -> {
        statement.bind("$1", String.join(".", namespace)).bind("$2", key).bind("$3", json.toString())
            .bind("$4", now);
        if (ttl == null) {
          statement.bindNull("$5", OffsetDateTime.class).bindNull("$6", Long.class);
        } else {
          statement.bind("$5", now.plus(ttl)).bind("$6", ttl.toMillis());
        }
      });
    });
  }

  @Override
  public Mono<Item> get(List<String> namespace, String key, boolean refreshTtl) {
    Objects.requireNonNull(namespace, "namespace must not be null");
    Objects.requireNonNull(key, "key must not be null");
    return Mono.defer(() -> {
      StoreKeys.validate(namespace, key);
      String found = "SELECT prefix, key, value::text AS value, created_at, updated_at FROM fluxgraph_store"
          + " WHERE prefix = $1 AND key = $2 AND (expires_at IS NULL OR expires_at > $3)";
      return query(refreshTtl ? refreshing(found, "$3") : found,
          statement -> statement.bind("$1", String.join(".", namespace)).bind("$2", key).bind("$3", now()))
          .next();
    });
  }

  /**
   * The items {@code select} finds, in {@link #SEARCH_ORDER}, their expiry moved to their ttl from the time bound to
   * {@code now} in the same statement; items without a ttl keep none.
   */
  private static String refreshing(String select, String now) {
    return "WITH found AS (" + select + "),"
        + " refreshed AS (UPDATE fluxgraph_store s SET expires_at = " + now + "::timestamptz + s.ttl_millis"
        + " * interval '1 millisecond' FROM found WHERE s.prefix = found.prefix AND s.key = found.key"
        + " AND s.ttl_millis IS NOT NULL)"
        + " SELECT prefix, key, value, created_at, updated_at FROM found ORDER BY " + SEARCH_ORDER;
  }

  @Override
  public Mono<Void> delete(List<String> namespace, String key) {
    Objects.requireNonNull(namespace, "namespace must not be null");
    Objects.requireNonNull(key, "key must not be null");
    return Mono.defer(() -> {
      StoreKeys.validate(namespace, key);
      return update("DELETE FROM fluxgraph_store WHERE prefix = $1 AND key = $2",
          statement -> statement.bind("$1", String.join(".", namespace)).bind("$2", key));
    });
  }

  @Override
  public Flux<Item> search(List<String> namespacePrefix, SearchOptions options) {
    Objects.requireNonNull(namespacePrefix, "namespacePrefix must not be null");
    Objects.requireNonNull(options, "options must not be null");
    return Flux.defer(() -> {
      StringBuilder sql = new StringBuilder("SELECT prefix, key, value::text AS value, created_at, updated_at"
          + " FROM fluxgraph_store WHERE (expires_at IS NULL OR expires_at > $1)");
      List<Object> parameters = new ArrayList<>();
      parameters.add(now());
      appendPrefix(sql, parameters, namespacePrefix);
      options.filter().forEach((field, expected) -> {
        parameters.add(field);
        parameters.add(Json.toTree(expected, () -> "the filter on '" + field + "'").toString());
        sql.append(" AND value -> $").append(parameters.size() - 1).append(" = $").append(parameters.size())
            .append("::jsonb");
      });
      sql.append(" ORDER BY ").append(SEARCH_ORDER).append(" OFFSET ").append(options.offset())
          .append(" LIMIT ").append(options.limit());
      String select = sql.toString();
      return query(options.refreshTtl() ? refreshing(select, "$1") : select,
          statement -> bindAll(statement, parameters));
    });
  }

  @Override
  public Flux<List<String>> listNamespaces(NamespaceQuery query) {
    Objects.requireNonNull(query, "query must not be null");
    return Flux.defer(() -> {
      StringBuilder sql = new StringBuilder("SELECT DISTINCT prefix FROM fluxgraph_store"
          + " WHERE (expires_at IS NULL OR expires_at > $1)");
      List<Object> parameters = new ArrayList<>();
      parameters.add(now());
      appendPrefix(sql, parameters, query.prefix());
      return Sql.query(factory, sql.toString(), statement -> bindAll(statement, parameters),
              row -> row.get("prefix", String.class))
          .collectList()
          .flatMapMany(prefixes -> Flux.fromIterable(StoreKeys.selectNamespaces(
              prefixes.stream().map(prefix -> List.of(prefix.split("\\."))).toList(), query)));
    });
  }

  /** Deletes expired items; emits how many. */
  public Mono<Long> sweepExpired() {
    return Mono.defer(() -> Sql.update(factory, "DELETE FROM fluxgraph_store WHERE expires_at <= $1",
        statement -> statement.bind("$1", now())));
  }

  /** Closes the connection pool this store created. */
  @Override
  public void close() {
    if (ownedPool != null) {
      ownedPool.dispose();
    }
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }

  private static void appendPrefix(StringBuilder sql, List<Object> parameters, List<String> prefix) {
    if (prefix.isEmpty()) {
      return;
    }
    StoreKeys.validateNamespace(prefix);
    String joined = String.join(".", prefix);
    parameters.add(joined);
    parameters.add(joined.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ".%");
    sql.append(" AND (prefix = $").append(parameters.size() - 1).append(" OR prefix LIKE $")
        .append(parameters.size()).append(")");
  }

  private static void bindAll(Statement statement, List<Object> parameters) {
    for (int i = 0; i < parameters.size(); i++) {
      statement.bind("$" + (i + 1), parameters.get(i));
    }
  }

  private Flux<Item> query(String sql, Consumer<Statement> binder) {
    return Sql.query(factory, sql, binder, PostgresStore::item);
  }

  private Mono<Void> update(String sql, Consumer<Statement> binder) {
    return Sql.update(factory, sql, binder).then();
  }

  private static Item item(Readable row) {
    String prefix = row.get("prefix", String.class);
    String key = row.get("key", String.class);
    return new Item(List.of(prefix.split("\\.")), key,
        PostgresJson.object(row.get("value", String.class), "the store item '" + key + "' in " + prefix),
        row.get("created_at", OffsetDateTime.class).toInstant(), row.get("updated_at", OffsetDateTime.class).toInstant());
  }
}
