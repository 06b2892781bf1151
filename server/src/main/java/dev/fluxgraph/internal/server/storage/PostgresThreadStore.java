package dev.fluxgraph.internal.server.storage;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.postgres.GroupCommit;
import dev.fluxgraph.postgres.KeyedDelete;
import dev.fluxgraph.postgres.Schema;
import dev.fluxgraph.postgres.Sql;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/** Threads in PostgreSQL ({@code fluxgraph_threads}), so they survive restarts and can be shared by processes. */
public final class PostgresThreadStore implements ThreadStore {

  static final List<Schema.Migration> MIGRATIONS = List.of(new Schema.Migration(201, "server threads", List.of("""
      CREATE TABLE IF NOT EXISTS fluxgraph_threads (
        thread_id  text        PRIMARY KEY,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        metadata   jsonb       NOT NULL,
        status     text        NOT NULL,
        graph_id   text
      )""")),
      // 209 (207 and 208 are the assistants' and the crons'): a thread's time to live, from its last update
      new Schema.Migration(209, "server thread ttl", List.of(
          "ALTER TABLE fluxgraph_threads ADD COLUMN IF NOT EXISTS ttl_millis bigint",
          "CREATE INDEX IF NOT EXISTS fluxgraph_threads_with_ttl ON fluxgraph_threads (updated_at)"
              + " WHERE ttl_millis IS NOT NULL")),
      // 210: the configurable values of the thread's last run, which a graph factory builds its graph from
      new Schema.Migration(210, "server thread configurable", List.of(
          "ALTER TABLE fluxgraph_threads ADD COLUMN IF NOT EXISTS configurable jsonb")),
      // 211: a thread's updates in place (HOT: no new index entry, no dead one to vacuum). Every run updates its
      // thread twice (busy, then its end's status); an update can stay on its page only when no indexed column
      // changes, and PostgreSQL counts a partial index's key (updated_at, in 209's) as indexed even for rows its
      // predicate leaves out. The expiry pass cannot use updated_at as a range anyway (each thread's ttl is its own:
      // updated_at + ttl_millis), so it reads the threads that have a ttl, which is what the index now holds; and a
      // fifth of each page is left free for the updates to stay on it.
      new Schema.Migration(211, "server thread updates in place", List.of(
          "DROP INDEX IF EXISTS fluxgraph_threads_with_ttl",
          "CREATE INDEX IF NOT EXISTS fluxgraph_threads_with_ttl ON fluxgraph_threads (ttl_millis)"
              + " WHERE ttl_millis IS NOT NULL",
          "ALTER TABLE fluxgraph_threads SET (fillfactor = 80)")));

  private static final String COLUMNS = "thread_id, created_at, updated_at, metadata::text AS metadata, status, graph_id,"
      + " configurable::text AS configurable";

  private final ConnectionFactory factory;
  /**
   * Status updates of concurrent runs go out as one multi-row statement, one statement at a time: updates of a thread
   * then commit in the order they were submitted even when nobody awaits the first (a cancelled run's "busy" and the
   * cancel's "idle"), which two batches in flight could swap.
   */
  private final GroupCommit<Update> updates = new GroupCommit<>(256, 1, this::updateBatch);
  private final GroupCommit<Read> reads = new GroupCommit<>(256, 2, this::readBatch);
  private final GroupCommit<Create> creates = new GroupCommit<>(256, 2, this::createBatch);
  /** Group-committed: every stateless run deletes its thread. */
  private final KeyedDelete deletes;
  /**
   * Threads this process created, read or updated and has not deleted, so that a run on one of them starts without a
   * database round trip before its first event ({@link #requireExists}). Forgotten all at once past its bound.
   */
  private final Set<String> known = ConcurrentHashMap.newKeySet();
  private static final int KNOWN_THREADS = 100_000;

  public PostgresThreadStore(ConnectionFactory factory) {
    this.factory = factory;
    this.deletes = new KeyedDelete(factory, "fluxgraph_threads", "thread_id");
  }

  public Mono<Void> setup() {
    return Schema.migrate(factory, MIGRATIONS);
  }

  /**
   * Group-committed with the creations of the same moment ({@link #createBatch}): one statement either way, the new
   * thread, or for {@code do_nothing} the existing one (a run with {@code if_not_exists: create} reads its thread in
   * the same round trip). When the insert conflicts with a thread committed after the statement's snapshot, the
   * statement finds nothing and a second read does.
   */
  @Override
  public Mono<ThreadRecord> create(String threadId, Map<String, Object> metadata, String ifExists) {
    boolean existingWanted = ifExists.equals("do_nothing");
    return Mono.<ThreadRecord>create(sink -> creates.submit(new Create(threadId, "idle", null,
            StoredMetadata.json(metadata), OffsetDateTime.now(ZoneOffset.UTC), existingWanted, sink)))
        .switchIfEmpty(Mono.defer(() -> existingWanted ? require(threadId)
            : Mono.error(new HttpProblem(409, "thread " + threadId + " already exists"))));
  }

  /** Group-committed: this is on every stateless run's path, before its first step. */
  @Override
  public Mono<ThreadRecord> createBusy(String threadId, String graphId, Map<String, Object> metadata) {
    return Mono.<ThreadRecord>create(sink -> creates.submit(new Create(threadId, "busy", graphId,
            StoredMetadata.json(metadata), OffsetDateTime.now(ZoneOffset.UTC), false, sink)))
        .switchIfEmpty(Mono.error(() -> new HttpProblem(409, "thread " + threadId + " already exists")));
  }

  /** A queued creation: answered with the new thread, or the existing one when {@code existingWanted}, or nothing. */
  private record Create(String threadId, String status, @Nullable String graphId, String metadata, OffsetDateTime at,
                        boolean existingWanted, MonoSink<ThreadRecord> sink) implements Queued {
  }

  /**
   * The threads of a batch inserted by one statement whose text is the same for every batch, which also returns the
   * existing threads it did not insert (flagged {@code created = false}). Those are looked up one by one through the
   * primary key (a lateral subquery kept apart by {@code OFFSET 0}): written as {@code thread_id IN (SELECT thread_id
   * FROM v)}, the plan PostgreSQL cached while the table was small (a fresh database, before its first analyze) was a
   * hash join over a sequential scan of every thread, kept for as long as the connection lived: 3 ms per statement
   * at 20,000 threads, and growing with them.
   */
  private static final String CREATE = """
      WITH v AS (
        SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[])
          AS v (thread_id, at, metadata, status, graph_id)
      ), created AS (
        INSERT INTO fluxgraph_threads (thread_id, created_at, updated_at, metadata, status, graph_id)
        SELECT thread_id, at, at, metadata::jsonb, status, graph_id FROM v
        ON CONFLICT DO NOTHING
        RETURNING\s""" + COLUMNS + """

      )
      SELECT true AS created, * FROM created
      UNION ALL
      SELECT false, t.* FROM v CROSS JOIN LATERAL (SELECT\s""" + COLUMNS
      + " FROM fluxgraph_threads x WHERE x.thread_id = v.thread_id OFFSET 0) t"
      + " WHERE v.thread_id NOT IN (SELECT thread_id FROM created)";

  /** The batch in rounds in which a thread appears once (a second creation of it then finds the first's thread). */
  private Mono<Void> createBatch(List<Create> batch) {
    return Flux.fromIterable(GroupCommit.rounds(batch, Create::threadId)).concatMap(this::createRound).then();
  }

  private Mono<Void> createRound(List<Create> round) {
    int size = round.size();
    String[] ids = new String[size];
    OffsetDateTime[] at = new OffsetDateTime[size];
    String[] metadata = new String[size];
    String[] status = new String[size];
    String[] graphs = new String[size];
    Map<String, Create> byThread = new HashMap<>();
    Set<Create> answered = Collections.newSetFromMap(new IdentityHashMap<>());
    for (int i = 0; i < size; i++) {
      Create create = round.get(i);
      ids[i] = create.threadId();
      at[i] = create.at();
      metadata[i] = create.metadata();
      status[i] = create.status();
      graphs[i] = create.graphId();
      byThread.put(create.threadId(), create);
    }
    return Sql.query(factory, CREATE, statement -> statement.bind("$1", ids).bind("$2", at).bind("$3", metadata)
            .bind("$4", status).bind("$5", graphs),
        row -> Map.entry(Boolean.TRUE.equals(row.get("created", Boolean.class)), record(row)))
        .doOnNext(answer -> {
          ThreadRecord thread = answer.getValue();
          remember(thread);
          Create create = byThread.remove(thread.threadId());
          if (create != null && (answer.getKey() || create.existingWanted())) {
            create.sink().success(thread);
            answered.add(create);
          }
        })
        .then(Mono.fromRunnable(() -> unanswered(round, answered).forEach(create -> create.sink().success())))
        .onErrorResume(error -> {
          unanswered(round, answered).forEach(create -> create.fail(error));
          return Mono.empty();
        })
        .then();
  }

  /** A queued request about one thread, answered with its row or nothing. */
  private interface Queued extends GroupCommit.Request {
    String threadId();

    MonoSink<ThreadRecord> sink();

    @Override
    default void fail(Throwable error) {
      sink().error(error);
    }
  }

  /**
   * Answers a batch from the rows its statement returned: a request gets its thread's row (only the first request
   * of a thread when {@code firstOnly}), the others nothing, after {@code missing} (their thread has no row); a
   * failed statement fails them all. Returned rows are threads that exist: they are remembered.
   */
  private <R extends Queued> Mono<Void> answer(List<R> batch, boolean firstOnly, Flux<ThreadRecord> rows,
                                               Consumer<R> missing) {
    Map<String, List<R>> byThread = new HashMap<>();
    batch.forEach(request -> {
      List<R> waiting = byThread.computeIfAbsent(request.threadId(), key -> new ArrayList<>());
      if (!firstOnly || waiting.isEmpty()) {
        waiting.add(request);
      }
    });
    Set<R> answered = Collections.newSetFromMap(new IdentityHashMap<>());
    return rows
        .doOnNext(thread -> {
          remember(thread);
          List<R> waiting = byThread.remove(thread.threadId());
          if (waiting != null) {
            waiting.forEach(request -> request.sink().success(thread));
            answered.addAll(waiting);
          }
        })
        .then(Mono.fromRunnable(() -> byThread.values().forEach(waiting -> waiting.forEach(missing))))
        .then(Mono.fromRunnable(() -> unanswered(batch, answered).forEach(request -> request.sink().success())))
        .onErrorResume(error -> {
          unanswered(batch, answered).forEach(request -> request.fail(error));
          return Mono.empty();
        })
        .then();
  }

  /**
   * The requests of a batch not answered yet. Only these may be completed again: a sink whose value came before its
   * subscriber's request keeps it until then, and completing it once more would drop that value.
   */
  private static <R> List<R> unanswered(List<R> batch, Set<R> answered) {
    return batch.stream().filter(request -> !answered.contains(request)).toList();
  }

  @Override
  public Mono<ThreadRecord> get(String threadId) {
    return Mono.create(sink -> reads.submit(new Read(threadId, sink))); // found threads are remembered, others forgotten
  }

  @Override
  public Mono<Void> requireExists(String threadId) {
    return known.contains(threadId) ? Mono.empty() : ThreadStore.super.requireExists(threadId);
  }

  private void remember(ThreadRecord thread) {
    if (known.size() >= KNOWN_THREADS) {
      known.clear();
    }
    known.add(thread.threadId());
  }

  /** A queued read. */
  private record Read(String threadId, MonoSink<ThreadRecord> sink) implements Queued {
  }

  /** One SELECT answers every read queued meanwhile (the run path reads the thread before its first event). */
  private Mono<Void> readBatch(List<Read> batch) {
    String[] threadIds = batch.stream().map(Read::threadId).distinct().toArray(String[]::new);
    return answer(batch, false, query("SELECT " + COLUMNS + " FROM fluxgraph_threads WHERE thread_id = ANY($1)",
        statement -> statement.bind("$1", threadIds)), read -> known.remove(read.threadId()));
  }

  @Override
  public Mono<ThreadRecord> update(String threadId, String status, @Nullable String graphId,
                                   Map<String, Object> metadata, @Nullable Map<String, Object> configurable) {
    return Mono.create(sink -> updates.submit(new Update(threadId, status, graphId, StoredMetadata.json(metadata),
        configurable == null ? null : StoredMetadata.json(configurable), OffsetDateTime.now(ZoneOffset.UTC), sink)));
  }

  /** A queued status update; {@code configurable} null: unchanged. */
  private record Update(String threadId, String status, @Nullable String graphId, String metadata,
                        @Nullable String configurable, OffsetDateTime at, MonoSink<ThreadRecord> sink)
      implements Queued {
  }

  /**
   * The batch as few multi-row updates as possible: a thread appears once per statement (PostgreSQL refuses to
   * update a row twice in one), so a second update of a thread goes into the next statement, in order.
   */
  private Mono<Void> updateBatch(List<Update> batch) {
    List<List<Update>> rounds = GroupCommit.rounds(batch, Update::threadId);
    return Flux.fromIterable(rounds).concatMap(this::updateRound).then();
  }

  /**
   * The round's updates as arrays ($1-$6: thread, time, metadata, status, graph, configurable; one statement text
   * whatever the
   * round's size). A run that ends leaves its thread busy while runs are queued behind it (see PostgresRunQueue).
   */
  private static final String UPDATE = """
      UPDATE fluxgraph_threads AS t SET updated_at = v.at, metadata = t.metadata || v.metadata::jsonb,
             graph_id = coalesce(v.graph_id, t.graph_id), configurable = coalesce(v.configurable::jsonb, t.configurable),
             status = CASE WHEN v.status <> 'busy' AND EXISTS (SELECT 1 FROM fluxgraph_runs q
               WHERE q.thread_id = t.thread_id AND q.status = 'pending' AND q.cancel_action IS NULL)
               THEN 'busy' ELSE v.status END
        FROM unnest($1::text[], $2::text[]::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[])
          AS v (thread_id, at, metadata, status, graph_id, configurable)
       WHERE t.thread_id = v.thread_id
      RETURNING t.thread_id, t.created_at, t.updated_at, t.metadata::text AS metadata, t.status, t.graph_id,
                t.configurable::text AS configurable""";

  /** One UPDATE for the round; a thread that does not exist is left out (its update emits nothing). */
  private Mono<Void> updateRound(List<Update> round) {
    String[][] columns = new String[6][round.size()];
    for (int i = 0; i < round.size(); i++) {
      Update update = round.get(i);
      columns[0][i] = update.threadId();
      columns[1][i] = update.at().toInstant().toString();
      columns[2][i] = update.metadata();
      columns[3][i] = update.status();
      columns[4][i] = update.graphId();
      columns[5][i] = update.configurable();
    }
    return answer(round, false, query(UPDATE, statement -> {
      for (int c = 0; c < columns.length; c++) {
        statement.bind("$" + (c + 1), columns[c]);
      }
    }), update -> known.remove(update.threadId())); // deleted, perhaps by another process
  }


  @Override
  public Mono<Boolean> delete(String threadId) {
    return Mono.defer(() -> {
      known.remove(threadId);
      return deletes.delete(threadId);
    }).doFinally(signal -> known.remove(threadId)); // a read racing the delete may have re-added it
  }

  @Override
  public Mono<ThreadRecord> patchMetadata(String threadId, Map<String, Object> metadata) {
    return query("UPDATE fluxgraph_threads SET metadata = metadata || $2::jsonb, updated_at = $3 WHERE thread_id = $1"
            + " RETURNING " + COLUMNS,
        statement -> statement.bind("$1", threadId).bind("$2", StoredMetadata.json(metadata))
            .bind("$3", OffsetDateTime.now(ZoneOffset.UTC)))
        .next();
  }

  @Override
  public Mono<Boolean> setTtl(String threadId, @Nullable Duration ttl) {
    return Sql.update(factory, "UPDATE fluxgraph_threads SET ttl_millis = $2 WHERE thread_id = $1", statement -> {
      statement.bind("$1", threadId);
      if (ttl == null) {
        statement.bindNull("$2", Long.class);
      } else {
        statement.bind("$2", ttl.toMillis());
      }
    }).map(updated -> updated > 0);
  }

  @Override
  public Flux<String> expired(Instant now, int limit) {
    return Sql.query(factory, "SELECT thread_id FROM fluxgraph_threads WHERE ttl_millis IS NOT NULL"
            + " AND status <> 'busy' AND updated_at + ttl_millis * interval '1 millisecond' <= $1 LIMIT " + limit,
        statement -> statement.bind("$1", OffsetDateTime.ofInstant(now, ZoneOffset.UTC)),
        row -> row.get("thread_id", String.class));
  }

  @Override
  public Mono<Long> count(Map<String, Object> metadata, @Nullable String status) {
    String sql = "SELECT count(*) FROM fluxgraph_threads WHERE metadata @> $1::jsonb"
        + (status == null ? "" : " AND status = $2");
    return Sql.query(factory, sql, statement -> {
      statement.bind("$1", StoredMetadata.json(metadata));
      if (status != null) {
        statement.bind("$2", status);
      }
    }, row -> row.get(0, Long.class)).single();
  }

  @Override
  public Flux<ThreadRecord> search(Map<String, Object> metadata, @Nullable String status, List<String> ids,
                                   int limit, int offset, Order order) {
    StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM fluxgraph_threads WHERE metadata @> $1::jsonb");
    List<Object> parameters = new ArrayList<>();
    parameters.add(StoredMetadata.json(metadata));
    if (status != null) {
      parameters.add(status);
      sql.append(" AND status = $").append(parameters.size());
    }
    if (!ids.isEmpty()) {
      parameters.add(ids.toArray(new String[0]));
      sql.append(" AND thread_id = ANY($").append(parameters.size()).append(")");
    }
    sql.append(" ORDER BY ").append(order.sql()).append(" LIMIT ").append(Math.max(0, limit)).append(" OFFSET ")
        .append(Math.max(0, offset));
    return query(sql.toString(), statement -> {
      for (int i = 0; i < parameters.size(); i++) {
        statement.bind("$" + (i + 1), parameters.get(i));
      }
    });
  }

  private Flux<ThreadRecord> query(String sql, Consumer<Statement> binder) {
    return Sql.query(factory, sql, binder, PostgresThreadStore::record);
  }

  private static ThreadRecord record(Readable row) {
    String configurable = row.get("configurable", String.class);
    try {
      return new ThreadRecord(row.get("thread_id", String.class),
          row.get("created_at", OffsetDateTime.class).toInstant(), row.get("updated_at", OffsetDateTime.class).toInstant(),
          StoredMetadata.parse(row.get("metadata", String.class)), row.get("status", String.class),
          row.get("graph_id", String.class), configurable == null ? Map.of() : StoredMetadata.parse(configurable));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("corrupt metadata of thread " + row.get("thread_id", String.class), e);
    }
  }
}
