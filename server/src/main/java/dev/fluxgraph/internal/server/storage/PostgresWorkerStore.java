package dev.fluxgraph.internal.server.storage;

import dev.fluxgraph.postgres.Schema;
import dev.fluxgraph.postgres.Sql;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * The server processes sharing one database ({@code fluxgraph_workers}): one row per process start, its lease renewed
 * by heartbeats, and the sweep that ends the runs of processes whose lease expired. Every time is the database's
 * {@code now()}, so the processes' clocks never need to agree.
 */
public final class PostgresWorkerStore {

  /**
   * Workers, and the owner, attempt and error of each run (version 203, after the threads' 201 and the runs' 202);
   * applied by {@link PostgresRunStore#setup}.
   */
  static final List<Schema.Migration> MIGRATIONS = List.of(new Schema.Migration(203, "server workers", List.of("""
      CREATE TABLE IF NOT EXISTS fluxgraph_workers (
        worker_id        text        PRIMARY KEY,
        started_at       timestamptz NOT NULL,
        heartbeat_at     timestamptz NOT NULL,
        lease_expires_at timestamptz NOT NULL
      )""",
      "ALTER TABLE fluxgraph_runs ADD COLUMN IF NOT EXISTS owner text",
      "ALTER TABLE fluxgraph_runs ADD COLUMN IF NOT EXISTS attempt integer NOT NULL DEFAULT 1",
      "ALTER TABLE fluxgraph_runs ADD COLUMN IF NOT EXISTS error text",
      "CREATE INDEX IF NOT EXISTS fluxgraph_runs_unfinished ON fluxgraph_runs (owner)"
          + " WHERE status IN ('pending', 'running')")));

  /**
   * Ends the unfinished runs whose owner's lease expired, or whose owner is not registered (a row of an older version,
   * a worker whose row was deleted), as {@code error} with the reason, then repairs their threads: a thread left
   * {@code busy} becomes {@code error} unless another unfinished run of a live worker is on it. A thread {@code busy}
   * for longer than the grace period ($1, the lease TTL) without an unfinished run of a live worker (left by a
   * version without workers, or a run whose record was never saved) is repaired too; the grace period covers the
   * moment between a run's thread turning busy and its record being saved. Rows locked by another
   * sweeper are skipped ({@code SKIP LOCKED}), and the update re-checks status and owner, so two sweepers never both
   * end a run. The runs' rows are the ones the next step re-queues instead of ending (see docs/design.md).
   */
  private static final String SWEEP = """
      WITH lost AS (
        SELECT r.run_id, r.owner, w.lease_expires_at
          FROM fluxgraph_runs r LEFT JOIN fluxgraph_workers w ON w.worker_id = r.owner
         WHERE r.status IN ('pending', 'running') AND (w.worker_id IS NULL OR w.lease_expires_at <= now())
           FOR UPDATE OF r SKIP LOCKED
      ), swept AS (
        UPDATE fluxgraph_runs r SET status = 'error', updated_at = now(),
               error = 'the server process running it stopped (' || CASE
                 WHEN lost.owner IS NULL THEN 'owner unknown: recorded before workers existed)'
                 WHEN lost.lease_expires_at IS NULL THEN 'worker ' || lost.owner || ', no longer registered)'
                 ELSE 'worker ' || lost.owner || ', lease expired at ' || to_char(lost.lease_expires_at
                   AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || ')' END
          FROM lost
         WHERE r.run_id = lost.run_id AND r.status IN ('pending', 'running')
           AND r.owner IS NOT DISTINCT FROM lost.owner
        RETURNING r.run_id, r.thread_id
      ), repaired AS (
        UPDATE fluxgraph_threads t SET status = 'error', updated_at = now()
         WHERE t.thread_id IN (SELECT thread_id FROM swept) AND t.status = 'busy'
           AND NOT EXISTS (SELECT 1 FROM fluxgraph_runs o JOIN fluxgraph_workers w ON w.worker_id = o.owner
                            WHERE o.thread_id = t.thread_id AND o.status IN ('pending', 'running')
                              AND o.run_id NOT IN (SELECT run_id FROM swept) AND w.lease_expires_at > now())
        RETURNING t.thread_id
      ), stale AS (
        UPDATE fluxgraph_threads t SET status = 'error', updated_at = now()
         WHERE t.status = 'busy' AND t.updated_at < now() - $1 * interval '1 millisecond'
           AND t.thread_id NOT IN (SELECT thread_id FROM swept)
           AND NOT EXISTS (SELECT 1 FROM fluxgraph_runs o JOIN fluxgraph_workers w ON w.worker_id = o.owner
                            WHERE o.thread_id = t.thread_id AND o.status IN ('pending', 'running')
                              AND w.lease_expires_at > now())
        RETURNING t.thread_id
      )
      SELECT (SELECT count(*) FROM swept) AS runs,
             (SELECT count(*) FROM repaired) + (SELECT count(*) FROM stale) AS threads""";

  private final ConnectionFactory factory;

  public PostgresWorkerStore(ConnectionFactory factory) {
    this.factory = factory;
  }

  /** Registers a worker with a lease of {@code ttl} from the database's now. */
  public Mono<Void> register(String workerId, Duration ttl) {
    return Sql.update(factory, "INSERT INTO fluxgraph_workers (worker_id, started_at, heartbeat_at, lease_expires_at)"
            + " VALUES ($1, now(), now(), now() + $2 * interval '1 millisecond')",
        statement -> statement.bind("$1", workerId).bind("$2", ttl.toMillis())).then();
  }

  /**
   * Renews the worker's lease to {@code ttl} from now; emits false when it had already expired or the row is gone: an
   * expired lease is never revived, since its runs may have been swept.
   */
  public Mono<Boolean> renew(String workerId, Duration ttl) {
    return Sql.update(factory, "UPDATE fluxgraph_workers SET heartbeat_at = now(),"
            + " lease_expires_at = now() + $2 * interval '1 millisecond' WHERE worker_id = $1 AND lease_expires_at > now()",
        statement -> statement.bind("$1", workerId).bind("$2", ttl.toMillis())).map(count -> count > 0);
  }

  /** Removes the worker's row (a clean stop). */
  public Mono<Void> deregister(String workerId) {
    return Sql.update(factory, "DELETE FROM fluxgraph_workers WHERE worker_id = $1",
        statement -> statement.bind("$1", workerId)).then();
  }

  /** What one sweep did. */
  public record Swept(long runs, long threads) {
  }

  /** One sweep (see {@link #SWEEP}); threads busy without a live run for longer than {@code grace} are repaired. */
  public Mono<Swept> sweep(Duration grace) {
    return Sql.query(factory, SWEEP, statement -> statement.bind("$1", grace.toMillis()), row -> new Swept(row.get("runs", Long.class), row.get("threads", Long.class))).next();
  }

  /**
   * Deletes the rows of workers whose lease expired more than {@code after} ago and that own no unfinished run;
   * emits how many.
   */
  public Mono<Long> deleteExpired(Duration after) {
    return Sql.update(factory, "DELETE FROM fluxgraph_workers w WHERE w.lease_expires_at < now() - $1 * interval"
            + " '1 millisecond' AND NOT EXISTS (SELECT 1 FROM fluxgraph_runs r WHERE r.owner = w.worker_id"
            + " AND r.status IN ('pending', 'running'))",
        statement -> statement.bind("$1", after.toMillis()));
  }
}
