package dev.fluxgraph.postgres.bench;

import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.types.RunConfig;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Throughput of 1-task workflows on {@link PostgresSaver} from 64 concurrent clients, next to the same
 * PostgreSQL's raw single-row insert rate from 64 concurrent clients, measured in the same process one after the
 * other. Arguments: [r2dbc url, or - for an embedded PostgreSQL] [seconds, default 10]. Run with:
 * {@code mvn -B -q install -DskipTests && mvn -B -q -pl checkpoint-r2dbc test-compile exec:java
 * -Dexec.mainClass=dev.fluxgraph.postgres.bench.PostgresBenchmark -Dexec.classpathScope=test}
 */
public final class PostgresBenchmark {

  private static final int CLIENTS = 64;

  private PostgresBenchmark() {
  }

  public static void main(String[] args) throws Exception {
    io.zonky.test.db.postgres.embedded.EmbeddedPostgres embedded = null;
    String url;
    if (args.length > 0 && !args[0].equals("-")) {
      url = args[0];
    } else {
      embedded = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder().start();
      url = "r2dbc:postgresql://postgres@localhost:" + embedded.getPort() + "/postgres";
    }
    Duration duration = Duration.ofSeconds(args.length > 1 ? Long.parseLong(args[1]) : 10);
    try (PostgresSaver saver = PostgresSaver.connect(url)) {
      saver.setup().block();
      Task<Integer, Integer> addOne = Task.of("add_one", Integer.class, n -> Mono.just(n + 1));
      Entrypoint<Integer, Integer> workflow = Entrypoint.named("bench").checkpointer(saver)
          .define(Integer.class, Integer.class, (n, context) -> addOne.call(n));
      String prefix = UUID.randomUUID().toString();
      AtomicLong counter = new AtomicLong();
      Supplier<Mono<?>> run = () -> workflow.invoke(1, RunConfig.thread(prefix + counter.incrementAndGet()));
      measure("warm-up", Duration.ofSeconds(3), run);
      Result runs = measure("1-task runs on PostgresSaver", duration, run);

      ConnectionPool pool = new ConnectionPool(ConnectionPoolConfiguration.builder(ConnectionFactories.get(url))
          .maxSize(CLIENTS).build());
      Mono.usingWhen(pool.create(), c -> Mono.from(c.createStatement(
              "CREATE TABLE IF NOT EXISTS bench_raw (id text PRIMARY KEY, payload jsonb NOT NULL)").execute())
          .flatMap(r -> Mono.from(r.getRowsUpdated())), Connection::close).block();
      Supplier<Mono<?>> insert = () -> Mono.usingWhen(pool.create(), c -> Mono.from(c.createStatement(
              "INSERT INTO bench_raw (id, payload) VALUES ($1, $2::jsonb)")
          .bind("$1", UUID.randomUUID().toString()).bind("$2", "{\"v\": 1}").execute())
          .flatMap(r -> Mono.from(r.getRowsUpdated())), Connection::close);
      measure("warm-up", Duration.ofSeconds(2), insert);
      Result raw = measure("raw single-row INSERTs", duration, insert);
      pool.dispose();

      System.out.printf(Locale.ROOT, "%nruns/s as a share of the raw insert rate: %.0f%%%n",
          100.0 * runs.perSecond() / raw.perSecond());
    } finally {
      if (embedded != null) {
        embedded.close();
      }
    }
  }

  private record Result(double perSecond) {
  }

  private static Result measure(String name, Duration duration, Supplier<Mono<?>> operation) {
    ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
    long deadline = System.nanoTime() + duration.toNanos();
    long start = System.nanoTime();
    Flux.range(0, CLIENTS)
        .flatMap(client -> Mono.defer(() -> {
              long begin = System.nanoTime();
              return operation.get().doOnSuccess(done -> latencies.add(System.nanoTime() - begin));
            })
            .repeat(() -> System.nanoTime() < deadline)
            .then(), CLIENTS)
        .blockLast();
    double seconds = (System.nanoTime() - start) / 1e9;
    long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
    double perSecond = sorted.length / seconds;
    if (!name.equals("warm-up")) {
      System.out.printf(Locale.ROOT, "%-32s %9.0f ops/s  p50 %6.2f ms  p99 %6.2f ms  (%d ops, %d clients)%n", name,
          perSecond, sorted[sorted.length / 2] / 1e6, sorted[(int) (sorted.length * 0.99)] / 1e6, sorted.length,
          CLIENTS);
    }
    return new Result(perSecond);
  }

}
