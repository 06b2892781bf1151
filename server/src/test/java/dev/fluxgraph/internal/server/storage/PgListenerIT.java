package dev.fluxgraph.internal.server.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.server.TestSql;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * The LISTEN connection against a real PostgreSQL, checked through pg_stat_activity over JDBC: order, no loss right
 * after start, recovery after its backend is terminated or stops answering, reconnect attempts that go on through an
 * outage, and a stop that really ends its backend.
 */
class PgListenerIT {

  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final String CHANNEL = "fluxgraph_test";
  private static final String LISTENER_PIDS = "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity"
      + " WHERE application_name = '" + PgListener.APPLICATION_NAME + "'";

  private static EmbeddedPostgres postgres;
  private static PostgresSaver saver;
  private static ConnectionPool pool;

  private @Nullable PgListener listener;

  @BeforeAll
  static void database() throws IOException {
    postgres = EmbeddedPostgres.builder().start();
    saver = PostgresSaver.connect("r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/postgres");
    pool = (ConnectionPool) saver.connectionFactory();
  }

  @AfterAll
  static void stop() throws IOException {
    saver.close();
    postgres.close();
  }

  @BeforeEach
  void noListenerLeftByAnotherTest() {
    await(LISTENER_PIDS, pids -> pids == null);
  }

  @AfterEach
  void stopListener() {
    if (listener != null) {
      listener.stop().block(WAIT);
    }
  }

  @Test
  void payloadsArriveInOrderOnADedicatedConnectionNamedForOperators() {
    PgListener listening = listener(new PgListener(pool, CHANNEL));
    listening.start().block(WAIT);
    assertTrue(listening.listening());
    assertNotNull(listenerPid(), "found in pg_stat_activity by application_name");
    assertEquals(0, pool.getMetrics().orElseThrow().acquiredSize(), "its connection is not one of the pool's");

    List<String> sent = IntStream.range(0, 200).mapToObj(i -> "run-" + i).toList();
    StepVerifier.create(listening.payloads().take(sent.size()))
        .then(() -> Flux.fromIterable(sent)
            .concatMap(payload -> PgListener.notify(pool, "other_channel", "not-" + payload)
                .then(PgListener.notify(pool, CHANNEL, payload)))
            .blockLast(WAIT))
        .expectNextSequence(sent)
        .expectComplete()
        .verify(WAIT);
  }

  @Test
  void aNotificationSentRightAfterStartCompletesIsNotLost() {
    for (int i = 0; i < 20; i++) {
      PgListener listening = listener(new PgListener(pool, CHANNEL));
      String payload = "first-" + i;
      StepVerifier.create(listening.payloads().take(1))
          .then(() -> listening.start().then(PgListener.notify(pool, CHANNEL, payload)).block(WAIT))
          .expectNext(payload)
          .expectComplete()
          .verify(WAIT);
      listening.stop().block(WAIT);
    }
  }

  @Test
  void afterItsBackendIsTerminatedItListensAgainAndSaysSo() {
    PgListener listening = listener(new PgListener(pool, CHANNEL, Duration.ofMillis(20), Duration.ofMillis(200)));
    listening.start().block(WAIT);
    for (long round = 1; round <= 2; round++) {
      String before = listenerPid();
      StepVerifier.create(listening.reconnects().take(1))
          .then(() -> sql("SELECT pg_terminate_backend(" + before + ")"))
          .expectNext(round)
          .expectComplete()
          .verify(WAIT);
      assertTrue(listening.listening());
      String after = await(LISTENER_PIDS, pids -> pids != null && !pids.equals(before));
      assertFalse(after.contains(","), "one listener connection: " + after);

      String payload = "after-reconnect-" + round;
      StepVerifier.create(listening.payloads().take(1))
          .then(() -> PgListener.notify(pool, CHANNEL, payload).block(WAIT))
          .expectNext(payload)
          .expectComplete()
          .verify(WAIT);
    }
  }

  @Test
  void aConnectionThatStopsAnsweringIsReplaced() throws Exception {
    PgListener listening = listener(new PgListener(pool, CHANNEL, Duration.ofMillis(20), Duration.ofMillis(200),
        Duration.ofMillis(200), Duration.ofMillis(500), Schedulers.parallel()));
    listening.start().block(WAIT);
    String frozen = listenerPid();
    try {
      // SIGSTOP: the backend's socket stays open and nothing answers, as with a half-open connection
      StepVerifier.create(listening.reconnects().take(1))
          .then(() -> signal("STOP", frozen))
          .expectNext(1L)
          .expectComplete()
          .verify(WAIT);
    } finally {
      signal("CONT", frozen);
    }
    await(LISTENER_PIDS, pids -> pids != null && !pids.contains(frozen));
    StepVerifier.create(listening.payloads().take(1))
        .then(() -> PgListener.notify(pool, CHANNEL, "on the new connection").block(WAIT))
        .expectNext("on the new connection")
        .expectComplete()
        .verify(WAIT);
  }

  @Test
  void itKeepsReconnectingThroughAnOutageUntilStopped() {
    AtomicBoolean down = new AtomicBoolean();
    AtomicInteger attempts = new AtomicInteger();
    ConnectionFactory direct = pool.unwrap();
    ConnectionFactory flaky = new ConnectionFactory() {
      @Override
      public Publisher<? extends Connection> create() {
        return Mono.defer(() -> {
          attempts.incrementAndGet();
          return down.get() ? Mono.error(new IOException("test outage: the database is unreachable"))
              : Mono.from(direct.create());
        });
      }

      @Override
      public ConnectionFactoryMetadata getMetadata() {
        return direct.getMetadata();
      }
    };
    PgListener listening = listener(new PgListener(flaky, CHANNEL, Duration.ofMillis(10), Duration.ofMillis(50)));
    listening.start().block(WAIT);

    StepVerifier.create(listening.reconnects().take(1))
        .then(() -> {
          down.set(true);
          int before = attempts.get();
          sql("SELECT pg_terminate_backend(" + listenerPid() + ")");
          Mono.fromSupplier(attempts::get).filter(count -> count >= before + 5)
              .repeatWhenEmpty(ticks -> ticks.delayElements(Duration.ofMillis(20))).block(WAIT);
          assertFalse(listening.listening(), "no connection while the database is unreachable");
          down.set(false);
        })
        .expectNext(1L)
        .expectComplete()
        .verify(WAIT);
    assertNotNull(listenerPid());

    // stopped in the middle of an outage: the attempts end, and so do its signals
    down.set(true);
    sql("SELECT pg_terminate_backend(" + listenerPid() + ")");
    Mono.fromSupplier(listening::listening).filter(on -> !on)
        .repeatWhenEmpty(ticks -> ticks.delayElements(Duration.ofMillis(20))).block(WAIT);
    StepVerifier.create(listening.reconnects())
        .then(() -> listening.stop().block(WAIT))
        .expectComplete()
        .verify(WAIT);
    down.set(false);
    assertEquals(null, sql(LISTENER_PIDS));
  }

  @Test
  void stopClosesItsBackendAndIsFinal() {
    PgListener listening = listener(new PgListener(pool, CHANNEL));
    listening.start().block(WAIT);
    String pid = listenerPid();

    StepVerifier.create(listening.payloads())
        .then(() -> listening.stop().block(WAIT))
        .expectComplete()
        .verify(WAIT);
    assertFalse(listening.listening());
    await("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid, "0"::equals);
    StepVerifier.create(listening.stop()).expectComplete().verify(WAIT);
    StepVerifier.create(listening.start())
        .expectErrorSatisfies(error -> {
          assertEquals(IllegalStateException.class, error.getClass());
          assertTrue(error.getMessage().contains("stopped"), error.getMessage());
        })
        .verify(WAIT);
    StepVerifier.create(listening.payloads()).expectComplete().verify(WAIT);
  }

  @Test
  void theFirstConnectionFailingFailsStart() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    PgListener listening = listener(new PgListener(
        ConnectionFactories.get("r2dbc:postgresql://postgres@localhost:" + closedPort + "/postgres"), CHANNEL));
    StepVerifier.create(listening.start()).expectError().verify(WAIT);
    assertFalse(listening.listening());
    StepVerifier.create(listening.start()).expectError().verify(WAIT); // may be started again, and fails again
  }

  @Test
  void notifyRefusesPayloadsOverTheLimitAndBadChannels() {
    StepVerifier.create(PgListener.notify(pool, CHANNEL, "a".repeat(8000)))
        .expectErrorSatisfies(error -> {
          assertEquals(IllegalArgumentException.class, error.getClass());
          assertTrue(error.getMessage().contains("8000 bytes") && error.getMessage().contains("7999"),
              error.getMessage());
        })
        .verify(WAIT);
    StepVerifier.create(PgListener.notify(pool, CHANNEL, "é".repeat(4000))) // 4000 characters, 8000 bytes
        .expectError(IllegalArgumentException.class)
        .verify(WAIT);
    StepVerifier.create(PgListener.notify(pool, CHANNEL, "nul\0"))
        .expectError(IllegalArgumentException.class)
        .verify(WAIT);
    StepVerifier.create(PgListener.notify(pool, "", "x"))
        .expectError(IllegalArgumentException.class)
        .verify(WAIT);
    assertThrows(IllegalArgumentException.class, () -> new PgListener(pool, "c".repeat(64)));
    assertThrows(IllegalArgumentException.class,
        () -> new PgListener(pool, CHANNEL, Duration.ofSeconds(2), Duration.ofSeconds(1)));

    // the largest payload allowed goes through whole, on a channel that needs quoting
    String odd = "Fluxgraph \"runs\"";
    String largest = "é".repeat(3999) + "a";
    PgListener listening = listener(new PgListener(pool, odd));
    listening.start().block(WAIT);
    StepVerifier.create(listening.payloads().take(1))
        .then(() -> PgListener.notify(pool, odd, largest).block(WAIT))
        .expectNext(largest)
        .expectComplete()
        .verify(WAIT);
  }

  private PgListener listener(PgListener created) {
    if (listener != null) {
      listener.stop().block(WAIT);
    }
    listener = created;
    return created;
  }

  /** The pid of the one listener backend (fails when there is none or more than one after waiting). */
  private static String listenerPid() {
    return await(LISTENER_PIDS, pids -> pids != null && !pids.contains(","));
  }

  private static void signal(String signal, String pid) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, pid).inheritIO().start();
      assertTrue(kill.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "kill -" + signal + " " + pid);
      assertEquals(0, kill.exitValue(), "kill -" + signal + " " + pid);
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Repeats {@code query} until its answer satisfies {@code done} (at most {@link #WAIT}). */
  private static String await(String query, Predicate<@Nullable String> done) {
    Optional<String> answer = Mono.fromCallable(() -> Optional.ofNullable(sql(query)))
        .subscribeOn(Schedulers.boundedElastic())
        .filter(value -> done.test(value.orElse(null)))
        .repeatWhenEmpty(ticks -> ticks.delayElements(Duration.ofMillis(25)))
        .timeout(WAIT, Mono.error(() -> new AssertionError("still not as expected after " + WAIT + ": " + query
            + " = " + sql(query))))
        .block();
    return answer == null ? "" : answer.orElse("");
  }

  private static @Nullable String sql(String query) {
    return TestSql.first(postgres, query);
  }
}
