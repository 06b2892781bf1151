package dev.fluxgraph.server.bench;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.server.FluxgraphServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * Streamed runs of a 1-task workflow over loopback: 64 concurrent clients each send
 * {@code POST /threads/{id}/runs/stream} (thread created first, untimed) for 10 s; prints runs/s and p50/p99 time
 * to the first event and to the last one. Modes:
 * <ul>
 *   <li>{@code [seconds]}: server and load generator in this JVM, on the in-memory saver and on an embedded
 *       PostgreSQL ({@code scripts/bench-server.sh});</li>
 *   <li>{@code --serve <port> [--postgres]}: only the server with the workflow as assistant {@code bench}, until
 *       killed; {@code --serve-floor <port>}: a bare reactor-netty server with canned answers, for comparison;</li>
 *   <li>{@code [seconds] --url <base url> [--name <label>] [--pids <pid,...>] [--warmup <seconds>] [--rounds <n>]}:
 *       only the load generator, against any server that has assistant {@code bench} (Fluxgraph's, or the reference
 *       JS server: {@code scripts/bench-reference.sh}); {@code --pids} adds the CPU time those processes spent per
 *       run; the warm-up (default 3 s) matters: both JIT compilers (the server's and this client's) keep
 *       compiling for tens of seconds, so measure after a long warm-up, several rounds in one process.</li>
 * </ul>
 */
public final class ServerBenchmark {

  private static final int CLIENTS = 64;

  private ServerBenchmark() {
  }

  public static void main(String[] args) throws Exception {
    java.util.List<String> arguments = java.util.List.of(args);
    if (arguments.contains("--serve-floor")) {
      serveFloor(Integer.parseInt(arguments.get(arguments.indexOf("--serve-floor") + 1)));
      return;
    }
    if (arguments.contains("--serve")) {
      serve(Integer.parseInt(arguments.get(arguments.indexOf("--serve") + 1)), arguments.contains("--postgres"));
      return;
    }
    Duration duration = Duration.ofSeconds(args.length > 0 && !args[0].startsWith("--") ? Long.parseLong(args[0]) : 10);
    if (arguments.contains("--url")) {
      String url = arguments.get(arguments.indexOf("--url") + 1);
      String name = arguments.contains("--name") ? arguments.get(arguments.indexOf("--name") + 1) : url;
      java.util.List<Long> pids = arguments.contains("--pids") ? java.util.Arrays.stream(arguments.get(
          arguments.indexOf("--pids") + 1).split(",")).map(Long::parseLong).toList() : java.util.List.of();
      HttpClient http = HttpClient.create(ConnectionProvider.builder("bench").maxConnections(CLIENTS * 2).build())
          .baseUrl(url);
      int warmup = arguments.contains("--warmup") ? Integer.parseInt(arguments.get(arguments.indexOf("--warmup") + 1))
          : 3;
      int rounds = arguments.contains("--rounds") ? Integer.parseInt(arguments.get(arguments.indexOf("--rounds") + 1))
          : 1;
      run(http, Duration.ofSeconds(Math.max(0, warmup - 3)), null);
      for (int round = 1; round <= rounds; round++) {
        load(rounds == 1 ? name : name + " #" + round, http, duration, pids);
      }
      return;
    }
    measure("in-memory", new InMemorySaver(), duration);
    try (var postgres = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder().start();
         PostgresSaver saver = PostgresSaver.connect("r2dbc:postgresql://postgres@localhost:" + postgres.getPort()
             + "/postgres")) {
      saver.setup().block();
      measure("PostgreSQL", saver, duration);
    }
  }

  /**
   * The floor: a bare reactor-netty server answering the benchmark's two requests with canned bodies (no Fluxgraph
   * code), to see what the HTTP stack, loopback and load generator cost by themselves.
   */
  private static void serveFloor(int port) throws InterruptedException {
    reactor.netty.http.server.HttpServer.create().host("127.0.0.1").port(port).route(routes -> routes
            .get("/ok", (request, response) -> response.sendString(Mono.just("{\"ok\":true}")))
            .post("/threads", (request, response) -> request.receive().aggregate().then(response
                .header("Content-Type", "application/json").sendString(Mono.just("{\"thread_id\":\"t\"}")).then()))
            .post("/threads/{tid}/runs/stream", (request, response) -> request.receive().aggregate().then(response
                .header("Content-Type", "text/event-stream").sendString(Flux.just(
                    "event: metadata\r\ndata: {\"run_id\":\"r\",\"attempt\":1}\r\nid: 0\r\n\r\n",
                    "event: updates\r\ndata: {\"add_one\":2}\r\nid: 1\r\n\r\n",
                    "event: updates\r\ndata: {\"bench\":2}\r\nid: 2\r\n\r\n"), StandardCharsets.UTF_8).then())))
        .bindNow();
    System.out.println("serving the floor on port " + port);
    Thread.currentThread().join();
  }

  /** The server alone, with the workflow, until the process is killed. */
  private static void serve(int port, boolean postgres) throws Exception {
    if (postgres) {
      var database = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder().start();
      PostgresSaver saver = PostgresSaver.connect("r2dbc:postgresql://postgres@localhost:" + database.getPort()
          + "/postgres");
      saver.setup().block();
      server(saver, port);
    } else {
      server(new InMemorySaver(), port);
    }
    System.out.println("serving assistant bench on port " + port);
    Thread.currentThread().join();
  }

  /** A server on {@code port} whose assistant {@code bench} is an entrypoint calling one task that adds one. */
  private static FluxgraphServer server(CheckpointSaver saver, int port) {
    Task<Integer, Integer> addOne = Task.of("add_one", Integer.class, n -> Mono.just(n + 1));
    Entrypoint<Integer, Integer> workflow = Entrypoint.named("bench").checkpointer(saver)
        .define(Integer.class, Integer.class, (n, context) -> addOne.call(n));
    return FluxgraphServer.builder().discoverGraphs(false).port(port).checkpointer(saver)
        .graph("bench", workflow).build().start().block();
  }

  private static void measure(String name, CheckpointSaver saver, Duration duration) {
    FluxgraphServer server = server(saver, 0);
    HttpClient http = HttpClient.create(ConnectionProvider.builder("bench").maxConnections(CLIENTS * 2).build())
        .baseUrl("http://127.0.0.1:" + server.port());
    try {
      run(http, Duration.ofSeconds(17), null); // with load()'s 3 s: 20 s of warm-up for the JIT
      load(name, http, duration, java.util.List.of(ProcessHandle.current().pid()));
    } finally {
      server.stop().block();
    }
  }

  /**
   * Warms up for 3 s, then measures for {@code duration} and prints the figures, with the CPU time the server's
   * processes ({@code pids}, read from /proc; in-JVM runs count the load generator too) spent per run.
   */
  private static void load(String name, HttpClient http, Duration duration, java.util.List<Long> pids) {
    run(http, Duration.ofSeconds(3), null); // warm-up
    ConcurrentLinkedQueue<long[]> samples = new ConcurrentLinkedQueue<>();
    long cpuBefore = cpuTicks(pids);
    long start = System.nanoTime();
    run(http, duration, samples);
    double seconds = (System.nanoTime() - start) / 1e9;
    long cpuTicks = cpuTicks(pids) - cpuBefore;
    long[] first = samples.stream().mapToLong(s -> s[0]).sorted().toArray();
    long[] last = samples.stream().mapToLong(s -> s[1]).sorted().toArray();
    System.out.printf(Locale.ROOT, "%-11s %7.0f runs/s  first event p50 %6.2f ms p99 %6.2f ms  last event p50 %6.2f ms"
            + " p99 %6.2f ms  (%d runs, %d clients)%n", name, first.length / seconds, first[first.length / 2] / 1e6,
        first[(int) (first.length * 0.99)] / 1e6, last[last.length / 2] / 1e6, last[(int) (last.length * 0.99)] / 1e6,
        first.length, CLIENTS);
    if (!pids.isEmpty() && cpuTicks >= 0) {
      System.out.printf(Locale.ROOT, "%-11s server CPU %.0f%% of one core, %.0f µs of CPU per run%n", name,
          cpuTicks * 10.0 / seconds / 1000 * 100, cpuTicks * 10_000.0 / first.length);
    }
  }

  /** User + system CPU time of the processes, in clock ticks (1/100 s), from /proc; -1 when unreadable. */
  private static long cpuTicks(java.util.List<Long> pids) {
    long total = 0;
    for (long pid : pids) {
      try {
        String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        total += Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime
      } catch (java.io.IOException | RuntimeException e) {
        return -1;
      }
    }
    return total;
  }

  private static void run(HttpClient http, Duration duration, ConcurrentLinkedQueue<long[]> samples) {
    long deadline = System.nanoTime() + duration.toNanos();
    Flux.range(0, CLIENTS).flatMap(client -> Mono.defer(() -> {
      String threadId = UUID.randomUUID().toString();
      return http.post().uri("/threads")
          .send(ByteBufFlux.fromString(Mono.just("{\"thread_id\":\"" + threadId + "\"}")))
          .responseSingle((response, body) -> body.asString().then())
          .then(Mono.defer(() -> {
            long begin = System.nanoTime();
            long[] times = new long[2];
            return http.post().uri("/threads/" + threadId + "/runs/stream")
                .send(ByteBufFlux.fromString(Mono.just("{\"assistant_id\":\"bench\",\"input\":1,"
                    + "\"stream_mode\":[\"updates\"]}")))
                .response((response, body) -> body.asString(StandardCharsets.UTF_8))
                .doOnNext(chunk -> {
                  if (times[0] == 0) {
                    times[0] = System.nanoTime() - begin;
                  }
                })
                .then(Mono.fromRunnable(() -> {
                  times[1] = System.nanoTime() - begin;
                  if (samples != null) {
                    samples.add(times);
                  }
                }));
          }));
    }).repeat(() -> System.nanoTime() < deadline).then(), CLIENTS).blockLast();
  }
}
