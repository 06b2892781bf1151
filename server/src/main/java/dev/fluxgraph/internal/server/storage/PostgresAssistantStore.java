package dev.fluxgraph.internal.server.storage;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.postgres.GroupCommit;
import dev.fluxgraph.postgres.Schema;
import dev.fluxgraph.postgres.Sql;
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
import reactor.core.publisher.MonoSink;

/**
 * Assistants in PostgreSQL ({@code fluxgraph_assistants}, their versions in {@code fluxgraph_assistant_versions}),
 * shared by every process of the database. Each write is one statement: a create inserts the assistant and its first
 * version together; a patch numbers its version from the row it locks ({@code highest_version}), so concurrent
 * patches get distinct versions.
 */
public final class PostgresAssistantStore implements AssistantStore {

  /** Version 207, after the run events' 206: assistants and their versions. */
  static final List<Schema.Migration> MIGRATIONS = List.of(new Schema.Migration(207, "server assistants", List.of("""
      CREATE TABLE IF NOT EXISTS fluxgraph_assistants (
        assistant_id    text        PRIMARY KEY,
        graph_id        text        NOT NULL,
        config          jsonb       NOT NULL,
        context         jsonb       NOT NULL,
        metadata        jsonb       NOT NULL,
        name            text        NOT NULL,
        description     text,
        version         integer     NOT NULL,
        highest_version integer     NOT NULL,
        created_at      timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL
      )""", """
      CREATE TABLE IF NOT EXISTS fluxgraph_assistant_versions (
        assistant_id text        NOT NULL REFERENCES fluxgraph_assistants ON DELETE CASCADE,
        version      integer     NOT NULL,
        graph_id     text        NOT NULL,
        config       jsonb       NOT NULL,
        context      jsonb       NOT NULL,
        metadata     jsonb       NOT NULL,
        name         text        NOT NULL,
        description  text,
        created_at   timestamptz NOT NULL,
        PRIMARY KEY (assistant_id, version)
      )""")));

  private static final String COLUMNS = "assistant_id, graph_id, config::text AS config, context::text AS context,"
      + " metadata::text AS metadata, name, description, version, created_at, updated_at";
  private static final String VERSION_COLUMNS = "assistant_id, graph_id, config::text AS config,"
      + " context::text AS context, metadata::text AS metadata, name, description, version, created_at,"
      + " created_at AS updated_at";

  private final ConnectionFactory factory;
  private final GroupCommit<Read> reads = new GroupCommit<>(256, 2, this::readBatch);

  public PostgresAssistantStore(ConnectionFactory factory) {
    this.factory = factory;
  }

  public Mono<Void> setup() {
    return Schema.migrate(factory, MIGRATIONS);
  }

  /** The insert of an assistant and its first version, emitting the row; nothing when the id is taken. */
  private static final String INSERT = "WITH created AS (INSERT INTO fluxgraph_assistants (assistant_id, graph_id,"
      + " config, context, metadata, name, description, version, highest_version, created_at, updated_at)"
      + " VALUES ($1, $2, $3::jsonb, $4::jsonb, $5::jsonb, $6, $7, 1, 1, $8, $8) ON CONFLICT DO NOTHING RETURNING *),"
      + " first AS (INSERT INTO fluxgraph_assistant_versions (assistant_id, version, graph_id, config, context,"
      + " metadata, name, description, created_at) SELECT assistant_id, version, graph_id, config, context, metadata,"
      + " name, description, created_at FROM created)"
      + " SELECT " + COLUMNS + " FROM created";

  @Override
  public Mono<Void> registerSystem(List<AssistantRecord> assistants) {
    return Flux.fromIterable(assistants).concatMap(assistant -> insert(assistant).then()).then();
  }

  private Mono<AssistantRecord> insert(AssistantRecord assistant) {
    return query(INSERT, statement -> {
      statement.bind("$1", assistant.assistantId()).bind("$2", assistant.graphId())
          .bind("$3", StoredMetadata.json(assistant.config())).bind("$4", StoredMetadata.json(assistant.context()))
          .bind("$5", StoredMetadata.json(assistant.metadata())).bind("$6", assistant.name());
      text(statement, "$7", assistant.description());
      statement.bind("$8", OffsetDateTime.ofInstant(assistant.createdAt(), ZoneOffset.UTC));
    }).next();
  }

  @Override
  public Mono<AssistantRecord> create(AssistantRecord assistant, boolean returnExisting) {
    return insert(assistant).switchIfEmpty(Mono.defer(() -> returnExisting
        ? get(assistant.assistantId()) // taken: the existing one (or, deleted meanwhile, nothing: a 404)
        : Mono.error(new HttpProblem(409, "assistant " + assistant.assistantId() + " already exists"))));
  }

  /** Group-committed: every new run reads its assistant before its first event. */
  @Override
  public Mono<AssistantRecord> get(String assistantId) {
    return Mono.create(sink -> reads.submit(new Read(assistantId, sink)));
  }

  /** A queued {@link #get}. */
  private record Read(String assistantId, MonoSink<AssistantRecord> sink) implements GroupCommit.Request {
    @Override
    public void fail(Throwable error) {
      sink.error(error);
    }
  }

  /** One SELECT answers every read queued meanwhile; a read of an assistant that is not there gets nothing. */
  private Mono<Void> readBatch(List<Read> batch) {
    String[] ids = batch.stream().map(Read::assistantId).distinct().toArray(String[]::new);
    return query("SELECT " + COLUMNS + " FROM fluxgraph_assistants WHERE assistant_id = ANY($1)",
        statement -> statement.bind("$1", ids))
        .collectMap(AssistantRecord::assistantId)
        .doOnNext(found -> batch.forEach(read -> {
          AssistantRecord assistant = found.get(read.assistantId());
          if (assistant == null) {
            read.sink().success();
          } else {
            read.sink().success(assistant);
          }
        }))
        .doOnError(error -> batch.forEach(read -> read.fail(error)))
        .onErrorResume(error -> Mono.empty())
        .then();
  }

  @Override
  public Mono<AssistantRecord> patch(String assistantId, Patch patch, Instant at) {
    // the UPDATE locks the row and re-reads it, so the version comes from the latest committed highest_version
    String sql = "WITH patched AS (UPDATE fluxgraph_assistants a SET graph_id = coalesce($2, a.graph_id),"
        + " config = coalesce($3::jsonb, a.config), context = coalesce($4::jsonb, a.context),"
        + " metadata = a.metadata || coalesce($5::jsonb, '{}'::jsonb), name = coalesce($6, a.name),"
        + " description = coalesce($7, a.description), version = a.highest_version + 1,"
        + " highest_version = a.highest_version + 1, updated_at = $8 WHERE assistant_id = $1 RETURNING *),"
        + " added AS (INSERT INTO fluxgraph_assistant_versions (assistant_id, version, graph_id, config, context,"
        + " metadata, name, description, created_at) SELECT assistant_id, version, graph_id, config, context,"
        + " metadata, name, description, updated_at FROM patched)"
        + " SELECT " + COLUMNS + " FROM patched";
    return query(sql, statement -> {
      statement.bind("$1", assistantId);
      text(statement, "$2", patch.graphId());
      text(statement, "$3", patch.config() == null ? null : StoredMetadata.json(patch.config()));
      text(statement, "$4", patch.context() == null ? null : StoredMetadata.json(patch.context()));
      text(statement, "$5", patch.metadata() == null ? null : StoredMetadata.json(patch.metadata()));
      text(statement, "$6", patch.name());
      text(statement, "$7", patch.description());
      statement.bind("$8", OffsetDateTime.ofInstant(at, ZoneOffset.UTC));
    }).next();
  }

  @Override
  public Mono<Boolean> delete(String assistantId) {
    return Sql.update(factory, "DELETE FROM fluxgraph_assistants WHERE assistant_id = $1",
        statement -> statement.bind("$1", assistantId)).map(deleted -> deleted > 0);
  }

  @Override
  public Mono<AssistantRecord> setLatest(String assistantId, int version, Instant at) {
    String sql = "UPDATE fluxgraph_assistants a SET graph_id = v.graph_id, config = v.config, context = v.context,"
        + " metadata = v.metadata, name = v.name, description = v.description, version = v.version,"
        + " updated_at = $3 FROM fluxgraph_assistant_versions v"
        + " WHERE a.assistant_id = $1 AND v.assistant_id = a.assistant_id AND v.version = $2"
        + " RETURNING a.assistant_id, a.graph_id, a.config::text AS config, a.context::text AS context,"
        + " a.metadata::text AS metadata, a.name, a.description, a.version, a.created_at, a.updated_at";
    return query(sql, statement -> statement.bind("$1", assistantId).bind("$2", version)
            .bind("$3", OffsetDateTime.ofInstant(at, ZoneOffset.UTC))).next()
        .switchIfEmpty(Mono.defer(() -> get(assistantId).flatMap(exists -> Mono.error(
            HttpProblem.notFound("version " + version + " of assistant " + assistantId)))));
  }

  @Override
  public Flux<AssistantRecord> versions(String assistantId, Map<String, Object> metadata, int limit, int offset) {
    return query("SELECT " + VERSION_COLUMNS + " FROM fluxgraph_assistant_versions WHERE assistant_id = $1"
            + " AND metadata @> $2::jsonb ORDER BY version DESC LIMIT " + Math.max(0, limit) + " OFFSET "
            + Math.max(0, offset),
        statement -> statement.bind("$1", assistantId).bind("$2", StoredMetadata.json(metadata)));
  }

  @Override
  public Flux<AssistantRecord> search(Filter filter, String sortBy, boolean ascending, int limit, int offset) {
    if (!SORT_FIELDS.contains(sortBy)) { // a column name goes into the statement: only the known ones
      return Flux.error(new IllegalArgumentException("sort_by must be one of " + SORT_FIELDS + ", was '" + sortBy
          + "'"));
    }
    List<Object> parameters = new ArrayList<>();
    String where = where(filter, parameters);
    String direction = ascending ? " ASC" : " DESC";
    String sql = "SELECT " + COLUMNS + " FROM fluxgraph_assistants" + where + " ORDER BY " + sortBy + direction
        + ", assistant_id" + direction + " LIMIT " + Math.max(0, limit) + " OFFSET " + Math.max(0, offset);
    return query(sql, statement -> bindAll(statement, parameters));
  }

  @Override
  public Mono<Long> count(Filter filter) {
    List<Object> parameters = new ArrayList<>();
    String sql = "SELECT count(*) FROM fluxgraph_assistants" + where(filter, parameters);
    return Sql.query(factory, sql, statement -> bindAll(statement, parameters),
        row -> row.get(0, Long.class)).next();
  }

  private static String where(Filter filter, List<Object> parameters) {
    parameters.add(StoredMetadata.json(filter.metadata()));
    StringBuilder where = new StringBuilder(" WHERE metadata @> $1::jsonb");
    if (filter.graphId() != null) {
      parameters.add(filter.graphId());
      where.append(" AND graph_id = $").append(parameters.size());
    }
    if (filter.name() != null) {
      parameters.add(filter.name());
      where.append(" AND strpos(lower(name), lower($").append(parameters.size()).append(")) > 0");
    }
    return where.toString();
  }

  private static void bindAll(Statement statement, List<Object> parameters) {
    for (int i = 0; i < parameters.size(); i++) {
      statement.bind("$" + (i + 1), parameters.get(i));
    }
  }

  private static void text(Statement statement, String name, @Nullable String value) {
    if (value == null) {
      statement.bindNull(name, String.class);
    } else {
      statement.bind(name, value);
    }
  }

  private Flux<AssistantRecord> query(String sql, Consumer<Statement> binder) {
    return Sql.query(factory, sql, binder, PostgresAssistantStore::record);
  }

  private static AssistantRecord record(Readable row) {
    try {
      return new AssistantRecord(row.get("assistant_id", String.class), row.get("graph_id", String.class),
          StoredMetadata.parse(row.get("config", String.class)), StoredMetadata.parse(row.get("context", String.class)),
          StoredMetadata.parse(row.get("metadata", String.class)), row.get("name", String.class),
          row.get("description", String.class), row.get("version", Integer.class),
          row.get("created_at", OffsetDateTime.class).toInstant(),
          row.get("updated_at", OffsetDateTime.class).toInstant());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("an assistant's stored JSON does not parse", e);
    }
  }
}
