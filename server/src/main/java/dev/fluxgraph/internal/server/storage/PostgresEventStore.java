package dev.fluxgraph.internal.server.storage;

import dev.fluxgraph.postgres.GroupCommit;
import dev.fluxgraph.postgres.KeyedDelete;
import dev.fluxgraph.postgres.Schema;
import dev.fluxgraph.postgres.Sql;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Readable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * A run's SSE events in PostgreSQL ({@code fluxgraph_run_events}), so that a join from another server process, or
 * after a restart, reads what the run emitted. Every method is cold: nothing happens until subscription, and
 * cancelling releases the connection it holds.
 *
 * <p>A run's events are appended in rounds (what its writer queued while the previous round was in flight), and a
 * round is one row: its first seq, its last, and its events' names and data as arrays (a long round, or one of
 * large events, is a few consecutive rows). A run whose events all go with its final save has one row, written by
 * that save: one heap tuple and one entry per index, where a row per event cost three for the events of the
 * shortest run.
 *
 * <p>Rounds are written in the order {@link #append} is subscribed: one insert is in flight at a time, carrying
 * everything queued meanwhile, so a later batch never commits before an earlier one. A reader that nevertheless
 * finds a gap (an earlier round's insert failed and is being retried) holds back at it while following, see
 * {@link #follow}.
 */
public final class PostgresEventStore {

  /**
   * Version 205: table fluxgraph_run_events, one row per event, with an index for deletes by thread; version 206: an
   * index by age (BRIN: rows come in time order, and it costs next to nothing per insert), for {@link #deleteExpired}.
   * Version 212: one row per round of a run's events instead (see the class doc), the rows of 205 moved over as rounds
   * of one event.
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
          "CREATE INDEX IF NOT EXISTS fluxgraph_run_events_by_age ON fluxgraph_run_events USING brin (created_at)")),
      new Schema.Migration(212, "server run events in rounds", List.of(
          "ALTER TABLE fluxgraph_run_events RENAME TO fluxgraph_run_events_205",
          "ALTER TABLE fluxgraph_run_events_205 RENAME CONSTRAINT fluxgraph_run_events_pkey"
              + " TO fluxgraph_run_events_205_pkey",
          "DROP INDEX fluxgraph_run_events_by_thread",
          "DROP INDEX fluxgraph_run_events_by_age",
          """
          CREATE TABLE fluxgraph_run_events (
            run_id     text        NOT NULL,
            thread_id  text        NOT NULL,
            seq        bigint      NOT NULL,
            last_seq   bigint      NOT NULL,
            names      text[]      NOT NULL,
            data       text[]      NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (run_id, seq),
            CHECK (last_seq = seq + cardinality(names) - 1 AND cardinality(names) = cardinality(data))
          )""",
          """
          INSERT INTO fluxgraph_run_events (run_id, thread_id, seq, last_seq, names, data, created_at)
          SELECT run_id, thread_id, seq, seq, ARRAY[name], ARRAY[data], created_at FROM fluxgraph_run_events_205""",
          "DROP TABLE fluxgraph_run_events_205",
          "CREATE INDEX fluxgraph_run_events_by_thread ON fluxgraph_run_events (thread_id)",
          "CREATE INDEX fluxgraph_run_events_by_age ON fluxgraph_run_events USING brin (created_at)")));

  /**
   * The rows of a batch of event rounds, as arrays of their events ($1-$6: run, thread, seq, name, data, and the seq
   * of the first event of the row it goes in), grouped into rows in the statement: one text whatever the batch's
   * size. Used by appends and by a run's final save ({@code PostgresRunStore}), so both write the same rows.
   */
  static String roundRows(String events) {
    return "SELECT run_id, min(thread_id) AS thread_id, first AS seq, max(seq) AS last_seq,"
        + " array_agg(name ORDER BY seq) AS names, array_agg(data ORDER BY seq) AS data FROM (" + events + ") r"
        + " GROUP BY run_id, first";
  }

  /** Events per insert statement (a batch of more is split into consecutive statements). */
  static final int MAX_ROWS = 1000;
  /** Events per row: a longer round is stored as consecutive rows. */
  static final int ROW_EVENTS = 256;
  /** Characters of names and data per row (~1 MB): a round of large events is stored as consecutive rows. */
  static final long ROW_CHARS = 1L << 20;
  /** Characters of name and data per insert statement, so that a batch of large events is split (~8 MB). */
  static final long MAX_CHARS = 4L << 20;
  /** Rows (rounds) per page read by {@link #after}. */
  static final int PAGE = 500;
  /**
   * How long a gap must have been there, by the database's clock, before a follower skips it: the event after the gap
   * was committed this long ago, so the one missing was lost (its append failed and was not retried).
   */
  static final Duration GAP_GRACE = Duration.ofSeconds(10);

  private static final String PAGE_SQL = "SELECT seq, names, data, created_at < now() - $3 * interval '1 millisecond'"
      + " AS settled FROM fluxgraph_run_events WHERE run_id = $1 AND last_seq > $2 ORDER BY seq LIMIT $4";

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
   * The batch's rows ({@link #roundRows}), a stored (run, seq) left alone (a retried round is stored as the same rows),
   * and one signal per run of the statement for its followers in other processes (delivered on commit).
   */
  private static final String INSERT = "WITH kept AS (INSERT INTO fluxgraph_run_events (run_id, thread_id, seq,"
      + " last_seq, names, data) " + roundRows("SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[],"
      + " $5::text[], $6::bigint[]) AS e (run_id, thread_id, seq, name, data, first)")
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

    long chars() {
      return name.length() + data.length();
    }
  }

  /** A queued append: one row's events, in seq order without gaps. */
  private record Append(String runId, String threadId, List<StoredEvent> events, MonoSink<Void> sink)
      implements GroupCommit.Request {
    @Override
    public void fail(Throwable error) {
      sink.error(error);
    }

    long chars() {
      return events.stream().mapToLong(StoredEvent::chars).sum();
    }
  }

  /**
   * Appends a round of the run's events, group-committed: many concurrent runs' rounds go out as one statement (split
   * at {@link #MAX_ROWS} events or {@link #MAX_CHARS} characters); the round is stored as one row, or as consecutive
   * rows when it is long ({@link #ROW_EVENTS}, {@link #ROW_CHARS}) or its seqs are not consecutive. A row already stored
   * (same run and first seq) is left alone, so a retry of the same round is harmless. Completes once committed; fails
   * with the database's error when an insert does. Cancelling does not withdraw a round already queued.
   *
   * @throws IllegalArgumentException when the events are not in ascending seq order
   */
  public Mono<Void> append(String runId, String threadId, List<StoredEvent> round) {
    requireText(runId, "runId");
    requireText(threadId, "threadId");
    List<List<StoredEvent>> rows = rows(round);
    return Flux.fromIterable(rows)
        .flatMap(events -> Mono.<Void>create(sink -> appends.submit(new Append(runId, threadId, events, sink))),
            Math.max(1, rows.size()))
        .then();
  }

  /** One event, as a round of its own. */
  public Mono<Void> append(String runId, String threadId, StoredEvent event) {
    Objects.requireNonNull(event, "event must not be null");
    return append(runId, threadId, List.of(event));
  }

  /**
   * The round's rows: consecutive seqs, at most {@link #ROW_EVENTS} events and {@link #ROW_CHARS} characters each (an
   * event larger than that alone in its row).
   */
  static List<List<StoredEvent>> rows(List<StoredEvent> round) {
    Objects.requireNonNull(round, "round must not be null");
    List<List<StoredEvent>> rows = new ArrayList<>();
    List<StoredEvent> row = new ArrayList<>();
    long chars = 0;
    StoredEvent previous = null;
    for (StoredEvent event : round) {
      Objects.requireNonNull(event, "events must not be null");
      if (previous != null && event.seq() <= previous.seq()) {
        throw new IllegalArgumentException("a round's events must be in ascending seq order: " + event.seq()
            + " after " + previous.seq());
      }
      boolean follows = previous != null && event.seq() == previous.seq() + 1;
      if (!row.isEmpty() && (!follows || row.size() == ROW_EVENTS || chars + event.chars() > ROW_CHARS)) {
        rows.add(row);
        row = new ArrayList<>();
        chars = 0;
      }
      row.add(event);
      chars += event.chars();
      previous = event;
    }
    if (!row.isEmpty()) {
      rows.add(row);
    }
    return rows;
  }

  /**
   * A statement's events as arrays, each (run, seq) once: run, thread, seq, name, data, and the seq of the first
   * event of the row it goes in ({@link #rows}), for {@link #roundRows}.
   */
  static final class Columns {
    final List<String> runs = new ArrayList<>();
    final List<String> threads = new ArrayList<>();
    final List<Long> seqs = new ArrayList<>();
    final List<String> names = new ArrayList<>();
    final List<String> data = new ArrayList<>();
    final List<Long> firsts = new ArrayList<>();
    private final Set<String> seen = new HashSet<>();

    /** Adds a round of the run's events (thread: null where the statement takes it from elsewhere). */
    void add(String runId, @Nullable String threadId, List<StoredEvent> round) {
      for (List<StoredEvent> row : rows(round)) {
        long first = row.get(0).seq();
        for (StoredEvent event : row) {
          if (seen.add(runId + '\0' + event.seq())) {
            runs.add(runId);
            threads.add(threadId);
            seqs.add(event.seq());
            names.add(event.name());
            data.add(event.data());
            firsts.add(first);
          }
        }
      }
    }
  }

  /** The batch as consecutive statements, in order, each completing its own appends. */
  private Mono<Void> insert(List<Append> batch) {
    List<List<Append>> statements = new ArrayList<>();
    List<Append> current = new ArrayList<>();
    long events = 0;
    long chars = 0;
    for (Append append : batch) {
      if (!current.isEmpty() && (events + append.events().size() > MAX_ROWS || chars + append.chars() > MAX_CHARS)) {
        statements.add(current);
        current = new ArrayList<>();
        events = 0;
        chars = 0;
      }
      current.add(append);
      events += append.events().size();
      chars += append.chars();
    }
    statements.add(current);
    return Flux.fromIterable(statements).concatMap(this::insertStatement).then();
  }

  private Mono<Void> insertStatement(List<Append> rows) {
    Columns columns = new Columns();
    rows.forEach(row -> columns.add(row.runId(), row.threadId(), row.events()));
    // not flushed at its own commit (Sql.UNFLUSHED): the run's final status, saved after its events, is an ordinary
    // commit whose flush covers them (a database crash before it may lose the newest events of a run not ended yet)
    return Sql.query(factory, INSERT, statement -> statement.bind("$1", columns.runs.toArray(String[]::new))
            .bind("$2", columns.threads.toArray(String[]::new)).bind("$3", columns.seqs.toArray(Long[]::new))
            .bind("$4", columns.names.toArray(String[]::new)).bind("$5", columns.data.toArray(String[]::new))
            .bind("$6", columns.firsts.toArray(Long[]::new)),
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
        .expand(page -> page.rows() < pageSize ? Mono.empty() : page(runId, page.lastSeq()))
        .concatMapIterable(Page::events, 1);
  }

  /** A page: the events of its rows after the cursor, how many rows it read, and the last seq of the last one. */
  private record Page(List<Row> events, int rows, long lastSeq) {
  }

  private Mono<Page> page(String runId, long afterSeq) {
    return Sql.query(factory, PAGE_SQL, statement -> statement.bind("$1", runId).bind("$2", afterSeq)
            .bind("$3", GAP_GRACE.toMillis()).bind("$4", pageSize), PostgresEventStore::round)
        .collectList()
        .map(rounds -> {
          List<Row> events = new ArrayList<>();
          long last = afterSeq;
          for (List<Row> round : rounds) {
            for (Row row : round) {
              if (row.event().seq() > afterSeq) {
                events.add(row);
              }
              last = row.event().seq();
            }
          }
          return new Page(events, rounds.size(), last);
        });
  }

  /** A stored round's events, each with whether the round was committed longer than {@link #GAP_GRACE} ago. */
  private static List<Row> round(Readable row) {
    Long seq = Objects.requireNonNull(row.get("seq", Long.class), "seq");
    String[] names = Objects.requireNonNull(row.get("names", String[].class), "names");
    String[] data = Objects.requireNonNull(row.get("data", String[].class), "data");
    boolean settled = Boolean.TRUE.equals(row.get("settled", Boolean.class));
    List<Row> events = new ArrayList<>(names.length);
    for (int i = 0; i < names.length; i++) {
      events.add(new Row(new StoredEvent(seq + i, names[i], data[i]), settled));
    }
    return events;
  }

  /** The highest seq stored for the run, or -1. */
  public Mono<Long> lastSeq(String runId) {
    requireText(runId, "runId");
    return Sql.query(factory, "SELECT coalesce(max(last_seq), -1) AS seq FROM fluxgraph_run_events WHERE run_id = $1",
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
