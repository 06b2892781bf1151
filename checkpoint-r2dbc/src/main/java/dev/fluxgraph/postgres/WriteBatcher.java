package dev.fluxgraph.postgres;

import dev.fluxgraph.checkpoint.Checkpoint;
import dev.fluxgraph.checkpoint.PendingWrite;
import dev.fluxgraph.internal.Json;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.R2dbcDataIntegrityViolationException;
import io.r2dbc.spi.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.util.retry.Retry;

/**
 * Group commit for checkpoints and task writes. Requests from any number of concurrent runs queue up; at most
 * {@code maxConcurrent} batches are in flight, and each takes everything queued so far (up to {@code maxBatch}
 * requests) into one statement of two multi-row {@code INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING}. So
 * an idle saver writes at once and a busy one coalesces many runs' writes into few round trips, without a timer.
 * A request's {@code Mono} completes when its batch has been committed. Inserts are write-once, so a batch that
 * failed on a lost connection is simply sent again.
 */
final class WriteBatcher {

  /**
   * Both inserts in one statement, so a batch costs one round trip and one commit: checkpoints ($1-$7) and writes
   * ($8-$14, kept in their order). The writes' foreign key is checked at the statement's end, when the checkpoints of
   * the same statement are there. Either side may be empty; the text is the same for every batch.
   */
  private static final String INSERT = """
      WITH checkpoints AS (
        INSERT INTO fluxgraph_checkpoints
          (thread_id, checkpoint_ns, checkpoint_id, parent_id, created_at, metadata, channel_values)
        SELECT t, n, i, p, c, m::jsonb, v::jsonb
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[])
          AS batch(t, n, i, p, c, m, v)
        ON CONFLICT DO NOTHING
      ), writes AS (
        INSERT INTO fluxgraph_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, channel, task_name, value)
        SELECT t, n, i, k, c, a, v::jsonb
        FROM unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])
          WITH ORDINALITY AS batch(t, n, i, k, c, a, v, o)
        ORDER BY o
        ON CONFLICT DO NOTHING
      )
      SELECT 1""";

  private static final String FOREIGN_KEY_VIOLATION = "23503";

  private final ConnectionFactory factory;
  private final GroupCommit<Request> batches;

  WriteBatcher(ConnectionFactory factory, int maxBatch, int maxConcurrent) {
    this.factory = factory;
    this.batches = new GroupCommit<>(maxBatch, maxConcurrent, this::execute);
  }

  /** Saves a checkpoint in the next batch. */
  Mono<Void> put(Checkpoint checkpoint) {
    return submit(new Request(checkpoint, null, null, List.of()));
  }

  /** Saves writes against a checkpoint in the next batch. */
  Mono<Void> putWrites(String threadId, String namespace, String checkpointId, List<PendingWrite> writes) {
    if (writes.isEmpty()) {
      return Mono.empty();
    }
    return submit(new Request(null, threadId + '\u0000' + namespace, checkpointId, List.copyOf(writes)));
  }

  private Mono<Void> submit(Request request) {
    return Mono.create(sink -> {
      request.sink = sink;
      batches.submit(request);
    });
  }

  /**
   * The batch's one statement, completing its requests; a foreign-key failure (a write against a checkpoint that is
   * not saved) rolls the statement back, and the batch is sent again as its checkpoints, then each request of writes
   * alone, to fail only the culprit.
   */
  private Mono<Void> execute(List<Request> batch) {
    List<Request> checkpoints = batch.stream().filter(r -> r.checkpoint != null).toList();
    List<Request> writes = batch.stream().filter(r -> r.checkpoint == null).toList();
    return insert(checkpoints, writes)
        .doOnSuccess(done -> batch.forEach(Request::succeed))
        .onErrorResume(error -> isForeignKeyViolation(error) && writes.size() + checkpoints.size() > 1,
            error -> isolate(checkpoints, writes));
  }

  private Mono<Void> isolate(List<Request> checkpoints, List<Request> writes) {
    return insert(checkpoints, List.of())
        .doOnSuccess(done -> checkpoints.forEach(Request::succeed))
        .doOnError(error -> checkpoints.forEach(request -> request.fail(error)))
        .onErrorResume(error -> Mono.empty())
        .thenMany(Flux.fromIterable(writes).concatMap(request -> insert(List.of(), List.of(request))
            .doOnSuccess(done -> request.succeed())
            .onErrorResume(error -> {
              request.fail(error);
              return Mono.empty();
            })))
        .then();
  }

  /** One statement for the checkpoints and the writes; sent again when it failed on a lost connection. */
  private Mono<Void> insert(List<Request> checkpoints, List<Request> writes) {
    return Mono.usingWhen(factory.create(), connection -> {
          Statement statement = connection.createStatement(INSERT);
          bindCheckpoints(statement, checkpoints);
          bindWrites(statement, writes);
          return Flux.from(statement.execute()).flatMap(result -> result.getRowsUpdated()).then();
        }, Connection::close)
        .retryWhen(Retry.backoff(3, Duration.ofMillis(20)).filter(Sql::isTransient));
  }

  private static void bindCheckpoints(Statement statement, List<Request> requests) {
    int size = requests.size();
    String[] threads = new String[size];
    String[] namespaces = new String[size];
    String[] ids = new String[size];
    String[] parents = new String[size];
    OffsetDateTime[] created = new OffsetDateTime[size];
    String[] metadata = new String[size];
    String[] values = new String[size];
    for (int i = 0; i < size; i++) {
      Checkpoint checkpoint = requests.get(i).checkpoint;
      threads[i] = checkpoint.threadId();
      namespaces[i] = checkpoint.namespace();
      ids[i] = checkpoint.id();
      parents[i] = checkpoint.parentId();
      created[i] = checkpoint.createdAt().atOffset(ZoneOffset.UTC);
      metadata[i] = PostgresJson.write(checkpoint.metadata());
      values[i] = PostgresJson.write(checkpoint.values());
    }
    statement.bind("$1", threads).bind("$2", namespaces).bind("$3", ids).bind("$4", parents).bind("$5", created)
        .bind("$6", metadata).bind("$7", values);
  }

  private static void bindWrites(Statement statement, List<Request> requests) {
    List<String[]> rows = new ArrayList<>();
    for (Request request : requests) {
      int separator = request.threadAndNamespace.indexOf('\u0000');
      String thread = request.threadAndNamespace.substring(0, separator);
      String namespace = request.threadAndNamespace.substring(separator + 1);
      for (PendingWrite write : request.writes) {
        rows.add(new String[] {thread, namespace, request.checkpointId, write.taskId(), write.channel(),
            write.taskName(), Json.mapper().valueToTree(write.value()).toString()});
      }
    }
    for (int column = 0; column < 7; column++) {
      String[] values = new String[rows.size()];
      for (int row = 0; row < values.length; row++) {
        values[row] = rows.get(row)[column];
      }
      statement.bind("$" + (column + 8), values);
    }
  }

  private static boolean isForeignKeyViolation(Throwable error) {
    return error instanceof R2dbcDataIntegrityViolationException violation
        && FOREIGN_KEY_VIOLATION.equals(violation.getSqlState());
  }

  /** One queued request: a checkpoint, or the writes of one checkpoint. */
  private static final class Request implements GroupCommit.Request {
    final @Nullable Checkpoint checkpoint;
    final @Nullable String threadAndNamespace;
    final @Nullable String checkpointId;
    final List<PendingWrite> writes;
    @Nullable MonoSink<Void> sink;

    Request(@Nullable Checkpoint checkpoint, @Nullable String threadAndNamespace, @Nullable String checkpointId,
            List<PendingWrite> writes) {
      this.checkpoint = checkpoint;
      this.threadAndNamespace = threadAndNamespace;
      this.checkpointId = checkpointId;
      this.writes = writes;
    }

    void succeed() {
      sink.success();
    }

    @Override
    public void fail(Throwable error) {
      if (checkpoint == null && isForeignKeyViolation(error)) {
        String thread = threadAndNamespace.substring(0, threadAndNamespace.indexOf('\u0000'));
        sink.error(new IllegalArgumentException("checkpoint " + checkpointId + " does not exist on thread '"
            + thread + "'; save it before its writes", error));
      } else {
        sink.error(error);
      }
    }
  }
}
