package dev.fluxgraph.internal.server.storage;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Where the server keeps its crons (runs recurring on a schedule), in memory or in PostgreSQL. A cron is due once its
 * {@code nextRunAt} has passed; {@link #fire} advances it as a compare-and-set on the {@code nextRunAt} it was read
 * with, so each tick fires once however many processes see it due. In PostgreSQL the same statement records the
 * tick's run in the run queue ({@link #recordsRuns()}), where any process claims it.
 */
public interface CronStore {

  /**
   * A cron: the run request ({@code payload}, a run-create body with its {@code assistant_id}) it starts on
   * {@code schedule} (UTC), on its thread or, without one, on a new thread each time ({@code onRunCompleted}: whether
   * that thread is deleted or kept after the run). {@code nextRunAt} is null once the schedule passed {@code endTime}.
   */
  record CronRecord(String cronId, String assistantId, @Nullable String threadId, String schedule, JsonNode payload,
                    Map<String, Object> metadata, @Nullable Instant endTime, @Nullable Instant nextRunAt,
                    @Nullable String onRunCompleted, boolean enabled, Instant createdAt, Instant updatedAt) {

    public CronRecord {
      metadata = Map.copyOf(metadata);
    }
  }

  /** The criteria of a search or count: each null criterion matches every cron. */
  record Query(@Nullable String assistantId, @Nullable String threadId, @Nullable Boolean enabled) {
  }

  /**
   * A tick's run as the run queue records it: on {@code threadId}, its request ({@code {"body", "stateless"}}) what a
   * claiming process parses and executes.
   */
  record TickRun(String runId, String threadId, String assistantId, Map<String, Object> metadata,
                 String multitaskStrategy, JsonNode request) {
  }

  Mono<Void> create(CronRecord cron);

  /** The cron, or empty. */
  Mono<CronRecord> get(String cronId);

  /**
   * The crons matching {@code query}, ordered by {@code sortBy} (one of cron_id, assistant_id, thread_id, created_at,
   * updated_at, next_run_date) {@code ascending} or not, then by id; paged.
   */
  Flux<CronRecord> search(Query query, String sortBy, boolean ascending, int limit, int offset);

  Mono<Long> count(Query query);

  /** Replaces the cron's fields (its id and creation time stay); emits the stored cron, or empty when absent. */
  Mono<CronRecord> update(CronRecord cron);

  /** Deletes the cron; emits whether it existed. */
  Mono<Boolean> delete(String cronId);

  /** Deletes the thread's crons (the thread is deleted). */
  Mono<Void> deleteThread(String threadId);

  /** Enabled crons whose next run is at or before {@code now}, the most overdue first, at most {@code limit}. */
  Flux<CronRecord> due(Instant now, int limit);

  /**
   * Fires the due cron's tick: moves its next run from {@code due.nextRunAt()} to {@code next} (null: no more runs),
   * only if nobody did it first and the cron is still enabled; in PostgreSQL records {@code run} in the run queue in
   * the same statement ({@code run} null: the tick is skipped). Emits whether this call fired the tick.
   */
  Mono<Boolean> fire(CronRecord due, @Nullable Instant next, @Nullable TickRun run);

  /** Whether {@link #fire} records the tick's run itself (PostgreSQL); else the caller starts it. */
  boolean recordsRuns();
}
