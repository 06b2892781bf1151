package dev.fluxgraph.internal.server.storage;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.fluxgraph.postgres.GroupCommit;
import dev.fluxgraph.postgres.KeyedDelete;
import dev.fluxgraph.postgres.Schema;
import dev.fluxgraph.postgres.Sql;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Readable;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/** Run records in PostgreSQL ({@code fluxgraph_runs}), next to the threads and checkpoints. */
public final class PostgresRunStore implements RunStore {

  static final List<Schema.Migration> MIGRATIONS = List.of(new Schema.Migration(202, "server runs", List.of("""
      CREATE TABLE IF NOT EXISTS fluxgraph_runs (
        run_id             text        PRIMARY KEY,
        thread_id          text        NOT NULL,
        assistant_id       text        NOT NULL,
        created_at         timestamptz NOT NULL,
        updated_at         timestamptz NOT NULL,
        status             text        NOT NULL,
        metadata           jsonb       NOT NULL,
        multitask_strategy text        NOT NULL
      )""", "CREATE INDEX IF NOT EXISTS fluxgraph_runs_by_thread ON fluxgraph_runs (thread_id, created_at DESC)")));

  private static final String COLUMNS = "run_id, thread_id, assistant_id, created_at, updated_at, status,"
      + " metadata::text AS metadata, multitask_strategy, owner, error, attempt";

  private final ConnectionFactory factory;
  /** Saves of concurrent runs go out as one multi-row statement (at most two in flight). */
  private final GroupCommit<Save> saves = new GroupCommit<>(256, 2, this::saveBatch);
  /** Group-committed: every stateless run deletes its thread's runs. */
  private final KeyedDelete threadDeletes;

  public PostgresRunStore(ConnectionFactory factory) {
    this.factory = factory;
    this.threadDeletes = new KeyedDelete(factory, "fluxgraph_runs", "thread_id");
  }

  /** A queued save. */
  private record Save(RunRecord run, List<PostgresEventStore.StoredEvent> events, @Nullable String threadStatus,
                      MonoSink<Void> sink)
      implements GroupCommit.Request {
    @Override
    public void fail(Throwable error) {
      sink.error(error);
    }
  }

  /**
   * Creates the runs' table, the workers' one that every owner write checks (see {@link PostgresWorkerStore}), the
   * queue's columns ({@link PostgresRunQueue}), the runs' events ({@link PostgresEventStore}) and the assistants'
   * tables, which a run's record checks ({@link PostgresRunQueue.NewRun}).
   */
  public Mono<Void> setup() {
    return Schema.migrate(factory, Stream.of(MIGRATIONS, PostgresWorkerStore.MIGRATIONS, PostgresRunQueue.MIGRATIONS,
        PostgresEventStore.MIGRATIONS, PostgresAssistantStore.MIGRATIONS)
        .flatMap(List::stream).toList());
  }

  @Override
  public Mono<Void> save(RunRecord run) {
    return save(run, List.of());
  }

  @Override
  public Mono<Void> save(RunRecord run, List<PostgresEventStore.StoredEvent> events) {
    return save(run, events, null);
  }

  @Override
  public Mono<Void> save(RunRecord run, List<PostgresEventStore.StoredEvent> events, @Nullable String threadStatus) {
    return Mono.create(sink -> saves.submit(new Save(run, events, threadStatus, sink)));
  }

  /**
   * The batch's saves as arrays (one statement text whatever the batch's size, so it is parsed and planned once per
   * connection): $1-$5 the runs (id, updated_at, status, owner, attempt) and $10 their threads' status after them
   * (null: left alone), $6-$9 and $11 the events kept with them (run, seq, name, data, the first seq of their row:
   * {@code PostgresEventStore.roundRows}, one row for a run's last events); events and thread statuses are
   * written only for runs this statement saved. A thread stays {@code busy} while runs are queued on it (as
   * {@code PostgresThreadStore}'s update keeps it). The runs and threads are also named as arrays
   * ({@code = ANY (ARRAY(…))}): joined to the CTE alone, the plan cached while the tables were small read every
   * unfinished run and scanned every thread (see {@code PostgresPlansIT}).
   */
  private static final String SAVE = """
      WITH v AS (
        SELECT * FROM unnest($1::text[], $2::text[]::timestamptz[], $3::text[], $4::text[], $5::integer[],
                             $10::text[])
          AS v (run_id, updated_at, status, owner, attempt, thread_status)
      ), saved AS (
        UPDATE fluxgraph_runs r SET updated_at = v.updated_at, status = v.status FROM v
         WHERE r.run_id = v.run_id AND r.run_id = ANY (ARRAY(SELECT run_id FROM v))
           AND r.status IN ('pending', 'running') AND r.updated_at <= v.updated_at
           AND (r.cancel_action IS DISTINCT FROM 'rollback' OR v.status IN ('pending', 'running'))
           AND r.owner IS NOT DISTINCT FROM v.owner AND r.attempt = v.attempt AND (v.owner IS NULL OR EXISTS
               (SELECT 1 FROM fluxgraph_workers w WHERE w.worker_id = v.owner AND w.lease_expires_at > now()))
        RETURNING r.run_id, r.thread_id, r.status
      ), kept AS (
        INSERT INTO fluxgraph_run_events (run_id, thread_id, seq, last_seq, names, data)\s""" + PostgresEventStore.roundRows("SELECT e.run_id, s.thread_id, e.seq, e.name, e.data, e.first"
      + " FROM unnest($6::text[], $7::bigint[], $8::text[], $9::text[], $11::bigint[])"
      + " AS e (run_id, seq, name, data, first) JOIN saved s ON s.run_id = e.run_id") + """
        ON CONFLICT (run_id, seq) DO NOTHING
      ), freed AS (
        UPDATE fluxgraph_threads t SET updated_at = v.updated_at,
               status = CASE WHEN v.thread_status <> 'busy' AND EXISTS (SELECT 1 FROM fluxgraph_runs q
                 WHERE q.thread_id = t.thread_id AND q.status = 'pending' AND q.cancel_action IS NULL)
                 THEN 'busy' ELSE v.thread_status END
          FROM saved s JOIN v ON v.run_id = s.run_id
         WHERE t.thread_id = ANY (ARRAY(SELECT thread_id FROM saved)) AND t.thread_id = s.thread_id
           AND v.thread_status IS NOT NULL
      )
      SELECT\s""" + PostgresRunQueue.signalEach("end", "SELECT run_id FROM saved WHERE status NOT IN ('pending',"
      + " 'running')") + """
       AS ended,\s""" + PostgresRunQueue.signalQueuedBehind("SELECT thread_id FROM saved"
      + " WHERE status NOT IN ('pending', 'running')") + " AS woken";

  /**
   * One update for the batch, a compare-and-set per run on (run, owner, attempt) under the owner's lease, that never
   * moves a finished run back nor an {@code updated_at} backwards, and never ends a run flagged for rollback (a
   * rollback that came first wins: the owner erases the run, see {@code RunLifecycle}); a run that ended is announced
   * on {@value PostgresRunQueue#CHANNEL} ({@code end:<run id>}) in the same statement. A run appears once per statement
   * (PostgreSQL refuses to update a row twice in one): the newest of its records is written, which is what the guard
   * would keep anyway. A run that is not recorded (deleted meanwhile) is not written again.
   */
  private Mono<Void> saveBatch(List<Save> batch) {
    Map<String, RunRecord> newest = new LinkedHashMap<>();
    Map<String, String> threadStatuses = new HashMap<>();
    PostgresEventStore.Columns events = new PostgresEventStore.Columns();
    for (Save save : batch) {
      newest.merge(save.run().runId(), save.run(), (a, b) -> a.finished() && !b.finished()
          || a.updatedAt().isAfter(b.updatedAt()) ? a : b);
      if (save.threadStatus() != null) { // only a run's end has one, and a run ends once
        threadStatuses.put(save.run().runId(), save.threadStatus());
      }
      events.add(save.run().runId(), null, save.events());
    }
    List<RunRecord> rows = List.copyOf(newest.values());
    String[] ids = new String[rows.size()];
    String[] updated = new String[rows.size()];
    String[] statuses = new String[rows.size()];
    String[] owners = new String[rows.size()];
    Integer[] attempts = new Integer[rows.size()];
    String[] threadStatus = new String[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      RunRecord run = rows.get(i);
      ids[i] = run.runId();
      updated[i] = run.updatedAt().toString();
      statuses[i] = run.status();
      owners[i] = run.owner();
      attempts[i] = run.attempt();
      threadStatus[i] = threadStatuses.get(run.runId());
    }
    return Sql.query(factory, SAVE, statement -> statement.bind("$1", ids).bind("$2", updated)
            .bind("$3", statuses).bind("$4", owners).bind("$5", attempts)
            .bind("$6", events.runs.toArray(String[]::new)).bind("$7", events.seqs.toArray(Long[]::new))
            .bind("$8", events.names.toArray(String[]::new)).bind("$9", events.data.toArray(String[]::new))
            .bind("$10", threadStatus).bind("$11", events.firsts.toArray(Long[]::new)), row -> row.get("ended", Long.class))
        .then()
        .doOnSuccess(done -> batch.forEach(save -> save.sink().success()))
        .doOnError(error -> batch.forEach(save -> save.sink().error(error)))
        .onErrorResume(error -> Mono.empty());
  }

  /**
   * Records a run as it is, without the queue's rules (tests, and rows of earlier versions); a run already recorded is
   * left alone.
   */
  public Mono<Void> insert(RunRecord run) {
    return Sql.update(factory, "INSERT INTO fluxgraph_runs (run_id, thread_id, assistant_id, created_at, updated_at,"
        + " status, metadata, multitask_strategy, owner, attempt) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9,"
        + " $10) ON CONFLICT (run_id) DO NOTHING", statement -> {
          statement.bind("$1", run.runId()).bind("$2", run.threadId()).bind("$3", run.assistantId())
              .bind("$4", OffsetDateTime.ofInstant(run.createdAt(), ZoneOffset.UTC))
              .bind("$5", OffsetDateTime.ofInstant(run.updatedAt(), ZoneOffset.UTC))
              .bind("$6", run.status()).bind("$7", StoredMetadata.json(run.metadata()))
              .bind("$8", run.multitaskStrategy()).bind("$10", run.attempt());
          if (run.owner() == null) {
            statement.bindNull("$9", String.class);
          } else {
            statement.bind("$9", run.owner());
          }
        }).then();
  }

  @Override
  public Mono<RunRecord> get(String threadId, String runId) {
    return Sql.query(factory, "SELECT " + COLUMNS + " FROM fluxgraph_runs WHERE run_id = $1 AND thread_id = $2",
        statement -> statement.bind("$1", runId).bind("$2", threadId), PostgresRunStore::record).next();
  }

  @Override
  public Flux<RunRecord> list(String threadId, @Nullable String status, int limit, int offset) {
    String sql = "SELECT " + COLUMNS + " FROM fluxgraph_runs WHERE thread_id = $1"
        + (status == null ? "" : " AND status = $2") + " ORDER BY created_at DESC LIMIT " + Math.max(0, limit)
        + " OFFSET " + Math.max(0, offset);
    return Sql.query(factory, sql, statement -> {
      statement.bind("$1", threadId);
      if (status != null) {
        statement.bind("$2", status);
      }
    }, PostgresRunStore::record);
  }

  @Override
  public Flux<RunRecord> withStatus(@Nullable String threadId, List<String> statuses) {
    String sql = "SELECT " + COLUMNS + " FROM fluxgraph_runs WHERE status = ANY($1)"
        + (threadId == null ? "" : " AND thread_id = $2") + " ORDER BY created_at";
    return Sql.query(factory, sql, statement -> {
      statement.bind("$1", statuses.toArray(String[]::new));
      if (threadId != null) {
        statement.bind("$2", threadId);
      }
    }, PostgresRunStore::record);
  }

  @Override
  public Mono<Boolean> delete(String threadId, String runId) {
    return Sql.update(factory, "DELETE FROM fluxgraph_runs WHERE run_id = $1 AND thread_id = $2",
        statement -> statement.bind("$1", runId).bind("$2", threadId)).map(count -> count > 0);
  }

  @Override
  public Mono<Void> deleteThread(String threadId) {
    return threadDeletes.delete(threadId).then();
  }

  static RunRecord record(Readable row) {
    try {
      return new RunRecord(row.get("run_id", String.class), row.get("thread_id", String.class),
          row.get("assistant_id", String.class), row.get("created_at", OffsetDateTime.class).toInstant(),
          row.get("updated_at", OffsetDateTime.class).toInstant(), row.get("status", String.class),
          StoredMetadata.parse(row.get("metadata", String.class)), row.get("multitask_strategy", String.class),
          row.get("owner", String.class), row.get("error", String.class), row.get("attempt", Integer.class));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("corrupt metadata of run " + row.get("run_id", String.class), e);
    }
  }
}
