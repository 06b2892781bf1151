package dev.fluxgraph.postgres;

import io.r2dbc.spi.ConnectionFactory;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * Deletes the rows of one table that have a key, group-committed: one {@code DELETE … WHERE key = ANY($1)} carries
 * every deletion queued meanwhile (see {@link GroupCommit}), so that many concurrent deletions (the thread of every
 * stateless run, for instance) cost a few statements instead of one each.
 *
 * Used by the saver's {@code deleteThread} and by the server's thread and run stores.
 */
public final class KeyedDelete {

  private final ConnectionFactory factory;
  private final String sql;
  private final String keyColumn;
  private final GroupCommit<Request> batches = new GroupCommit<>(256, 2, this::execute);

  /**
   * @param table     the table whose rows are deleted
   * @param keyColumn a text column; every row with the key is deleted
   */
  public KeyedDelete(ConnectionFactory factory, String table, String keyColumn) {
    this.factory = Objects.requireNonNull(factory, "factory must not be null");
    this.keyColumn = Objects.requireNonNull(keyColumn, "keyColumn must not be null");
    this.sql = "DELETE FROM " + Objects.requireNonNull(table, "table must not be null") + " WHERE " + keyColumn
        + " = ANY($1) RETURNING " + keyColumn;
  }

  /** Deletes the rows with the key; emits whether there were any. */
  public Mono<Boolean> delete(String key) {
    Objects.requireNonNull(key, "key must not be null");
    return Mono.create(sink -> batches.submit(new Request(key, sink)));
  }

  private record Request(String key, MonoSink<Boolean> sink) implements GroupCommit.Request {
    @Override
    public void fail(Throwable error) {
      sink.error(error);
    }
  }

  private Mono<Void> execute(List<Request> batch) {
    Set<String> keys = new HashSet<>();
    batch.forEach(request -> keys.add(request.key()));
    return Sql.query(factory, sql, statement -> statement.bind("$1", keys.toArray(new String[0])),
            row -> row.get(keyColumn, String.class))
        .collect(HashSet<String>::new, Set::add)
        .doOnNext(deleted -> batch.forEach(request -> request.sink().success(deleted.contains(request.key()))))
        .onErrorResume(error -> {
          batch.forEach(request -> request.sink().error(error));
          return Mono.empty();
        })
        .then();
  }
}
