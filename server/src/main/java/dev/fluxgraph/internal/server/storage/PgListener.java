package dev.fluxgraph.internal.server.storage;

import dev.fluxgraph.postgres.Sql;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.postgresql.api.Notification;
import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Result;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.util.retry.Retry;

/**
 * The PostgreSQL notifications of one channel, received on one dedicated {@code LISTEN} connection per listener,
 * opened outside the server's pool (a pooled connection would be handed to others, and its {@code LISTEN} with it).
 *
 * <p>The connection's {@code application_name} is {@value #APPLICATION_NAME}, so operators find it in
 * {@code pg_stat_activity}. When it is lost (terminated backend, network, database restart) the listener reconnects
 * with jittered exponential backoff between the minimum and maximum backoff (defaults 100 ms and 5 s), listens again
 * and emits on {@link #reconnects()}; it never gives up until {@link #stop()}. A half-open connection (nothing
 * answers, nothing closes) is found by a {@code SELECT 1} on the listener connection every 5 s that
 * must answer within 3 s, or the connection is dropped and replaced.
 * Each loss is logged once at WARN, each recovery at INFO.
 *
 * <p>Threads: payloads and reconnect signals are delivered on the driver's I/O thread (an event loop shared with other
 * connections); a subscriber that blocks or works for long must hand off first ({@code publishOn}). Backoff delays and
 * checks run on {@link Schedulers#parallel()} (non-blocking timers only). Payloads carry ids only: data stays in
 * tables, and after a reconnect the subscribers re-read what they follow, since notifications sent while no
 * connection listened are lost.
 */
public final class PgListener {

  /** The {@code application_name} of every listener connection. */
  public static final String APPLICATION_NAME = "fluxgraph-listener";

  /** The largest payload {@link #notify} sends, in UTF-8 bytes: PostgreSQL refuses 8000 and more. */
  public static final int MAX_PAYLOAD_BYTES = 7999;

  /** PostgreSQL truncates identifiers (channel names) to 63 bytes, and {@code pg_notify} refuses longer ones. */
  private static final int MAX_CHANNEL_BYTES = 63;

  /** How many payloads a subscriber that does not keep up may have waiting before it gets an overflow error. */
  private static final int MAX_BUFFERED = 65_536;

  private static final int CHECK_EVERY_SECONDS = 5;
  private static final int CHECK_TIMEOUT_SECONDS = 3;

  private static final Logger LOG = LoggerFactory.getLogger(PgListener.class);

  /** Where the listener is; every change goes through {@link #transition}. */
  private enum State {
    /** Constructed, or its first connection failed: {@link #start()} may be called. */
    NEW,
    /** The first connection is being opened. */
    STARTING,
    /** A connection listens. */
    LISTENING,
    /** The connection was lost; a new one is being opened (with backoff). */
    RECONNECTING,
    /** Final. */
    STOPPED
  }

  private final ConnectionFactory factory;
  private final String channel;
  private final String listen;
  private final Duration minBackoff;
  private final Duration maxBackoff;
  private final Duration checkEvery;
  private final Duration checkTimeout;
  private final Scheduler timer;

  private final Sinks.Many<String> payloads = Sinks.many().multicast().directBestEffort();
  private final Sinks.Many<Long> reconnects = Sinks.many().multicast().directBestEffort();
  private final AtomicLong reconnected = new AtomicLong();
  private final Mono<Void> stopping = Mono.defer(this::stopNow).cache();

  // guarded by this
  private State state = State.NEW;
  private Sinks.One<Void> started = Sinks.one();
  private @Nullable Disposable loop;
  private @Nullable Session current;
  private boolean listenedOnce;
  private long lostAt;

  /** A listener with the default backoff (100 ms to 5 s); see {@link #PgListener(ConnectionFactory, String, Duration, Duration)}. */
  public PgListener(ConnectionFactory factory, String channel) {
    this(factory, channel, Duration.ofMillis(100), Duration.ofSeconds(5));
  }

  /**
   * A listener of {@code channel} (a PostgreSQL identifier, taken as it is: {@code LISTEN "channel"}), not started.
   *
   * @param factory the server's connection factory; an {@link ConnectionPool} is unwrapped and the listener's own
   *                connection opened outside it; it must yield r2dbc-postgresql connections
   * @param minBackoff the first delay before reconnecting, positive
   * @param maxBackoff the longest delay between attempts, at least {@code minBackoff}
   * @throws IllegalArgumentException for an empty channel, one over 63 bytes (UTF-8) or with a NUL, or backoffs out of
   *                                  order
   */
  public PgListener(ConnectionFactory factory, String channel, Duration minBackoff, Duration maxBackoff) {
    this(factory, channel, minBackoff, maxBackoff, Duration.ofSeconds(CHECK_EVERY_SECONDS),
        Duration.ofSeconds(CHECK_TIMEOUT_SECONDS), Schedulers.parallel());
  }

  /** With the period and timeout of the connection check and the timers' scheduler (tests shorten them). */
  PgListener(ConnectionFactory factory, String channel, Duration minBackoff, Duration maxBackoff, Duration checkEvery,
             Duration checkTimeout, Scheduler timer) {
    Objects.requireNonNull(factory, "factory must not be null");
    this.factory = factory instanceof ConnectionPool pool ? pool.unwrap() : factory;
    this.channel = checkChannel(channel);
    this.listen = "LISTEN \"" + channel.replace("\"", "\"\"") + "\"";
    this.minBackoff = positive(minBackoff, "minBackoff");
    this.maxBackoff = positive(maxBackoff, "maxBackoff");
    if (maxBackoff.compareTo(minBackoff) < 0) {
      throw new IllegalArgumentException("maxBackoff (" + maxBackoff + ") must not be shorter than minBackoff ("
          + minBackoff + ")");
    }
    this.checkEvery = positive(checkEvery, "checkEvery");
    this.checkTimeout = positive(checkTimeout, "checkTimeout");
    this.timer = Objects.requireNonNull(timer, "timer must not be null");
  }

  /**
   * Opens the listener connection and {@code LISTEN}s; completes once listening, fails with the error of the first
   * connection attempt (which is not retried; the listener can then be started again). Cold: nothing happens until
   * subscribed. Subscribing again while starting or started joins that start; cancelling does not stop the listener
   * (only {@link #stop()} does). Fails with {@link IllegalStateException} once stopped.
   */
  public Mono<Void> start() {
    return Mono.defer(() -> {
      Sinks.One<Void> outcome;
      synchronized (this) {
        if (state == State.STOPPED) {
          return Mono.error(new IllegalStateException("the listener of channel " + channel
              + " was stopped; a stopped PgListener does not start again"));
        }
        if (state == State.NEW) {
          state = State.STARTING;
          started = Sinks.one();
          loop = sessions().retryWhen(reconnecting()).subscribe(this::listening, this::failed);
        }
        outcome = started;
      }
      return outcome.asMono();
    });
  }

  /**
   * Hot: the payload of each notification on the channel, in the order PostgreSQL delivered them, across all the
   * connections of this listener; nothing is replayed to a late subscriber. A subscriber that lets more than 65,536
   * payloads wait gets an overflow error. Completes when the listener is stopped.
   */
  public Flux<String> payloads() {
    return payloads.asFlux().onBackpressureBuffer(MAX_BUFFERED);
  }

  /**
   * Hot: 1, 2, ... each time the listener listens again after losing its connection (emitted once {@code LISTEN} is in
   * place on the new one). Notifications sent in the gap are lost, so a subscriber re-reads the state it follows. A slow
   * subscriber sees the latest count. Completes when the listener is stopped.
   */
  public Flux<Long> reconnects() {
    return reconnects.asFlux().onBackpressureLatest();
  }

  /** Whether a connection listens right now (false while starting, reconnecting, or stopped). */
  public synchronized boolean listening() {
    return state == State.LISTENING;
  }

  /**
   * Stops listening for good: ends the reconnecting, closes the connection (completing once closed, or after the check
   * timeout when the connection does not answer) and completes {@link #payloads()} and {@link #reconnects()}. A
   * {@link #start()} still under way fails. Cold; idempotent (every call returns the same outcome).
   */
  public Mono<Void> stop() {
    return stopping;
  }

  /**
   * Sends a notification on {@code channel} with {@code pg_notify($1, $2)} through {@code factory} (a pooled
   * connection, autocommit: it is delivered at once). Cold.
   *
   * @throws IllegalArgumentException (as the error of the Mono) for a payload over {@value #MAX_PAYLOAD_BYTES} bytes
   *                                  in UTF-8 (PostgreSQL's limit is 8000), one with a NUL character, or an invalid
   *                                  channel
   */
  public static Mono<Void> notify(ConnectionFactory factory, String channel, String payload) {
    Objects.requireNonNull(factory, "factory must not be null");
    Objects.requireNonNull(channel, "channel must not be null");
    Objects.requireNonNull(payload, "payload must not be null");
    return Mono.defer(() -> {
      checkChannel(channel);
      int bytes = payload.getBytes(StandardCharsets.UTF_8).length;
      if (bytes > MAX_PAYLOAD_BYTES) {
        return Mono.error(new IllegalArgumentException("notification payload of " + bytes + " bytes (UTF-8) is over"
            + " the limit of " + MAX_PAYLOAD_BYTES + " bytes (PostgreSQL refuses 8000 and more): send an id and keep"
            + " the data in a table"));
      }
      if (payload.indexOf('\0') >= 0) {
        return Mono.error(new IllegalArgumentException("notification payload contains a NUL character, which"
            + " PostgreSQL text cannot hold"));
      }
      return Sql.query(factory, "SELECT pg_notify($1, $2)",
          statement -> statement.bind("$1", channel).bind("$2", payload), row -> Boolean.TRUE).then();
    });
  }

  @Override
  public String toString() {
    return "PgListener[" + channel + "]";
  }

  /**
   * One connection's life, repeated by {@link #reconnecting()}: open, listen, emit the session, then fail when the
   * connection is lost; the connection is closed on every way out (error, cancel).
   */
  private Flux<Session> sessions() {
    return Flux.usingWhen(Mono.from(factory.create()).map(this::adopt),
        session -> session.listen().thenReturn(session).concatWith(watch(session).then(Mono.empty())),
        Session::close, (session, error) -> session.close(), Session::close);
  }

  private Session adopt(Connection connection) {
    if (!(connection instanceof PostgresqlConnection postgres)) {
      Mono.from(connection.close()).onErrorResume(error -> Mono.empty()).subscribe();
      throw new IllegalArgumentException("PgListener needs r2dbc-postgresql connections, the factory gave a "
          + connection.getClass().getName());
    }
    Session session = new Session(postgres);
    boolean stopped;
    synchronized (this) {
      current = session;
      stopped = state == State.STOPPED;
    }
    if (stopped) {
      session.close().subscribe(); // stop() came while this connection was being opened
    }
    return session;
  }

  /** Errors when the session's connection is lost: it closed, or a check did not answer in time. */
  private Mono<Void> watch(Session session) {
    Mono<Void> checks = Mono.delay(checkEvery, timer).then(session.check()).repeat().then();
    return Mono.when(session.lost.asMono(), checks).doOnError(error -> {
      synchronized (this) {
        if (!transition(State.LISTENING, State.RECONNECTING)) {
          return;
        }
        lostAt = timer.now(TimeUnit.MILLISECONDS);
      }
      LOG.warn("{}: lost the LISTEN connection ({}); reconnecting with backoff {} to {}, notifications sent meanwhile"
          + " are lost", this, describe(error), minBackoff, maxBackoff);
    });
  }

  /** Retries forever once the listener has listened (never its first connection), until stopped. */
  private Retry reconnecting() {
    return Retry.backoff(Long.MAX_VALUE, minBackoff).maxBackoff(maxBackoff).jitter(0.5).transientErrors(true)
        .scheduler(timer)
        .filter(error -> {
          synchronized (this) {
            return listenedOnce && state != State.STOPPED;
          }
        })
        .doBeforeRetry(signal -> {
          if (signal.totalRetriesInARow() > 0) {
            LOG.debug("{}: reconnect attempt {} failed: {}", this, signal.totalRetriesInARow(),
                describe(signal.failure()));
          }
        });
  }

  private void listening(Session session) {
    Sinks.One<Void> first;
    long outage;
    synchronized (this) {
      if (transition(State.STARTING, State.LISTENING)) {
        listenedOnce = true;
        first = started;
        outage = -1;
      } else if (transition(State.RECONNECTING, State.LISTENING)) {
        first = null;
        outage = timer.now(TimeUnit.MILLISECONDS) - lostAt;
      } else {
        return;
      }
    }
    if (first != null) {
      LOG.debug("{}: listening", this);
      first.tryEmitEmpty();
    } else {
      long count = reconnected.incrementAndGet();
      LOG.info("{}: listening again, {} ms after the connection was lost (reconnect {})", this, outage, count);
      reconnects.emitNext(count, Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
    }
  }

  private void failed(Throwable error) {
    Sinks.One<Void> first = null;
    boolean stopped;
    synchronized (this) {
      if (transition(State.STARTING, State.NEW)) {
        first = started;
        loop = null;
      }
      stopped = state == State.STOPPED;
    }
    if (first != null) {
      LOG.debug("{}: the first connection failed", this, error);
      first.tryEmitError(error);
    } else if (stopped) {
      LOG.debug("{}: the connection ended while stopping: {}", this, describe(error));
    } else {
      LOG.error("{}: stopped reconnecting after an unexpected error", this, error);
    }
  }

  private Mono<Void> stopNow() {
    Disposable running;
    Sinks.One<Void> pending = null;
    @Nullable Session session;
    synchronized (this) {
      // the last connection, closed below whether or not disposing the loop closes it first (close is shared); one
      // adopted after this point closes itself
      session = current;
      if (state == State.STARTING) {
        pending = started;
      }
      state = State.STOPPED;
      running = loop;
      loop = null;
    }
    if (running != null) {
      running.dispose();
    }
    if (pending != null) {
      pending.tryEmitError(new IllegalStateException("the listener of channel " + channel
          + " was stopped before it listened"));
    }
    return (session == null ? Mono.<Void>empty() : session.close()).then(Mono.fromRunnable(() -> {
      payloads.emitComplete(Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
      reconnects.emitComplete(Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
      LOG.debug("{}: stopped", this);
    }));
  }

  /** The one place the state changes outside {@link #start()} and {@link #stopNow()}; never leaves STOPPED. */
  private boolean transition(State from, State to) {
    assert Thread.holdsLock(this);
    if (state != from) {
      return false;
    }
    state = to;
    return true;
  }

  private static String checkChannel(String channel) {
    Objects.requireNonNull(channel, "channel must not be null");
    if (channel.isEmpty()) {
      throw new IllegalArgumentException("channel must not be empty");
    }
    if (channel.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("channel must not contain a NUL character");
    }
    int bytes = channel.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_CHANNEL_BYTES) {
      throw new IllegalArgumentException("channel \"" + channel + "\" has " + bytes + " bytes (UTF-8), over"
          + " PostgreSQL's " + MAX_CHANNEL_BYTES + "-byte identifier limit");
    }
    return channel;
  }

  private static Duration positive(Duration duration, String name) {
    Objects.requireNonNull(duration, name + " must not be null");
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, got " + duration);
    }
    return duration;
  }

  private static String describe(Throwable error) {
    return error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
  }

  /** One listener connection. */
  private final class Session {

    private final PostgresqlConnection connection;
    /** Errors when the driver reports the connection closed. */
    private final Sinks.Empty<Void> lost = Sinks.empty();
    private final Mono<Void> close;
    private volatile @Nullable Disposable notifications;

    Session(PostgresqlConnection connection) {
      this.connection = connection;
      this.close = Mono.defer(() -> {
            Disposable subscription = notifications;
            if (subscription != null) {
              subscription.dispose(); // so that this close is not taken for a loss
            }
            return connection.close();
          })
          .timeout(checkTimeout, timer)
          .onErrorResume(error -> {
            LOG.debug("{}: closing the listener connection: {}", PgListener.this, describe(error));
            return Mono.empty();
          })
          .cache();
    }

    /** Names the connection, then LISTENs, subscribed to its notifications first. */
    Mono<Void> listen() {
      return Mono.defer(() -> {
        // the driver drops notifications that arrive before its first subscriber: subscribe before LISTEN
        notifications = connection.getNotifications().subscribe(this::deliver,
            error -> lost.tryEmitError(error),
            () -> lost.tryEmitError(new IllegalStateException("the listener connection closed")));
        return execute("SET application_name = '" + APPLICATION_NAME + "'").then(execute(listen));
      });
    }

    /** A cheap round trip; fails when it does not answer within the check timeout. */
    Mono<Void> check() {
      return Flux.from(connection.createStatement("SELECT 1").execute())
          .flatMap(result -> result.map((row, metadata) -> 1))
          .then()
          .timeout(checkTimeout, Mono.error(() -> new TimeoutException("the listener connection did not"
              + " answer SELECT 1 within " + checkTimeout)), timer);
    }

    Mono<Void> close() {
      return close;
    }

    private Mono<Void> execute(String sql) {
      return Flux.from(connection.createStatement(sql).execute()).flatMap(Result::getRowsUpdated).then();
    }

    private void deliver(Notification notification) {
      if (!channel.equals(notification.getName())) {
        return;
      }
      String payload = notification.getParameter();
      try {
        payloads.emitNext(payload == null ? "" : payload, Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
      } catch (RuntimeException error) {
        // a subscriber's failure must not reach the driver's subscription, which would take it for a lost connection
        LOG.error("{}: a payloads() subscriber failed", PgListener.this, error);
      }
    }
  }
}
