package dev.fluxgraph.internal.server.storage;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.postgres.GroupCommit;
import dev.fluxgraph.postgres.Schema;
import dev.fluxgraph.postgres.Sql;
import dev.fluxgraph.types.FluxgraphJson;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.R2dbcDataIntegrityViolationException;
import io.r2dbc.spi.Readable;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.util.retry.Retry;

/**
 * Runs as work items in PostgreSQL ({@code fluxgraph_runs}), shared by every server process of the database: a run
 * is recorded with its whole request before it is acknowledged, and the process that records it claims it in the
 * same statement when its thread is free ({@link #enqueue}); otherwise it waits {@code pending} until a process
 * claims it, the oldest of its thread first ({@link #claim}, {@code FOR UPDATE SKIP LOCKED}). A unique index over the
 * {@code running} runs of a thread makes the database, not a JVM, keep one executing run per thread. A cancel is a
 * durable flag on the run ({@link #requestCancel}) that its owner reads; a run its owner lets go (a clean stop) goes
 * back to the queue ({@link #release}). Every change is announced on {@value #CHANNEL} in the statement that makes it:
 * {@code queued}, {@code cancel:<run id>}, {@code end:<run id>} (by the saves, see {@link PostgresRunStore}).
 */
public final class PostgresRunQueue {

  /** The notification channel of the run queue (ids only in payloads: data stays in tables). */
  public static final String CHANNEL = "fluxgraph_runs";

  private static final ObjectMapper JSON = FluxgraphJson.mapper();

  /**
   * Version 204, after the workers' 203: the request, the time from which a queued run may be claimed, the cancel
   * flag and when the run first got its thread; one running run per thread (older duplicates, possible only from
   * earlier versions, are ended first), and the index the claim reads. Queued runs have no owner.
   */
  static final List<Schema.Migration> MIGRATIONS = List.of(new Schema.Migration(204, "server run queue", List.of(
      "ALTER TABLE fluxgraph_runs ADD COLUMN IF NOT EXISTS request jsonb",
      "ALTER TABLE fluxgraph_runs ADD COLUMN IF NOT EXISTS available_at timestamptz NOT NULL DEFAULT now()",
      "ALTER TABLE fluxgraph_runs ADD COLUMN IF NOT EXISTS cancel_action text",
      "ALTER TABLE fluxgraph_runs ADD COLUMN IF NOT EXISTS started_at timestamptz",
      """
      UPDATE fluxgraph_runs r SET status = 'error', error = 'ended when the run queue was installed: another run of'
             || ' its thread was running too'
       WHERE r.status = 'running' AND EXISTS (SELECT 1 FROM fluxgraph_runs o WHERE o.thread_id = r.thread_id
             AND o.status = 'running' AND (o.created_at, o.run_id) > (r.created_at, r.run_id))""",
      "UPDATE fluxgraph_runs SET owner = NULL WHERE status = 'pending'",
      "CREATE UNIQUE INDEX IF NOT EXISTS fluxgraph_runs_one_running ON fluxgraph_runs (thread_id)"
          + " WHERE status = 'running'",
      "CREATE INDEX IF NOT EXISTS fluxgraph_runs_queued ON fluxgraph_runs (thread_id, created_at)"
          + " WHERE status IN ('pending', 'running')")));

  /**
   * Records runs and claims each one whose thread is free, for a batch of runs of distinct threads all recorded by
   * one process: the threads' unfinished runs are locked, so concurrent enqueues of one thread take turns; a free
   * thread (and no delay) gives {@code running}, owned by the recorder if its lease holds; else the run's multitask
   * strategy decides: {@code reject} records nothing, {@code enqueue} records it {@code pending},
   * {@code interrupt}/{@code rollback} record it {@code pending} and flag the runs ahead of it for cancelling. Two
   * processes enqueueing on one free thread at once both try {@code running}: the unique index fails one statement,
   * which is retried and then finds the thread busy. A run claimed here that names its graph also marks its thread
   * {@code busy} with that graph in the same statement (one write less before the run's first step). The batch comes
   * as arrays ($1-$12, one per column), so the statement's text is the same whatever its size. A thread's unfinished
   * runs are looked up by key for each thread (a lateral subquery): joined to the batch, the plan cached while the
   * tables were empty read every unfinished run (see {@code PostgresPlansIT}); the threads to mark are named as an
   * array ({@code = ANY (ARRAY(…))}), which such a plan may still scan while the table is young (see docs/design.md,
   * "Plans on a fresh database").
   */
  private static final String ENQUEUE = """
        WITH v AS (
          SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                               $8::bigint[], $9::text[]::timestamptz[], $10::text[], $11::text[]::timestamptz[],
                               $12::text[])
            AS v (run_id, thread_id, assistant_id, metadata, strategy, owner, request, delay, created_at, graph_id,
                  assistant_at, configurable)
        ), checked AS (
          SELECT v.*, v.assistant_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM fluxgraph_assistants a
                 WHERE a.assistant_id = v.assistant_id AND a.updated_at = v.assistant_at) AS stale
            FROM v
        ), busy AS (
          SELECT r.* FROM (SELECT DISTINCT thread_id FROM v) k CROSS JOIN LATERAL (
            SELECT u.run_id, u.thread_id, u.status, u.owner FROM fluxgraph_runs u
             WHERE u.thread_id = k.thread_id AND u.status IN ('pending', 'running') OFFSET 0 FOR UPDATE OF u) r
        ), decided AS (
          SELECT v.*, NOT v.stale AND NOT EXISTS (SELECT 1 FROM busy b WHERE b.thread_id = v.thread_id)
                 AND v.delay = 0 AND EXISTS (SELECT 1 FROM fluxgraph_workers w WHERE w.worker_id = v.owner
                   AND w.lease_expires_at > now()) AS claims,
                 NOT EXISTS (SELECT 1 FROM busy b WHERE b.thread_id = v.thread_id) AS free
            FROM checked v
        ), recorded AS (
          INSERT INTO fluxgraph_runs (run_id, thread_id, assistant_id, created_at, updated_at, status, metadata,
                                      multitask_strategy, owner, attempt, request, available_at, started_at)
          SELECT d.run_id, d.thread_id, d.assistant_id, d.created_at, d.created_at,
                 CASE WHEN d.claims THEN 'running' ELSE 'pending' END, d.metadata::jsonb, d.strategy,
                 CASE WHEN d.claims THEN d.owner END, 1, d.request::jsonb, now() + d.delay * interval '1 millisecond',
                 CASE WHEN d.claims THEN d.created_at END
            FROM decided d
           WHERE NOT d.stale AND (d.strategy <> 'reject' OR d.free)
          RETURNING run_id, status
        ), flagged AS (
          UPDATE fluxgraph_runs r SET cancel_action = d.strategy FROM busy b JOIN decided d ON d.thread_id = b.thread_id
           WHERE r.run_id = b.run_id AND d.strategy IN ('interrupt', 'rollback') AND NOT d.stale
          RETURNING r.run_id
        ), marked AS (
          UPDATE fluxgraph_threads t SET status = 'busy', updated_at = d.created_at, graph_id = d.graph_id,
                 configurable = d.configurable::jsonb,
                 metadata = t.metadata || jsonb_build_object('graph_id', d.graph_id, 'assistant_id', d.assistant_id)
            FROM decided d WHERE t.thread_id = d.thread_id AND d.claims AND d.graph_id IS NOT NULL
             AND t.thread_id = ANY (ARRAY(SELECT thread_id FROM decided WHERE claims AND graph_id IS NOT NULL))
          RETURNING t.thread_id
        )
        SELECT d.run_id, d.stale, (SELECT x.status FROM recorded x WHERE x.run_id = d.run_id) AS status,
               EXISTS (SELECT 1 FROM marked m WHERE m.thread_id = d.thread_id) AS marked,
               (SELECT string_agg(b.run_id || ' ' || b.status || ' ' || coalesce(b.owner, '-'), ',' ORDER BY b.run_id)
                  FROM busy b WHERE b.thread_id = d.thread_id) AS ahead,
               (SELECT count(*) FROM (SELECT pg_notify('fluxgraph_runs', 'queued')
                 WHERE EXISTS (SELECT 1 FROM recorded WHERE status = 'pending')) q) AS queued,\s"""
        + signalEach("cancel", "SELECT run_id FROM flagged") + " AS cancels FROM decided d";

  private static final String CLAIMED = "r.run_id, r.thread_id, r.assistant_id, r.created_at, r.updated_at,"
      + " r.status, r.metadata::text AS metadata, r.multitask_strategy, r.owner, r.error, r.attempt,"
      + " r.request::text AS request, r.cancel_action, r.started_at";

  /**
   * Claims the oldest due queued run whose thread has no running run and no older queued run (FIFO per thread),
   * optionally of one thread ($2), for worker $1 while its lease holds. Rows another claimer holds are skipped.
   */
  private static final String CLAIM = """
      WITH next AS (
        SELECT p.run_id FROM fluxgraph_runs p
         WHERE p.status = 'pending' AND p.available_at <= now() AND ($2::text IS NULL OR p.thread_id = $2)
           AND p.request IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM fluxgraph_runs x WHERE x.thread_id = p.thread_id AND x.status = 'running')
           AND NOT EXISTS (SELECT 1 FROM fluxgraph_runs y WHERE y.thread_id = p.thread_id AND y.status = 'pending'
                            AND (y.created_at, y.run_id) < (p.created_at, p.run_id))
           AND EXISTS (SELECT 1 FROM fluxgraph_workers w WHERE w.worker_id = $1 AND w.lease_expires_at > now())
         ORDER BY p.available_at, p.created_at LIMIT 1
           FOR UPDATE OF p SKIP LOCKED
      )
      UPDATE fluxgraph_runs r SET status = 'running', owner = $1, updated_at = $3,
             started_at = coalesce(r.started_at, $3)
        FROM next WHERE r.run_id = next.run_id AND r.status = 'pending'
      RETURNING\s""" + CLAIMED;

  /**
   * The SQL of one signal per up to 150 ids of {@code ids} (a query with a column {@code run_id}): {@code <kind>:<id>,
   * <id>,…}, under PostgreSQL's 8000-byte payload limit; a statement that changes many runs sends a few signals, not
   * one per run (each signal takes the database's notification lock until its transaction ends).
   */
  static String signalEach(String kind, String ids) {
    return "(SELECT count(*) FROM (SELECT pg_notify('" + CHANNEL + "', '" + kind + ":' || string_agg(run_id, ','))"
        + " FROM (SELECT run_id, (row_number() OVER ()) / 150 AS chunk FROM (" + ids + ") i) c GROUP BY chunk) n)";
  }

  /**
   * The SQL of one {@code queued} signal, sent when a thread of {@code freed} (a query with a column
   * {@code thread_id}: threads whose run just ended or went) has queued runs, which a claimer may now take.
   */
  static String signalQueuedBehind(String freed) {
    return "(SELECT count(*) FROM (SELECT pg_notify('" + CHANNEL + "', 'queued') WHERE EXISTS (SELECT 1 FROM ("
        + freed + ") f JOIN fluxgraph_runs q ON q.thread_id = f.thread_id AND q.status = 'pending')) w)";
  }

  /**
   * Asks the run's owner, whichever process it is, to write the run's events as they come ({@code watch:<run>}):
   * somebody follows it from another process.
   */
  public Mono<Void> watch(String runId) {
    return PgListener.notify(factory, CHANNEL, "watch:" + runId);
  }

  /** Whether a signal of {@code kind} ({@link #signalEach}) names the run. */
  public static boolean names(String payload, String kind, String runId) {
    return payload.startsWith(kind) && payload.length() > kind.length() && payload.charAt(kind.length()) == ':'
        && payload.contains(runId);
  }

  private final ConnectionFactory factory;
  /** Enqueues of concurrent requests go out as one statement, one batch at a time (so they keep their order). */
  private final GroupCommit<Enqueue> enqueues = new GroupCommit<>(256, 1, this::enqueueBatch);

  public PostgresRunQueue(ConnectionFactory factory) {
    this.factory = factory;
  }

  /**
   * A run to record: its request is everything a process needs to execute it (see {@code RunLifecycle}). With a
   * {@code graphId}, a run claimed at once marks its thread busy with that graph, if the thread exists. With an
   * {@code assistantAt}, the request was made from the assistant's version of that {@code updated_at}: the run is
   * recorded only while it is still the assistant's current one (else {@link Enqueued#stale}), so a process may
   * build requests from assistants it read earlier.
   */
  public record NewRun(String runId, String threadId, String assistantId, Instant createdAt,
                       Map<String, Object> metadata, String multitaskStrategy, String owner, JsonNode request,
                       Duration delay, @Nullable String graphId, @Nullable Instant assistantAt,
                       Map<String, Object> configurable) {

    /** A run whose thread, when marked busy here, keeps no configurable values of it. */
    public NewRun(String runId, String threadId, String assistantId, Instant createdAt,
                  Map<String, Object> metadata, String multitaskStrategy, String owner, JsonNode request,
                  Duration delay, @Nullable String graphId, @Nullable Instant assistantAt) {
      this(runId, threadId, assistantId, createdAt, metadata, multitaskStrategy, owner, request, delay, graphId,
          assistantAt, Map.of());
    }

    /** A run that leaves its thread's status alone, whatever its assistant. */
    public NewRun(String runId, String threadId, String assistantId, Instant createdAt, Map<String, Object> metadata,
                  String multitaskStrategy, String owner, JsonNode request, Duration delay) {
      this(runId, threadId, assistantId, createdAt, metadata, multitaskStrategy, owner, request, delay, null, null);
    }
  }

  /** An unfinished run of the thread when another was enqueued: its id, status and owner (null when queued). */
  public record Ahead(String runId, String status, @Nullable String owner) {
  }

  /**
   * What {@link #enqueue} did: {@code status} {@code running} (claimed by the caller), {@code pending} (queued), or
   * null (refused: multitask_strategy reject on a busy thread, or {@code stale}); the thread's unfinished runs before
   * it; whether the thread was marked busy (see {@link NewRun}); whether nothing was recorded because the assistant
   * changed since the request was made from it (see {@link NewRun}).
   */
  public record Enqueued(@Nullable String status, List<Ahead> ahead, boolean threadMarked, boolean stale) {
  }

  /** A claimed run: its record (owner: the claimer), request, cancel flag and when it first got its thread. */
  public record Claimed(RunStore.RunRecord record, JsonNode request, @Nullable String cancelAction,
                        Instant startedAt) {
  }

  /**
   * Records the run (see {@link #enqueueSql}); committed when this emits. Runs recorded at the same moment go out as
   * one statement (one commit for all), a thread at most once per statement: a second run of a thread goes into the
   * next one, in order.
   */
  public Mono<Enqueued> enqueue(NewRun run) {
    String request;
    try {
      request = JSON.writeValueAsString(run.request());
    } catch (JsonProcessingException e) {
      return Mono.error(new IllegalArgumentException("the run's request is not JSON: " + e.getOriginalMessage(), e));
    }
    return Mono.create(sink -> enqueues.submit(new Enqueue(run, request, sink)));
  }

  /** A queued enqueue. */
  private record Enqueue(NewRun run, String request, MonoSink<Enqueued> sink) implements GroupCommit.Request {
    @Override
    public void fail(Throwable error) {
      sink.error(error);
    }
  }

  /** The batch as statements in which a thread appears once, one after the other. */
  private Mono<Void> enqueueBatch(List<Enqueue> batch) {
    List<List<Enqueue>> rounds = GroupCommit.rounds(batch, enqueue -> enqueue.run().threadId());
    return Flux.fromIterable(rounds).concatMap(this::enqueueRound).then();
  }

  private Mono<Void> enqueueRound(List<Enqueue> round) {
    Map<String, Enqueued> answers = new HashMap<>();
    int size = round.size();
    String[][] text = new String[11][size];
    Long[] delays = new Long[size];
    for (int i = 0; i < size; i++) {
      NewRun run = round.get(i).run();
      text[0][i] = run.runId();
      text[1][i] = run.threadId();
      text[2][i] = run.assistantId();
      text[3][i] = StoredMetadata.json(run.metadata());
      text[4][i] = run.multitaskStrategy();
      text[5][i] = run.owner();
      text[6][i] = round.get(i).request();
      delays[i] = run.delay().toMillis();
      text[7][i] = run.createdAt().toString();
      text[8][i] = run.graphId();
      text[9][i] = run.assistantAt() == null ? null : run.assistantAt().toString();
      text[10][i] = StoredMetadata.json(run.configurable());
    }
    return Sql.query(factory, ENQUEUE, statement -> {
          for (int c = 0; c < 7; c++) {
            statement.bind("$" + (c + 1), text[c]);
          }
          statement.bind("$8", delays).bind("$9", text[7]).bind("$10", text[8]).bind("$11", text[9])
              .bind("$12", text[10]);
        }, row -> Map.entry(row.get("run_id", String.class),
            new Enqueued(row.get("status", String.class), ahead(row.get("ahead", String.class)),
                Boolean.TRUE.equals(row.get("marked", Boolean.class)),
                Boolean.TRUE.equals(row.get("stale", Boolean.class)))))
        .collectList()
        // two processes enqueueing on one free thread at once: the unique index over running runs failed this one
        // (or their locks met in a deadlock): retried, the thread is then busy
        .retryWhen(Retry.max(5).filter(error -> error instanceof R2dbcDataIntegrityViolationException
            || Sql.isTransient(error)))
        .doOnNext(rows -> rows.forEach(row -> answers.put(row.getKey(), row.getValue())))
        .doOnSuccess(rows -> round.forEach(enqueue -> {
          Enqueued answer = answers.get(enqueue.run().runId());
          if (answer == null) {
            enqueue.sink().error(new IllegalStateException("run " + enqueue.run().runId() + " got no answer"));
          } else {
            enqueue.sink().success(answer);
          }
        }))
        .doOnError(error -> round.forEach(enqueue -> enqueue.sink().error(error)))
        .onErrorResume(error -> Mono.empty())
        .then();
  }

  private static List<Ahead> ahead(@Nullable String text) {
    if (text == null || text.isEmpty()) {
      return List.of();
    }
    return Arrays.stream(text.split(",")).map(entry -> {
      String[] parts = entry.split(" ");
      return new Ahead(parts[0], parts[1], parts[2].equals("-") ? null : parts[2]);
    }).toList();
  }

  /**
   * Claims a due queued run for {@code workerId} (of {@code threadId} only, when given); empty when there is none, or
   * when the unique index refused it (another process claimed a run of the same thread at the same moment).
   */
  public Mono<Claimed> claim(String workerId, @Nullable String threadId, Instant now) {
    return Sql.query(factory, CLAIM, statement -> {
          statement.bind("$1", workerId).bind("$3", OffsetDateTime.ofInstant(now, ZoneOffset.UTC));
          if (threadId == null) {
            statement.bindNull("$2", String.class);
          } else {
            statement.bind("$2", threadId);
          }
        }, PostgresRunQueue::claimed)
        .next()
        .onErrorResume(R2dbcDataIntegrityViolationException.class, lostRace -> Mono.empty());
  }

  private static Claimed claimed(Readable row) {
    try {
      return new Claimed(PostgresRunStore.record(row), JSON.readTree(row.get("request", String.class)),
          row.get("cancel_action", String.class), row.get("started_at", OffsetDateTime.class).toInstant());
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw new IllegalStateException("corrupt request of run " + row.get("run_id", String.class), e);
    }
  }

  /** A cancel asked of an unfinished run: its status and owner when the flag was set, empty when it had ended. */
  public record CancelRequested(String status, @Nullable String owner) {
  }

  /**
   * Flags the unfinished run for cancelling with {@code action} ({@code interrupt} or {@code rollback}) and announces
   * it to its owner; a queued run is ended here at once ({@code interrupted}; deleted for rollback, as it saved
   * nothing), and its thread, marked busy when the run was recorded, is idle again in the same statement unless
   * other runs of it are unfinished. Empty when the run is finished or unknown.
   */
  public Mono<CancelRequested> requestCancel(String threadId, String runId, String action, Instant now) {
    // the row is locked first (as its update locks it; a claim skips it) and decided on as it is then: a claim
    // committed while this statement waited for the lock made it running, which the statement's own snapshot (taken
    // before) still shows pending; deciding on that snapshot found a running row for the queued run's delete and a
    // pending one for the running run's flag, and the cancel was lost (the claimer then executed the run unflagged)
    return Sql.query(factory, """
            WITH locked AS (
              SELECT run_id, status, owner FROM fluxgraph_runs
               WHERE run_id = $1 AND thread_id = $2 AND status IN ('pending', 'running')
                 FOR NO KEY UPDATE
            ), flagged AS (
              UPDATE fluxgraph_runs r SET cancel_action = $3,
                     status = CASE WHEN l.status = 'pending' THEN 'interrupted' ELSE r.status END,
                     updated_at = CASE WHEN l.status = 'pending' THEN $4 ELSE r.updated_at END
                FROM locked l
               WHERE r.run_id = l.run_id AND (l.status = 'running' OR $3 = 'interrupt')
              RETURNING r.run_id, l.status, l.owner
            ), deleted AS (
              DELETE FROM fluxgraph_runs r USING locked l
               WHERE r.run_id = l.run_id AND l.status = 'pending' AND $3 = 'rollback'
              RETURNING r.run_id, l.status, l.owner
            ), touched AS (
              SELECT run_id, status, owner FROM flagged
              UNION ALL SELECT run_id, status, owner FROM deleted
            ), freed AS (
              UPDATE fluxgraph_threads th SET status = 'idle', updated_at = $4
               WHERE th.thread_id = $2 AND th.status = 'busy'
                 AND EXISTS (SELECT 1 FROM touched WHERE status = 'pending')
                 AND NOT EXISTS (SELECT 1 FROM fluxgraph_runs o WHERE o.thread_id = $2 AND o.run_id <> $1
                   AND o.status IN ('pending', 'running'))
              RETURNING th.thread_id
            )
            SELECT t.status, t.owner,
                   (SELECT count(*) FROM (SELECT pg_notify('fluxgraph_runs', CASE WHEN status = 'running'
                     THEN 'cancel:' ELSE 'end:' END || run_id) FROM touched) c) AS sent
              FROM touched t""",
        statement -> statement.bind("$1", runId).bind("$2", threadId).bind("$3", action)
            .bind("$4", OffsetDateTime.ofInstant(now, ZoneOffset.UTC)),
        row -> new CancelRequested(row.get("status", String.class), row.get("owner", String.class))).next();
  }

  /** The cancel flag of a run ({@code interrupt} or {@code rollback}), or empty. */
  public Mono<String> cancelAction(String runId) {
    return Sql.query(factory, "SELECT cancel_action FROM fluxgraph_runs WHERE run_id = $1 AND cancel_action IS NOT"
        + " NULL", statement -> statement.bind("$1", runId), row -> row.get("cancel_action", String.class)).next();
  }

  /** The running runs of {@code workerId} flagged for cancelling, with their action: the backstop of the signals. */
  public Flux<Map.Entry<String, String>> flaggedFor(String workerId) {
    return Sql.query(factory, "SELECT run_id, cancel_action FROM fluxgraph_runs WHERE owner = $1"
            + " AND status = 'running' AND cancel_action IS NOT NULL", statement -> statement.bind("$1", workerId),
        row -> Map.entry(row.get("run_id", String.class), row.get("cancel_action", String.class)));
  }

  /** A run the database says a worker executes: its id, attempt and last update (by its owner's clock). */
  public record Owned(String runId, int attempt, Instant updatedAt) {
  }

  /** The running runs of {@code workerId} as the database records them. */
  public Flux<Owned> ownedBy(String workerId) {
    return Sql.query(factory, "SELECT run_id, attempt, updated_at FROM fluxgraph_runs WHERE owner = $1"
            + " AND status = 'running'", statement -> statement.bind("$1", workerId),
        row -> new Owned(row.get("run_id", String.class), row.get("attempt", Integer.class),
            row.get("updated_at", OffsetDateTime.class).toInstant()));
  }

  /**
   * Gives a running run of {@code owner} back to the queue, at once claimable by any process (a clean stop hands
   * over the runs it could not finish): its next execution is attempt + 1 and resumes from its checkpoint. Emits
   * whether it was released (false when the run was not this owner's any more).
   */
  public Mono<Boolean> release(String runId, String owner, int attempt, Instant now) {
    return Sql.query(factory, """
            WITH released AS (
              UPDATE fluxgraph_runs SET status = 'pending', owner = NULL, attempt = attempt + 1, available_at = now(),
                     updated_at = $4
               WHERE run_id = $1 AND owner = $2 AND attempt = $3 AND status = 'running'
              RETURNING run_id
            )
            SELECT (SELECT count(*) FROM released) AS released,
                   (SELECT count(*) FROM (SELECT pg_notify('fluxgraph_runs', 'queued') FROM released) q) AS queued""",
        statement -> statement.bind("$1", runId).bind("$2", owner).bind("$3", attempt)
            .bind("$4", OffsetDateTime.ofInstant(now, ZoneOffset.UTC)),
        row -> row.get("released", Long.class) > 0).next().defaultIfEmpty(false);
  }

  /**
   * Deletes the run if {@code owner} still owns it (a rolled-back run of its own), announcing its end and, when runs
   * are queued behind it, that its thread is free ({@code queued}); emits whether it did.
   */
  public Mono<Boolean> deleteOwned(String runId, String owner, int attempt) {
    return Sql.query(factory, """
            WITH deleted AS (
              DELETE FROM fluxgraph_runs WHERE run_id = $1 AND owner = $2 AND attempt = $3
                 AND status IN ('pending', 'running')
              RETURNING run_id, thread_id
            )
            SELECT (SELECT count(*) FROM deleted) AS deleted,
                   (SELECT count(*) FROM (SELECT pg_notify('fluxgraph_runs', 'end:' || run_id) FROM deleted) e)
                     AS ends,\s""" + signalQueuedBehind("SELECT thread_id FROM deleted") + " AS woken",
        statement -> statement.bind("$1", runId).bind("$2", owner).bind("$3", attempt),
        row -> row.get("deleted", Long.class) > 0).next().defaultIfEmpty(false);
  }

  /**
   * Flags every running run of the thread for cancelling ({@code interrupt}) and signals their owners: the thread is
   * being deleted, so they must stop writing it.
   */
  public Mono<Void> cancelThread(String threadId) {
    return Sql.query(factory, """
            WITH flagged AS (
              UPDATE fluxgraph_runs SET cancel_action = 'interrupt' WHERE thread_id = $1 AND status = 'running'
              RETURNING run_id
            )
            SELECT count(*) AS sent FROM (SELECT pg_notify('fluxgraph_runs', 'cancel:' || run_id) FROM flagged) c""",
        statement -> statement.bind("$1", threadId), row -> 1).then();
  }
}
