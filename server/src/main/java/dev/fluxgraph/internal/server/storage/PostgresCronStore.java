package dev.fluxgraph.internal.server.storage;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.postgres.Schema;
import dev.fluxgraph.postgres.Sql;
import dev.fluxgraph.types.FluxgraphJson;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Crons in PostgreSQL ({@code fluxgraph_crons}), shared by every server process of the database. A tick fires in one
 * statement ({@link #fire}): the cron row is locked {@code FOR UPDATE SKIP LOCKED} only while its next run is still
 * the one that was due, moved to the next one, and the tick's run inserted {@code pending} into the run queue
 * ({@code fluxgraph_runs}) and announced {@code queued}; a process racing for the same tick finds the row locked or
 * moved and fires nothing. So a tick runs once across processes, and is never lost to a crash between the two
 * writes: there are not two.
 */
public final class PostgresCronStore implements CronStore {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();

  /** Version 208 (207 is the assistants'): after the run queue's 204, whose table a tick's run goes to. */
  static final List<Schema.Migration> MIGRATIONS = List.of(new Schema.Migration(208, "server crons", List.of("""
      CREATE TABLE IF NOT EXISTS fluxgraph_crons (
        cron_id          text        PRIMARY KEY,
        assistant_id     text        NOT NULL,
        thread_id        text,
        schedule         text        NOT NULL,
        payload          jsonb       NOT NULL,
        metadata         jsonb       NOT NULL,
        end_time         timestamptz,
        next_run_at      timestamptz,
        on_run_completed text,
        enabled          boolean     NOT NULL,
        created_at       timestamptz NOT NULL,
        updated_at       timestamptz NOT NULL
      )""",
      "CREATE INDEX IF NOT EXISTS fluxgraph_crons_due ON fluxgraph_crons (next_run_at) WHERE enabled",
      "CREATE INDEX IF NOT EXISTS fluxgraph_crons_by_thread ON fluxgraph_crons (thread_id)")));

  private static final String COLUMNS = "cron_id, assistant_id, thread_id, schedule, payload::text AS payload,"
      + " metadata::text AS metadata, end_time, next_run_at, on_run_completed, enabled, created_at, updated_at";

  /**
   * $1 cron, $2 the next run that was due, $3 the one after ($3 null: none), then the run: $4 id, $5 thread,
   * $6 assistant, $7 metadata, $8 multitask strategy, $9 request (all null: the tick is skipped). A tick on a busy
   * thread under
   * {@code multitask_strategy: reject} is skipped (the cron still moves on), as a run would be refused.
   */
  private static final String FIRE = """
      WITH due AS (
        SELECT cron_id FROM fluxgraph_crons WHERE cron_id = $1 AND next_run_at = $2 AND enabled
           FOR UPDATE SKIP LOCKED
      ), advanced AS (
        UPDATE fluxgraph_crons c SET next_run_at = $3 FROM due WHERE c.cron_id = due.cron_id RETURNING c.cron_id
      ), recorded AS (
        INSERT INTO fluxgraph_runs (run_id, thread_id, assistant_id, created_at, updated_at, status, metadata,
                                    multitask_strategy, owner, attempt, request, available_at)
        SELECT $4, $5, $6, now(), now(), 'pending', $7::jsonb, $8, NULL, 1, $9::jsonb, now() FROM advanced
         WHERE $4::text IS NOT NULL
           AND ($8::text <> 'reject' OR NOT EXISTS (SELECT 1 FROM fluxgraph_runs r WHERE r.thread_id = $5::text
                                                      AND r.status IN ('pending', 'running')))
        RETURNING run_id
      )
      SELECT (SELECT count(*) FROM advanced) AS fired,
             (SELECT count(*) FROM (SELECT pg_notify('fluxgraph_runs', 'queued')
                                     WHERE EXISTS (SELECT 1 FROM recorded)) q) AS signalled""";

  private final ConnectionFactory factory;

  public PostgresCronStore(ConnectionFactory factory) {
    this.factory = factory;
  }

  public Mono<Void> setup() {
    return Schema.migrate(factory, MIGRATIONS);
  }

  @Override
  public Mono<Void> create(CronRecord cron) {
    return Sql.update(factory, "INSERT INTO fluxgraph_crons (cron_id, assistant_id, thread_id, schedule, payload,"
        + " metadata, end_time, next_run_at, on_run_completed, enabled, created_at, updated_at)"
        + " VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9, $10, $11, $12)", statement -> bind(statement, cron))
        .then();
  }

  private static void bind(Statement statement, CronRecord cron) {
    bindFields(statement, cron);
    statement.bind("$11", time(cron.createdAt())).bind("$12", time(cron.updatedAt()));
  }

  /** $1 to $10: the id and the fields an update may change. */
  private static void bindFields(Statement statement, CronRecord cron) {
    statement.bind("$1", cron.cronId()).bind("$2", cron.assistantId());
    bindNullable(statement, "$3", cron.threadId(), String.class);
    statement.bind("$4", cron.schedule()).bind("$5", cron.payload().toString())
        .bind("$6", StoredMetadata.json(cron.metadata()));
    bindNullable(statement, "$7", time(cron.endTime()), OffsetDateTime.class);
    bindNullable(statement, "$8", time(cron.nextRunAt()), OffsetDateTime.class);
    bindNullable(statement, "$9", cron.onRunCompleted(), String.class);
    statement.bind("$10", cron.enabled());
  }

  @Override
  public Mono<CronRecord> get(String cronId) {
    return query("SELECT " + COLUMNS + " FROM fluxgraph_crons WHERE cron_id = $1",
        statement -> statement.bind("$1", cronId)).next();
  }

  @Override
  public Flux<CronRecord> search(Query query, String sortBy, boolean ascending, int limit, int offset) {
    String column = switch (sortBy) {
      case "cron_id", "assistant_id", "thread_id", "updated_at" -> sortBy;
      case "next_run_date" -> "next_run_at";
      default -> "created_at";
    };
    List<Object> parameters = new ArrayList<>();
    String where = where(query, parameters);
    return query("SELECT " + COLUMNS + " FROM fluxgraph_crons" + where + " ORDER BY " + column
        + (ascending ? " ASC" : " DESC") + " NULLS LAST, cron_id LIMIT " + limit + " OFFSET " + offset,
        statement -> bindAll(statement, parameters));
  }

  @Override
  public Mono<Long> count(Query query) {
    List<Object> parameters = new ArrayList<>();
    String where = where(query, parameters);
    return Sql.query(factory, "SELECT count(*) AS n FROM fluxgraph_crons" + where,
        statement -> bindAll(statement, parameters), row -> row.get("n", Long.class)).next();
  }

  private static String where(Query query, List<Object> parameters) {
    List<String> conditions = new ArrayList<>();
    if (query.assistantId() != null) {
      parameters.add(query.assistantId());
      conditions.add("assistant_id = $" + parameters.size());
    }
    if (query.threadId() != null) {
      parameters.add(query.threadId());
      conditions.add("thread_id = $" + parameters.size());
    }
    if (query.enabled() != null) {
      parameters.add(query.enabled());
      conditions.add("enabled = $" + parameters.size());
    }
    return conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions);
  }

  @Override
  public Mono<CronRecord> update(CronRecord cron) {
    return query("UPDATE fluxgraph_crons SET assistant_id = $2, thread_id = $3, schedule = $4, payload = $5::jsonb,"
        + " metadata = $6::jsonb, end_time = $7, next_run_at = $8, on_run_completed = $9, enabled = $10,"
        + " updated_at = $11 WHERE cron_id = $1 RETURNING " + COLUMNS, statement -> {
          bindFields(statement, cron);
          statement.bind("$11", time(cron.updatedAt()));
        }).next();
  }

  @Override
  public Mono<Boolean> delete(String cronId) {
    return Sql.update(factory, "DELETE FROM fluxgraph_crons WHERE cron_id = $1",
        statement -> statement.bind("$1", cronId)).map(deleted -> deleted > 0);
  }

  @Override
  public Mono<Void> deleteThread(String threadId) {
    return Sql.update(factory, "DELETE FROM fluxgraph_crons WHERE thread_id = $1",
        statement -> statement.bind("$1", threadId)).then();
  }

  @Override
  public Flux<CronRecord> due(Instant now, int limit) {
    return query("SELECT " + COLUMNS + " FROM fluxgraph_crons WHERE enabled AND next_run_at <= $1"
        + " ORDER BY next_run_at LIMIT " + limit, statement -> statement.bind("$1", time(now)));
  }

  @Override
  public Mono<Boolean> fire(CronRecord due, @Nullable Instant next, @Nullable TickRun run) {
    return Sql.query(factory, FIRE, statement -> {
      statement.bind("$1", due.cronId()).bind("$2", time(due.nextRunAt()));
      bindNullable(statement, "$3", time(next), OffsetDateTime.class);
      if (run == null) {
        for (String name : List.of("$4", "$5", "$6", "$7", "$8", "$9")) {
          statement.bindNull(name, String.class);
        }
      } else {
        statement.bind("$4", run.runId()).bind("$5", run.threadId()).bind("$6", run.assistantId())
            .bind("$7", StoredMetadata.json(run.metadata())).bind("$8", run.multitaskStrategy())
            .bind("$9", run.request().toString());
      }
    }, row -> row.get("fired", Long.class)).next().map(fired -> fired > 0);
  }

  @Override
  public boolean recordsRuns() {
    return true;
  }

  private Flux<CronRecord> query(String sql, Consumer<Statement> binder) {
    return Sql.query(factory, sql, binder, PostgresCronStore::cron);
  }

  private static CronRecord cron(Readable row) {
    try {
      JsonNode payload = JSON.readTree(row.get("payload", String.class));
      Map<String, Object> metadata = StoredMetadata.parse(row.get("metadata", String.class));
      return new CronRecord(row.get("cron_id", String.class), row.get("assistant_id", String.class),
          row.get("thread_id", String.class), row.get("schedule", String.class), payload, metadata,
          instant(row.get("end_time", OffsetDateTime.class)), instant(row.get("next_run_at", OffsetDateTime.class)),
          row.get("on_run_completed", String.class), Boolean.TRUE.equals(row.get("enabled", Boolean.class)),
          row.get("created_at", OffsetDateTime.class).toInstant(),
          row.get("updated_at", OffsetDateTime.class).toInstant());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cron " + row.get("cron_id", String.class) + " has unreadable JSON", e);
    }
  }

  private static <T> void bindNullable(Statement statement, String name, @Nullable T value, Class<T> type) {
    if (value == null) {
      statement.bindNull(name, type);
    } else {
      statement.bind(name, value);
    }
  }

  private static void bindAll(Statement statement, List<Object> parameters) {
    for (int i = 0; i < parameters.size(); i++) {
      statement.bind("$" + (i + 1), parameters.get(i));
    }
  }

  private static @Nullable OffsetDateTime time(@Nullable Instant instant) {
    return instant == null ? null : OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
  }

  private static @Nullable Instant instant(@Nullable OffsetDateTime time) {
    return time == null ? null : time.toInstant();
  }
}
