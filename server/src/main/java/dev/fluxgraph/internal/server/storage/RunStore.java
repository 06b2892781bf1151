package dev.fluxgraph.internal.server.storage;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Where the server keeps its run records (status, metadata, strategy), behind one interface: in memory, or in
 * PostgreSQL next to the threads, so that runs outlive the process that ran them and several server processes can
 * share one database. The live part of a run (its execution, its events) stays in the process running it
 * ({@link RunRegistry}).
 */
public interface RunStore {

  /**
   * A run as the API reports it, and the worker that owns it ({@code null} in memory, for a queued run, and for rows
   * written before workers existed): in PostgreSQL only its owner changes it, and only while the owner's lease holds.
   * {@code error} is why a sweeper ended it (its owner stopped too often), else null; the store writes it only in the
   * sweep. {@code attempt} counts its executions: 1, then one more each time another process took it over.
   */
  record RunRecord(String runId, String threadId, String assistantId, Instant createdAt, Instant updatedAt,
                   String status, Map<String, Object> metadata, String multitaskStrategy, @Nullable String owner,
                   @Nullable String error, int attempt) {

    public RunRecord(String runId, String threadId, String assistantId, Instant createdAt, Instant updatedAt,
                     String status, Map<String, Object> metadata, String multitaskStrategy, @Nullable String owner) {
      this(runId, threadId, assistantId, createdAt, updatedAt, status, metadata, multitaskStrategy, owner, null, 1);
    }

    public boolean finished() {
      return !status.equals("pending") && !status.equals("running");
    }
  }

  /**
   * Inserts or updates the record. Never moves a finished run back to unfinished, nor replaces a newer
   * {@code updatedAt} with an older one, so saves may be sent without waiting for each other. In PostgreSQL a save only
   * updates a recorded run (runs are recorded by {@code PostgresRunQueue#enqueue}), as a compare-and-set on (run,
   * owner, attempt) that also requires the owner's lease to hold: a process that lost the run (its lease expired, a
   * sweeper re-queued it) changes nothing.
   */
  Mono<Void> save(RunRecord run);

  /**
   * Saves the record as {@link #save(RunRecord)} does, with the last events of the run in the same write: kept only if
   * the record is (PostgreSQL: one statement, so a process that lost the run keeps neither). Stores that keep no events
   * take none.
   *
   * @throws UnsupportedOperationException when {@code events} is not empty and this store keeps no events
   */
  default Mono<Void> save(RunRecord run, List<PostgresEventStore.StoredEvent> events) {
    if (!events.isEmpty()) {
      throw new UnsupportedOperationException(getClass().getSimpleName() + " keeps no events");
    }
    return save(run);
  }

  /**
   * Saves the record and its last events as {@link #save(RunRecord, List)} does and, when {@code threadStatus} is
   * given (a run's end), sets its thread's status in the same write, only if the record is written (PostgreSQL: one
   * statement, under the record's compare-and-set; {@code busy} instead while other runs of the thread are queued).
   *
   * @throws UnsupportedOperationException when {@code threadStatus} is given and this store writes no threads
   */
  default Mono<Void> save(RunRecord run, List<PostgresEventStore.StoredEvent> events, @Nullable String threadStatus) {
    if (threadStatus != null) {
      throw new UnsupportedOperationException(getClass().getSimpleName() + " writes no thread status");
    }
    return save(run, events);
  }

  /** The run of that thread, or empty. */
  Mono<RunRecord> get(String threadId, String runId);

  /** The thread's runs with the status when given, newest first. */
  Flux<RunRecord> list(String threadId, @Nullable String status, int limit, int offset);

  /**
   * The runs whose status is one of {@code statuses}, of {@code threadId} or of every thread when null, oldest first
   * (for a bulk cancel).
   */
  Flux<RunRecord> withStatus(@Nullable String threadId, List<String> statuses);

  /** Deletes the run; emits whether it existed. */
  Mono<Boolean> delete(String threadId, String runId);

  /** Deletes the thread's runs (the thread is deleted). */
  Mono<Void> deleteThread(String threadId);

}
