package dev.fluxgraph.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.checkpoint.Checkpoint;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.CheckpointTuple;
import dev.fluxgraph.checkpoint.PendingWrite;
import dev.fluxgraph.errors.SerializationException;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.postgresql.PostgresqlConnectionFactoryProvider;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryOptions;
import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * A {@link CheckpointSaver} on PostgreSQL over R2DBC: fully non-blocking, with writes of many concurrent runs
 * coalesced into few multi-row inserts (group commit: one batch in flight, taking everything queued
 * meanwhile), and concurrent reads likewise answered by one statement per batch. Every write is {@code ON CONFLICT DO NOTHING}, so replayed or duplicate writes never change
 * an acknowledged value, and a batch lost with its connection is sent again. Call {@link #setup()} once (it is
 * idempotent and safe to run from several processes at once) before use, and {@link #close()} at the end.
 *
 * <p>Behind PgBouncer in transaction mode, disable named prepared statements with the URL option
 * {@code preparedStatementCacheQueries=0}, e.g.
 * {@code r2dbc:postgresql://user:secret@bouncer:6432/db?preparedStatementCacheQueries=0}.
 */
public final class PostgresSaver implements CheckpointSaver, AutoCloseable {

  private static final int MAX_BATCH = 512;
  /**
   * One batch of reads and one of writes in flight at a time: each takes everything that queued up while the
   * previous one ran. On a 2-core machine with PostgreSQL beside it this measured 7,900 runs/s against 4,300 with
   * four batches in flight, since every extra statement costs CPU on both sides (docs/benchmarks.md).
   */
  private static final int MAX_CONCURRENT_BATCHES = 1;

  /** A checkpoint row with its writes aggregated in order, as {@link #tuple} reads it. */
  private static final String COLUMNS = """
      c.thread_id, c.checkpoint_ns, c.checkpoint_id, c.parent_id, c.created_at,
      c.metadata::text AS metadata, c.channel_values::text AS channel_values,
      (SELECT coalesce(jsonb_agg(jsonb_build_array(w.task_id, w.task_name, w.channel, w.value) ORDER BY w.seq),
                       '[]'::jsonb)::text
         FROM fluxgraph_writes w
        WHERE w.thread_id = c.thread_id AND w.checkpoint_ns = c.checkpoint_ns
          AND w.checkpoint_id = c.checkpoint_id) AS writes""";

  private static final String SELECT = "SELECT " + COLUMNS
      + " FROM fluxgraph_checkpoints c WHERE c.thread_id = $1 AND c.checkpoint_ns = $2";

  /**
   * One statement answers a batch of {@link #get} calls: a lateral join over the requested threads. The latest
   * checkpoint and one by id are separate branches so that each is one index probe: with a single
   * {@code (q.i IS NULL OR l.checkpoint_id = q.i)} condition the id is no index key, and finding an old checkpoint
   * scanned the thread's newer ones (3.9 ms against 0.55 ms for the oldest of 10,000 checkpoints; docs/benchmarks.md).
   */
  private static final String SELECT_BATCH = "SELECT q.o, " + COLUMNS + """
      \sFROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS q(t, n, i, o)
        JOIN LATERAL ((SELECT * FROM fluxgraph_checkpoints l
                        WHERE q.i IS NULL AND l.thread_id = q.t AND l.checkpoint_ns = q.n
                        ORDER BY l.checkpoint_id DESC LIMIT 1)
                      UNION ALL
                      (SELECT * FROM fluxgraph_checkpoints l
                        WHERE l.thread_id = q.t AND l.checkpoint_ns = q.n AND l.checkpoint_id = q.i)) c ON true""";

  private final ConnectionFactory factory;
  private final @Nullable ConnectionPool ownedPool;
  private final WriteBatcher batcher;
  private final GroupCommit<Read> reads;
  private final KeyedDelete threadDeletes;

  private PostgresSaver(ConnectionFactory factory, @Nullable ConnectionPool ownedPool) {
    this.factory = factory;
    this.ownedPool = ownedPool;
    this.batcher = new WriteBatcher(factory, MAX_BATCH, MAX_CONCURRENT_BATCHES);
    this.reads = new GroupCommit<>(MAX_BATCH, MAX_CONCURRENT_BATCHES, this::read);
    this.threadDeletes = new KeyedDelete(factory, "fluxgraph_checkpoints", "thread_id"); // writes go by cascade
  }

  /**
   * A saver with its own connection pool (up to 16 connections; released by {@link #close()}), e.g.
   * {@code connect("r2dbc:postgresql://user:secret@localhost:5432/app")}. A URL that already names a pool
   * ({@code r2dbc:pool:postgresql://...}) is used as it is.
   */
  public static PostgresSaver connect(String r2dbcUrl) {
    Objects.requireNonNull(r2dbcUrl, "r2dbcUrl must not be null");
    ConnectionPool pool = pool(r2dbcUrl);
    return new PostgresSaver(pool, pool);
  }

  /** A saver on a connection factory the caller owns (and closes); use a pooled one. */
  public static PostgresSaver using(ConnectionFactory factory) {
    return new PostgresSaver(Objects.requireNonNull(factory, "factory must not be null"), null);
  }

  /**
   * A pool on the URL. Results come in PostgreSQL's binary format unless the URL says {@code forceBinary=false}:
   * timestamps and numbers then decode without text parsing (about 4% of the server's CPU per run went to parsing
   * timestamps, docs/benchmarks.md).
   */
  static ConnectionPool pool(String r2dbcUrl) {
    ConnectionFactoryOptions options = ConnectionFactoryOptions.parse(r2dbcUrl);
    if (!options.hasOption(PostgresqlConnectionFactoryProvider.FORCE_BINARY)) {
      options = options.mutate().option(PostgresqlConnectionFactoryProvider.FORCE_BINARY, true).build();
    }
    ConnectionFactory factory = ConnectionFactories.get(options);
    if (factory instanceof ConnectionPool pool) {
      return pool;
    }
    return new ConnectionPool(ConnectionPoolConfiguration.builder(factory)
        .initialSize(2)
        .maxSize(16)
        .maxIdleTime(Duration.ofMinutes(10))
        .build());
  }

  /** The connection factory (a pool) this saver runs on; other components may share it. */
  public ConnectionFactory connectionFactory() {
    return factory;
  }

  /** Creates or upgrades the tables; idempotent, and serialized across processes by an advisory lock. */
  public Mono<Void> setup() {
    return Mono.defer(() -> Schema.migrate(factory, Schema.SAVER));
  }

  @Override
  public Mono<CheckpointTuple> get(String threadId, String namespace, @Nullable String checkpointId) {
    Objects.requireNonNull(threadId, "threadId must not be null");
    Objects.requireNonNull(namespace, "namespace must not be null");
    return Mono.create(sink -> reads.submit(new Read(threadId, namespace, checkpointId, sink)));
  }

  /** A batch of reads in one statement; each request gets its row, or completes empty. */
  private Mono<Void> read(List<Read> batch) {
    int size = batch.size();
    String[] threads = new String[size];
    String[] namespaces = new String[size];
    String[] ids = new String[size];
    for (int i = 0; i < size; i++) {
      threads[i] = batch.get(i).threadId;
      namespaces[i] = batch.get(i).namespace;
      ids[i] = batch.get(i).checkpointId;
    }
    CheckpointTuple[] found = new CheckpointTuple[size];
    return Flux.usingWhen(factory.create(), connection -> Flux.from(connection.createStatement(SELECT_BATCH)
                .bind("$1", threads).bind("$2", namespaces).bind("$3", ids).execute())
            .flatMap(result -> result.map(row -> {
              found[(int) (row.get("o", Long.class) - 1)] = tuple(row);
              return Boolean.TRUE;
            })), Connection::close)
        .then(Mono.fromRunnable(() -> {
          for (int i = 0; i < size; i++) {
            if (found[i] == null) {
              batch.get(i).sink.success();
            } else {
              batch.get(i).sink.success(found[i]);
            }
          }
        }));
  }

  /** One queued {@link #get}. */
  private record Read(String threadId, String namespace, @Nullable String checkpointId,
                      MonoSink<CheckpointTuple> sink) implements GroupCommit.Request {
    @Override
    public void fail(Throwable error) {
      sink.error(error);
    }
  }

  @Override
  public Flux<CheckpointTuple> list(String threadId, String namespace, @Nullable String before, int limit) {
    Objects.requireNonNull(threadId, "threadId must not be null");
    Objects.requireNonNull(namespace, "namespace must not be null");
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be positive, was " + limit);
    }
    String sql = SELECT + (before == null ? "" : " AND c.checkpoint_id < $3") + " ORDER BY c.checkpoint_id DESC"
        + (limit == Integer.MAX_VALUE ? "" : " LIMIT " + limit);
    return query(sql, statement -> {
      statement.bind("$1", threadId).bind("$2", namespace);
      if (before != null) {
        statement.bind("$3", before);
      }
    });
  }

  @Override
  public Mono<Void> put(Checkpoint checkpoint) {
    Objects.requireNonNull(checkpoint, "checkpoint must not be null");
    return Mono.defer(() -> batcher.put(checkpoint));
  }

  @Override
  public Mono<Void> putWrites(String threadId, String namespace, String checkpointId, List<PendingWrite> writes) {
    Objects.requireNonNull(threadId, "threadId must not be null");
    Objects.requireNonNull(namespace, "namespace must not be null");
    Objects.requireNonNull(checkpointId, "checkpointId must not be null");
    Objects.requireNonNull(writes, "writes must not be null");
    return Mono.defer(() -> batcher.putWrites(threadId, namespace, checkpointId, writes));
  }

  @Override
  public Mono<Void> deleteThread(String threadId) {
    Objects.requireNonNull(threadId, "threadId must not be null");
    return threadDeletes.delete(threadId).then(); // group-committed: a stateless server run deletes its thread
  }

  @Override
  public Mono<Void> deleteAfter(String threadId, String namespace, String checkpointId) {
    Objects.requireNonNull(threadId, "threadId must not be null");
    Objects.requireNonNull(namespace, "namespace must not be null");
    Objects.requireNonNull(checkpointId, "checkpointId must not be null");
    return update("DELETE FROM fluxgraph_checkpoints WHERE thread_id = $1 AND checkpoint_ns = $2"
            + " AND checkpoint_id > $3",
        statement -> statement.bind("$1", threadId).bind("$2", namespace).bind("$3", checkpointId)).then();
  }

  /**
   * {@inheritDoc} One statement: {@code metadata || $patch} on the row, the newest of the namespace when
   * {@code checkpointId} is null.
   */
  @Override
  public Mono<Checkpoint> updateMetadata(String threadId, String namespace, @Nullable String checkpointId,
                                         Map<String, Object> metadata) {
    Objects.requireNonNull(threadId, "threadId must not be null");
    Objects.requireNonNull(namespace, "namespace must not be null");
    Objects.requireNonNull(metadata, "metadata must not be null");
    return Mono.defer(() -> {
      String patch = PostgresJson.write(metadata);
      String target = checkpointId != null ? "$4"
          : "(SELECT max(l.checkpoint_id) FROM fluxgraph_checkpoints l WHERE l.thread_id = $1"
              + " AND l.checkpoint_ns = $2)";
      String sql = "UPDATE fluxgraph_checkpoints c SET metadata = c.metadata || $3::jsonb"
          + " WHERE c.thread_id = $1 AND c.checkpoint_ns = $2 AND c.checkpoint_id = " + target
          + " RETURNING " + COLUMNS;
      return query(sql, statement -> {
        statement.bind("$1", threadId).bind("$2", namespace).bind("$3", patch);
        if (checkpointId != null) {
          statement.bind("$4", checkpointId);
        }
      }).next().map(CheckpointTuple::checkpoint);
    });
  }

  @Override
  public Mono<Long> pruneToLatest(String threadId) {
    Objects.requireNonNull(threadId, "threadId must not be null");
    return pruneCounting(Retention.keepLatest(1).forThread(threadId));
  }

  /**
   * Deletes old checkpoints (and their writes) by the retention rule; the newest checkpoint of every thread and
   * namespace is always kept, so pending runs can still continue.
   */
  public Mono<Void> prune(Retention retention) {
    return pruneCounting(retention).then();
  }

  /** {@link #prune}, emitting the number of checkpoints deleted. */
  public Mono<Long> pruneCounting(Retention retention) {
    Objects.requireNonNull(retention, "retention must not be null");
    return Mono.defer(() -> {
      String threadFilter = retention.threadId() == null ? "" : " AND thread_id = $2";
      String sql;
      Object parameter;
      if (retention.keepLatest() != null) {
        sql = """
            DELETE FROM fluxgraph_checkpoints c USING (
              SELECT thread_id, checkpoint_ns, checkpoint_id,
                     row_number() OVER (PARTITION BY thread_id, checkpoint_ns ORDER BY checkpoint_id DESC) AS rank
                FROM fluxgraph_checkpoints WHERE true""" + threadFilter + """
            \s) ranked
            WHERE c.thread_id = ranked.thread_id AND c.checkpoint_ns = ranked.checkpoint_ns
              AND c.checkpoint_id = ranked.checkpoint_id AND ranked.rank > $1""";
        parameter = retention.keepLatest();
      } else {
        sql = """
            DELETE FROM fluxgraph_checkpoints c
             WHERE c.created_at < $1""" + threadFilter.replace("thread_id", "c.thread_id") + """
             \sAND c.checkpoint_id < (SELECT max(l.checkpoint_id) FROM fluxgraph_checkpoints l
                                       WHERE l.thread_id = c.thread_id AND l.checkpoint_ns = c.checkpoint_ns)""";
        parameter = OffsetDateTime.now(java.time.ZoneOffset.UTC).minus(retention.olderThan());
      }
      return update(sql, statement -> {
        statement.bind("$1", parameter);
        if (retention.threadId() != null) {
          statement.bind("$2", retention.threadId());
        }
      });
    });
  }

  /** Closes the connection pool this saver created; a factory passed to {@link #using} is left open. */
  @Override
  public void close() {
    if (ownedPool != null) {
      ownedPool.dispose();
    }
  }

  private Flux<CheckpointTuple> query(String sql, java.util.function.Consumer<Statement> binder) {
    return Sql.query(factory, sql, binder, PostgresSaver::tuple);
  }

  private Mono<Long> update(String sql, java.util.function.Consumer<Statement> binder) {
    return Sql.update(factory, sql, binder);
  }

  private static CheckpointTuple tuple(Readable row) {
    String threadId = row.get("thread_id", String.class);
    String checkpointId = row.get("checkpoint_id", String.class);
    String where = "checkpoint " + checkpointId + " of thread '" + threadId + "'";
    JsonNode values = PostgresJson.tree(row.get("channel_values", String.class), "the values of " + where);
    if (!values.isObject()) {
      throw new SerializationException("corrupt data in the values of " + where + ": expected a JSON object", null);
    }
    Map<String, JsonNode> channels = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> field : values.properties()) {
      channels.put(field.getKey(), field.getValue());
    }
    Checkpoint checkpoint = new Checkpoint(threadId, row.get("checkpoint_ns", String.class), checkpointId,
        row.get("parent_id", String.class), row.get("created_at", OffsetDateTime.class).toInstant(),
        PostgresJson.object(row.get("metadata", String.class), "the metadata of " + where), channels);
    JsonNode writes = PostgresJson.tree(row.get("writes", String.class), "the writes of " + where);
    List<PendingWrite> pending = new ArrayList<>(writes.size());
    for (JsonNode write : writes) {
      if (!write.isArray() || write.size() != 4) {
        throw new SerializationException("corrupt data in the writes of " + where, null);
      }
      pending.add(new PendingWrite(write.get(0).asText(), write.get(1).asText(), write.get(2).asText(), write.get(3)));
    }
    return new CheckpointTuple(checkpoint, pending);
  }

  /**
   * Which checkpoints {@link #prune} deletes: all but the newest {@code keepLatest} per thread, or those created
   * more than {@code olderThan} ago; optionally only on one thread. The newest checkpoint of a thread is always
   * kept. Immutable.
   *
   * @param keepLatest how many checkpoints to keep per thread, or null
   * @param olderThan  the age beyond which checkpoints go, or null
   * @param threadId   the one thread to prune, or null for all
   */
  public record Retention(@Nullable Integer keepLatest, @Nullable Duration olderThan, @Nullable String threadId) {
    public Retention {
      if ((keepLatest == null) == (olderThan == null)) {
        throw new IllegalArgumentException("give exactly one of keepLatest and olderThan");
      }
      if (keepLatest != null && keepLatest < 1) {
        throw new IllegalArgumentException("keepLatest must be at least 1, was " + keepLatest);
      }
      if (olderThan != null && olderThan.isNegative()) {
        throw new IllegalArgumentException("olderThan must not be negative, was " + olderThan);
      }
    }

    /** Keeps the newest {@code count} checkpoints of every thread. */
    public static Retention keepLatest(int count) {
      return new Retention(count, null, null);
    }

    /** Deletes checkpoints created more than {@code age} ago (never a thread's newest). */
    public static Retention olderThan(Duration age) {
      Objects.requireNonNull(age, "age must not be null");
      return new Retention(null, age, null);
    }

    /** The same rule, applied to one thread only. */
    public Retention forThread(String threadId) {
      Objects.requireNonNull(threadId, "threadId must not be null");
      return new Retention(keepLatest, olderThan, threadId);
    }
  }

}
