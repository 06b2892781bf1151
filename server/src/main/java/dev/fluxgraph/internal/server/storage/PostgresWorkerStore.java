package dev.fluxgraph.internal.server.storage;

import dev.fluxgraph.postgres.Schema;
import dev.fluxgraph.postgres.Sql;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import reactor.core.publisher.Mono;

/**
 * The server processes sharing one database ({@code fluxgraph_workers}): one row per process start, its lease renewed
 * by heartbeats, and the sweep that takes back the runs of processes whose lease expired. Every time is the database's
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
   * Takes back the running runs whose owner's lease expired, or whose owner is not registered (a row of an older
   * version, a worker whose row was deleted), and the queued runs of an older version (no request recorded): each
   * goes back to the queue ({@code pending}, no owner, attempt + 1,
   * claimable after a backoff of $3 ms per earlier attempt beyond the first), to be resumed from its checkpoint by
   * whichever process claims it; a run that already had $2 attempts (max_attempts), or whose request was not
   * recorded (an older version), ends {@code error} with the reason instead, and its thread is repaired: left
   * {@code busy}, it becomes {@code error} unless another unfinished run is on it. A thread {@code busy} for longer
   * than the grace period ($1, the lease TTL) without a queued run or a running run of a live worker (left by an
   * older version, or by a run that ended without writing its thread) is repaired too. Rows locked by another
   * sweeper are skipped ({@code SKIP LOCKED}) and the update re-checks status, owner and attempt, so two sweepers
   * never both take a run. Re-queued runs are announced on the run queue's channel.
   */
  private static final String SWEEP = """
      WITH lost AS (
        SELECT r.run_id, r.owner, r.attempt, w.lease_expires_at, r.request IS NULL AS unrecorded
          FROM fluxgraph_runs r LEFT JOIN fluxgraph_workers w ON w.worker_id = r.owner
         WHERE (r.status = 'running' AND (w.worker_id IS NULL OR w.lease_expires_at <= now())
                OR r.status = 'pending' AND r.request IS NULL)
           FOR UPDATE OF r SKIP LOCKED
      ), swept AS (
        UPDATE fluxgraph_runs r SET
               status = CASE WHEN lost.attempt >= $2 OR lost.unrecorded THEN 'error' ELSE 'pending' END,
               owner = CASE WHEN lost.attempt >= $2 OR lost.unrecorded THEN r.owner END,
               attempt = CASE WHEN lost.attempt >= $2 OR lost.unrecorded THEN r.attempt ELSE r.attempt + 1 END,
               available_at = now() + (r.attempt - 1) * $3 * interval '1 millisecond',
               updated_at = now(),
               error = CASE WHEN lost.attempt >= $2 OR lost.unrecorded THEN
                 CASE WHEN lost.unrecorded THEN 'the server process running it stopped, and its request was not'
                        || ' recorded (a run of an earlier version), so it cannot be resumed'
                      ELSE 'gave up after ' || lost.attempt || ' attempt(s) (max_attempts ' || $2 || '): the server'
                        || ' process running it stopped each time' END
                 || ' (' || CASE
                 WHEN lost.owner IS NULL THEN 'owner unknown'
                 WHEN lost.lease_expires_at IS NULL THEN 'worker ' || lost.owner || ', no longer registered'
                 ELSE 'worker ' || lost.owner || ', lease expired at ' || to_char(lost.lease_expires_at
                   AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END || ')' END
          FROM lost
         WHERE r.run_id = lost.run_id AND r.status IN ('pending', 'running')
           AND r.owner IS NOT DISTINCT FROM lost.owner AND r.attempt = lost.attempt
        RETURNING r.run_id, r.thread_id, r.status
      ), repaired AS (
        UPDATE fluxgraph_threads t SET status = 'error', updated_at = now()
         WHERE t.thread_id IN (SELECT thread_id FROM swept WHERE status = 'error') AND t.status = 'busy'
           AND NOT EXISTS (SELECT 1 FROM fluxgraph_runs o WHERE o.thread_id = t.thread_id
                            AND o.status IN ('pending', 'running') AND o.run_id NOT IN (SELECT run_id FROM swept))
        RETURNING t.thread_id
      ), stale AS (
        UPDATE fluxgraph_threads t SET status = 'error', updated_at = now()
         WHERE t.status = 'busy' AND t.updated_at < now() - $1 * interval '1 millisecond'
           AND t.thread_id NOT IN (SELECT thread_id FROM swept)
           AND NOT EXISTS (SELECT 1 FROM fluxgraph_runs o LEFT JOIN fluxgraph_workers w ON w.worker_id = o.owner
                            WHERE o.thread_id = t.thread_id AND (o.status = 'pending' AND o.owner IS NULL
                              OR o.status = 'running' AND w.lease_expires_at > now()))
        RETURNING t.thread_id
      )
      SELECT (SELECT count(*) FROM swept WHERE status = 'pending') AS requeued,
             (SELECT count(*) FROM swept WHERE status = 'error') AS ended,
             (SELECT count(*) FROM repaired) + (SELECT count(*) FROM stale) AS threads,
             (SELECT count(*) FROM (SELECT pg_notify('fluxgraph_runs', 'queued')
               WHERE EXISTS (SELECT 1 FROM swept WHERE status = 'pending')) q) AS announced""";

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

  /** What one sweep did: runs re-queued, runs ended (out of attempts), threads repaired. */
  public record Swept(long requeued, long ended, long threads) {
  }

  /**
   * One sweep (see {@link #SWEEP}): runs of lost workers re-queued with a backoff of {@code backoff} per earlier
   * attempt, or ended after {@code maxAttempts}; threads busy without a live run for longer than {@code grace}
   * repaired.
   */
  public Mono<Swept> sweep(Duration grace, int maxAttempts, Duration backoff) {
    return Sql.query(factory, SWEEP, statement -> statement.bind("$1", grace.toMillis()).bind("$2", maxAttempts)
            .bind("$3", backoff.toMillis()),
        row -> new Swept(row.get("requeued", Long.class), row.get("ended", Long.class), row.get("threads", Long.class)))
        .next();
  }

  /**
   * How many milliseconds (by the database's clock) until the earliest lease of a worker owning running runs
   * expires; empty when no worker owns one. Negative when one expired already.
   */
  public Mono<Long> untilEarliestExpiry() {
    return Sql.query(factory, "SELECT (extract(epoch FROM min(w.lease_expires_at) - now()) * 1000)::bigint AS millis"
            + " FROM fluxgraph_workers w WHERE EXISTS (SELECT 1 FROM fluxgraph_runs r WHERE r.owner = w.worker_id"
            + " AND r.status = 'running')", statement -> {
        }, row -> Optional.ofNullable(row.get("millis", Long.class)))
        .next()
        .flatMap(Mono::justOrEmpty);
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
