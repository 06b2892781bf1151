package dev.fluxgraph.internal.server.storage;

import dev.fluxgraph.postgres.GroupCommit;
import dev.fluxgraph.postgres.KeyedDelete;
import dev.fluxgraph.postgres.Schema;
import dev.fluxgraph.postgres.Sql;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Readable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * A run's SSE events in PostgreSQL ({@code fluxgraph_run_events}), so that a join from another server process, or
 * after a restart, reads what the run emitted. Every method is cold: nothing happens until subscription, and
 * cancelling releases the connection it holds.
 *
 * <p>Events of one run are written in the order {@link #append} is subscribed: one insert is in flight at a time,
 * carrying everything queued meanwhile, so a later batch never commits before an earlier one. A reader that
 * nevertheless finds a gap (an earlier event's insert failed and is being retried) holds back at it while following,
 * see {@link #follow}.
 */
public final class PostgresEventStore {

  /**
   * Version 205: table fluxgraph_run_events (run_id text, thread_id text, seq bigint, name text, data text,
   * created_at timestamptz default now(), PRIMARY KEY (run_id, seq)), index for deletes by thread; version 206: index
   * by age (BRIN: rows come in time order, and it costs next to nothing per insert), for {@link #deleteExpired}.
   */
  static final List<Schema.Migration> MIGRATIONS = List.of(new Schema.Migration(205, "server run events", List.of("""
      CREATE TABLE IF NOT EXISTS fluxgraph_run_events (
        run_id     text        NOT NULL,
        thread_id  text        NOT NULL,
        seq        bigint      NOT NULL,
        name       text        NOT NULL,
        data       text        NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, seq)
      )""", "CREATE INDEX IF NOT EXISTS fluxgraph_run_events_by_thread ON fluxgraph_run_events (thread_id)")),
      new Schema.Migration(206, "server run events by age", List.of(
          "CREATE INDEX IF NOT EXISTS fluxgraph_run_events_by_age ON fluxgraph_run_events USING brin (created_at)")));

  /** Rows per insert statement (a batch of more is split into consecutive statements). */
  static final int MAX_ROWS = 1000;
  /** Characters of name and data per insert statement, so that a batch of large events is split (~8 MB). */
  static final long MAX_CHARS = 4L << 20;
  /** Rows per page read by {@link #after}. */
  static final int PAGE = 500;
  /**
   * How long a gap must have been there, by the database's clock, before a follower skips it: the event after the gap
   * was committed this long ago, so the one missing was lost (its append failed and was not retried).
   */
  static final Duration GAP_GRACE = Duration.ofSeconds(10);

  private static final String PAGE_SQL = "SELECT seq, name, data, created_at < now() - $3 * interval '1 millisecond'"
      + " AS settled FROM fluxgraph_run_events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $4";

  /**
   * The events of runs that ended more than the retention ($1 ms) ago, and of runs without a row whose newest event
   * is older than the retention too (a run's events may be appended before its record is saved). Only runs with an
   * event older than the retention are looked at (index by age, version 206), so a pass costs what it deletes, not
   * the size of the table.
   */
  private static final String DELETE_EXPIRED = """
      WITH cutoff AS (SELECT now() - $1 * interval '1 millisecond' AS at)
      DELETE FROM fluxgraph_run_events e USING cutoff
       WHERE e.run_id IN (SELECT DISTINCT x.run_id FROM fluxgraph_run_events x, cutoff WHERE x.created_at < cutoff.at)
         AND NOT EXISTS (SELECT 1 FROM fluxgraph_runs r WHERE r.run_id = e.run_id
                          AND (r.status IN ('pending', 'running') OR r.updated_at >= cutoff.at))
         AND (EXISTS (SELECT 1 FROM fluxgraph_runs r WHERE r.run_id = e.run_id)
              OR NOT EXISTS (SELECT 1 FROM fluxgraph_run_events y WHERE y.run_id = e.run_id
                              AND y.created_at >= cutoff.at))""";

  /**
   * The batch's events as arrays ($1-$5: run, thread, seq, name, data; one statement text whatever the batch's size),
   * a stored (run, seq) left alone (duplicates inside one statement too: DO NOTHING, unlike DO UPDATE, allows them),
   * and one signal per run of the statement for its followers in other processes (delivered on commit).
   */
  private static final String INSERT = "WITH kept AS (INSERT INTO fluxgraph_run_events (run_id, thread_id, seq, name,"
      + " data) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[])"
      + " ON CONFLICT (run_id, seq) DO NOTHING RETURNING run_id) SELECT "
      + PostgresRunQueue.signalEach("events", "SELECT DISTINCT run_id FROM kept") + " AS sent, " + Sql.UNFLUSHED
      + " AS unflushed";

  private final ConnectionFactory factory;
  private final int pageSize;
  /** One insert at a time, so that a run's events commit in the order they were appended (see the class doc). */
  private final GroupCommit<Append> appends = new GroupCommit<>(4 * MAX_ROWS, 1, this::insert);
  private final KeyedDelete threadDeletes;
  private final KeyedDelete runDeletes;

  public PostgresEventStore(ConnectionFactory factory) {
    this(factory, PAGE);
  }

  /** With a page size for {@link #after} (tests). */
  PostgresEventStore(ConnectionFactory factory, int pageSize) {
    this.factory = Objects.requireNonNull(factory, "factory must not be null");
    if (pageSize < 1) {
      throw new IllegalArgumentException("pageSize must be positive, was " + pageSize);
    }
    this.pageSize = pageSize;
    this.threadDeletes = new KeyedDelete(factory, "fluxgraph_run_events", "thread_id");
    this.runDeletes = new KeyedDelete(factory, "fluxgraph_run_events", "run_id");
  }

  /** Applies {@link #MIGRATIONS} (tests; the server applies them with the rest). */
  public Mono<Void> setup() {
    return Schema.migrate(factory, MIGRATIONS);
  }

  /**
   * A run's event: seq counts up from 0 per run; name e.g. "values", "updates|sub:1", "metadata", "error"; data
   * compact JSON.
   *
   * @throws IllegalArgumentException when seq is negative, or name or data holds a NUL character (PostgreSQL's text
   *                                  refuses it, and the whole batch would fail)
   */
  public record StoredEvent(long seq, String name, String data) {
    public StoredEvent {
      if (seq < 0) {
        throw new IllegalArgumentException("seq must not be negative, was " + seq);
      }
      requireText(name, "name");
      requireText(data, "data");
    }
  }

  /** A queued append. */
  private record Append(String runId, String threadId, StoredEvent event, MonoSink<Void> sink)
      implements GroupCommit.Request {
    @Override
    public void fail(Throwable error) {
      sink.error(error);
    }

    long chars() {
      return event.name().length() + event.data().length();
    }
  }

  /**
   * Appends, group-committed: many concurrent runs' events go out as one multi-row insert (split at {@link #MAX_ROWS}
   * rows or {@link #MAX_CHARS} characters); an event already stored (same run and seq) is ignored, so a retry is
   * harmless. Completes once committed; fails with the database's error when the insert does. Cancelling does not
   * withdraw an event already queued.
   */
  public Mono<Void> append(String runId, String threadId, StoredEvent event) {
    requireText(runId, "runId");
    requireText(threadId, "threadId");
    Objects.requireNonNull(event, "event must not be null");
    return Mono.create(sink -> appends.submit(new Append(runId, threadId, event, sink)));
  }

  /** The batch as consecutive statements, in order, each completing its own appends. */
  private Mono<Void> insert(List<Append> batch) {
    List<List<Append>> statements = new ArrayList<>();
    List<Append> current = new ArrayList<>();
    long chars = 0;
    for (Append append : batch) {
      if (!current.isEmpty() && (current.size() == MAX_ROWS || chars + append.chars() > MAX_CHARS)) {
        statements.add(current);
        current = new ArrayList<>();
        chars = 0;
      }
      current.add(append);
      chars += append.chars();
    }
    statements.add(current);
    return Flux.fromIterable(statements).concatMap(this::insertStatement).then();
  }

  private Mono<Void> insertStatement(List<Append> rows) {
    String[] runs = new String[rows.size()];
    String[] threads = new String[rows.size()];
    Long[] seqs = new Long[rows.size()];
    String[] names = new String[rows.size()];
    String[] data = new String[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      Append row = rows.get(i);
      runs[i] = row.runId();
      threads[i] = row.threadId();
      seqs[i] = row.event().seq();
      names[i] = row.event().name();
      data[i] = row.event().data();
    }
    // not flushed at its own commit (Sql.UNFLUSHED): the run's final status, saved after its events, is an ordinary
    // commit whose flush covers them (a database crash before it may lose the newest events of a run not ended yet)
    return Sql.query(factory, INSERT, statement -> statement.bind("$1", runs).bind("$2", threads)
            .bind("$3", seqs).bind("$4", names).bind("$5", data),
        row -> row.get("sent", Long.class))
        .then()
        .doOnSuccess(done -> rows.forEach(row -> row.sink().success()))
        .doOnError(error -> rows.forEach(row -> row.sink().error(error)))
        .onErrorResume(error -> Mono.empty());
  }

  /**
   * The run's events with seq greater than {@code afterSeq}, in order; read a page at a time (one page ahead of the
   * subscriber's demand), each page on a connection of its own, so a run of 100k events streams.
   *
   * @throws IllegalArgumentException when afterSeq is below -1
   */
  public Flux<StoredEvent> after(String runId, long afterSeq) {
    requireText(runId, "runId");
    requireCursor(afterSeq);
    return rows(runId, afterSeq).map(Row::event);
  }

  /** An event as read, and whether it was committed longer than {@link #GAP_GRACE} ago. */
  private record Row(StoredEvent event, boolean settled) {
  }

  private Flux<Row> rows(String runId, long afterSeq) {
    return page(runId, afterSeq)
        .expand(rows -> rows.size() < pageSize ? Mono.empty()
            : page(runId, rows.get(rows.size() - 1).event().seq()))
        .concatMapIterable(rows -> rows, 1);
  }

  private Mono<List<Row>> page(String runId, long afterSeq) {
    return Sql.query(factory, PAGE_SQL, statement -> statement.bind("$1", runId).bind("$2", afterSeq)
            .bind("$3", GAP_GRACE.toMillis()).bind("$4", pageSize), PostgresEventStore::row)
        .collectList();
  }

  private static Row row(Readable row) {
    Long seq = row.get("seq", Long.class);
    Boolean settled = row.get("settled", Boolean.class);
    return new Row(new StoredEvent(Objects.requireNonNull(seq, "seq"), row.get("name", String.class),
        row.get("data", String.class)), Boolean.TRUE.equals(settled));
  }

  /** The highest seq stored for the run, or -1. */
  public Mono<Long> lastSeq(String runId) {
    requireText(runId, "runId");
    return Sql.query(factory, "SELECT coalesce(max(seq), -1) AS seq FROM fluxgraph_run_events WHERE run_id = $1",
        statement -> statement.bind("$1", runId), row -> Objects.requireNonNull(row.get("seq", Long.class), "seq"))
        .single();
  }

  /** What one step of {@link #follow} emits: an event, or the end. */
  private sealed interface Followed {
  }

  private record Event(StoredEvent event) implements Followed {
  }

  private enum End implements Followed { END }

  /**
   * Follows a run from another process: emits its events after {@code afterSeq}, then the new ones each time
   * {@code wakeups} emits (the server feeds LISTEN/NOTIFY there) or every {@code poll} (the backstop, since
   * notifications can be lost), until {@code ended} emits true; then one last read, and completion. Wakeups arriving
   * during a read coalesce into one more read after it.
   *
   * <p>No duplicates, no gaps, in order: events are emitted only in seq order from {@code afterSeq + 1}; a gap (a
   * later event committed before an earlier one, whose insert failed and may be retried) is held back at until it is
   * filled or the event after it was committed {@link #GAP_GRACE} ago. The last read, after {@code ended} said true,
   * emits everything left. The writer must therefore have committed its events before the run is reported ended.
   *
   * <p>{@code ended} is called after every read; an empty {@code Mono} counts as false. {@code wakeups} is subscribed
   * before the first read, so no notification between the two is missed; its completion leaves the poll, its error
   * fails the follow. The poll runs on {@code Schedulers.parallel()}. Cancelling stops the reads, the poll, and the
   * subscription to {@code wakeups}.
   *
   * @throws IllegalArgumentException when afterSeq is below -1, or poll is not positive
   */
  public Flux<StoredEvent> follow(String runId, long afterSeq, Flux<?> wakeups, Supplier<Mono<Boolean>> ended,
                                  Duration poll) {
    requireText(runId, "runId");
    requireCursor(afterSeq);
    Objects.requireNonNull(wakeups, "wakeups must not be null");
    Objects.requireNonNull(ended, "ended must not be null");
    Objects.requireNonNull(poll, "poll must not be null");
    if (poll.isNegative() || poll.isZero()) {
      throw new IllegalArgumentException("poll must be positive, was " + poll);
    }
    return Flux.defer(() -> {
      AtomicLong cursor = new AtomicLong(afterSeq);
      Flux<Object> ticks = Flux.merge(Mono.just("start"), wakeups, Flux.interval(poll, poll));
      return ticks.onBackpressureLatest()
          .concatMap(tick -> step(runId, cursor, ended), 1)
          .takeWhile(followed -> followed != End.END)
          .map(followed -> ((Event) followed).event());
    });
  }

  /** One read (up to the first unsettled gap), then, if the run ended, the last read and the end. */
  private Flux<Followed> step(String runId, AtomicLong cursor, Supplier<Mono<Boolean>> ended) {
    Flux<Followed> contiguous = rows(runId, cursor.get())
        .takeWhile(row -> row.event().seq() == cursor.get() + 1 || row.settled())
        .map(row -> advance(cursor, row.event()));
    Flux<Followed> last = Flux.defer(() -> rows(runId, cursor.get()))
        .<Followed>map(row -> advance(cursor, row.event()))
        .concatWith(Mono.just(End.END));
    return contiguous.concatWith(Mono.defer(() -> Objects.requireNonNull(ended.get(), "ended returned null"))
        .defaultIfEmpty(false)
        .flatMapMany(done -> done ? last : Flux.empty()));
  }

  private static Followed advance(AtomicLong cursor, StoredEvent event) {
    cursor.set(event.seq());
    return new Event(event);
  }

  /**
   * Deletes the events of runs that ended more than {@code retention} ago ({@code fluxgraph_runs.status} not pending
   * or running, {@code updated_at} before the database's now minus retention), and of runs whose row no longer
   * exists once their newest event is older than the retention too (a run's first events may be committed before its
   * record is); emits how many rows went.
   *
   * @throws IllegalArgumentException when retention is negative
   */
  public Mono<Long> deleteExpired(Duration retention) {
    Objects.requireNonNull(retention, "retention must not be null");
    if (retention.isNegative()) {
      throw new IllegalArgumentException("retention must not be negative, was " + retention);
    }
    return Sql.update(factory, DELETE_EXPIRED, statement -> statement.bind("$1", retention.toMillis()));
  }

  /** Deletes the events of a thread's runs (the thread is deleted); group-committed with other such deletions. */
  public Mono<Void> deleteThread(String threadId) {
    requireText(threadId, "threadId");
    return threadDeletes.delete(threadId).then();
  }

  /** Deletes the events of one run; group-committed with other such deletions. */
  public Mono<Void> deleteRun(String runId) {
    requireText(runId, "runId");
    return runDeletes.delete(runId).then();
  }

  private static void requireText(String value, String name) {
    Objects.requireNonNull(value, name + " must not be null");
    if (value.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(name + " must not contain a NUL character (PostgreSQL text refuses it)");
    }
  }

  private static void requireCursor(long afterSeq) {
    if (afterSeq < -1) {
      throw new IllegalArgumentException("afterSeq must be -1 (from the start) or a seq, was " + afterSeq);
    }
  }
}
