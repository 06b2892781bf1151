package dev.fluxgraph.server.bench;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.server.FluxgraphServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * Streamed runs of a 1-task workflow over loopback: 64 concurrent clients ({@code -Dbench.clients=N} for another
 * number) each send
 * {@code POST /threads/{id}/runs/stream} (thread created first, untimed) for 10 s; prints runs/s and p50/p99 time
 * to the first event and to the last one. Every run is checked: both requests must answer 200 and the stream must
 * carry exactly the events {@code metadata}, {@code updates {"add_one": 2}}, {@code updates {"bench": 2}}
 * (whitespace in the JSON ignored, as the reference server pretty-prints it); a run that does not is counted as
 * failed, not as a run, and the process exits with status 1. Modes:
 * <ul>
 *   <li>{@code [seconds]}: server and load generator in this JVM, on the in-memory saver and on an embedded
 *       PostgreSQL ({@code scripts/bench-server.sh});</li>
 *   <li>{@code --serve <port> [--postgres]}: only the server with the workflow as assistant {@code bench}, until
 *       killed (with {@code --postgres} it prints the embedded database's port); {@code --serve-floor <port>}: a bare
 *       reactor-netty server with canned answers, for comparison;</li>
 *   <li>{@code [seconds] --url <base url>[,<base url>...] [--assistant <id>] [--stateless] [--name <label>]
 *       [--pids <pid,...>] [--warmup <seconds>] [--rounds <n>]}: only the load generator, against any server that
 *       has the workflow as assistant {@code bench} (or {@code --assistant}): Fluxgraph's, or the reference JS
 *       server ({@code scripts/bench-reference.sh}); several URLs (server processes of one database,
 *       {@code scripts/bench-durable.sh}) get the concurrent clients in turn, each client's thread and run on one;
 *       {@code --stateless} streams {@code POST /runs/stream} without a thread instead; {@code --pids} adds the CPU
 *       time those processes and their descendants spent per run, in all and per process; the warm-up (default
 *       3 s) matters: both JIT compilers (the server's and this client's) keep compiling for tens of seconds, so
 *       measure after a long warm-up, several rounds in one process.</li>
 * </ul>
 * Every request carries {@code Content-Type: application/json}: the reference server rejects a run request without
 * it (400, its validator then sees no body) and ignores the {@code thread_id} of a thread request without it.
 */
public final class ServerBenchmark {

  private static final int CLIENTS = Integer.getInteger("bench.clients", 64);

  /** The events every run must stream, in order: name and data without whitespace ({@code null}: any data). */
  private static final List<String[]> EXPECTED = List.of(new String[] {"metadata", null},
      new String[] {"updates", "{\"add_one\":2}"}, new String[] {"updates", "{\"bench\":2}"});

  private ServerBenchmark() {
  }

  /**
   * Where and how to run: the clients (their base URLs set; the concurrent clients are spread over them in turn),
   * the assistant, and threaded or stateless runs.
   */
  private record Target(List<HttpClient> http, String assistant, boolean stateless) {
  }

  /** Runs that did not answer as expected: how many, and the first reason. */
  private static final class Failures {
    final AtomicLong count = new AtomicLong();
    final AtomicReference<String> first = new AtomicReference<>();

    void add(Throwable error) {
      count.incrementAndGet();
      first.compareAndSet(null, error.getMessage() == null ? error.toString() : error.getMessage());
    }
  }

  public static void main(String[] args) throws Exception {
    List<String> arguments = List.of(args);
    if (arguments.contains("--serve-floor")) {
      serveFloor(Integer.parseInt(option(arguments, "--serve-floor", null)));
      return;
    }
    if (arguments.contains("--serve")) {
      serve(Integer.parseInt(option(arguments, "--serve", null)), arguments.contains("--postgres"));
      return;
    }
    Duration duration = Duration.ofSeconds(args.length > 0 && !args[0].startsWith("--") ? Long.parseLong(args[0]) : 10);
    boolean failed;
    if (arguments.contains("--url")) {
      String url = option(arguments, "--url", null);
      String name = option(arguments, "--name", url);
      List<Long> pids = arguments.contains("--pids") ? Arrays.stream(option(arguments, "--pids", null)
          .split(",")).filter(pid -> !pid.isBlank()).map(Long::parseLong).toList() : List.of();
      Target target = new Target(Arrays.stream(url.split(",")).map(ServerBenchmark::client).toList(),
          option(arguments, "--assistant", "bench"),
          arguments.contains("--stateless"));
      int warmup = Integer.parseInt(option(arguments, "--warmup", "3"));
      int rounds = Integer.parseInt(option(arguments, "--rounds", "1"));
      run(target, Duration.ofSeconds(Math.max(0, warmup - 3)), null, new Failures());
      failed = false;
      for (int round = 1; round <= rounds; round++) {
        failed |= !load(rounds == 1 ? name : name + " #" + round, target, duration, pids);
      }
    } else {
      failed = !measure("in-memory", new InMemorySaver(), duration);
      try (var postgres = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder().start();
           PostgresSaver saver = PostgresSaver.connect("r2dbc:postgresql://postgres@localhost:" + postgres.getPort()
               + "/postgres")) {
        saver.setup().block();
        failed |= !measure("PostgreSQL", saver, duration);
      }
    }
    if (failed) {
      System.exit(1);
    }
  }

  private static String option(List<String> arguments, String name, String otherwise) {
    int index = arguments.indexOf(name);
    return index < 0 || index + 1 >= arguments.size() ? otherwise : arguments.get(index + 1);
  }

  private static HttpClient client(String baseUrl) {
    return HttpClient.create(ConnectionProvider.builder("bench").maxConnections(CLIENTS * 2).build())
        .baseUrl(baseUrl).headers(headers -> headers.set("Content-Type", "application/json"));
  }

  /**
   * The floor: a bare reactor-netty server answering the benchmark's two requests with canned bodies (the thread
   * request's own body, a fixed stream; no Fluxgraph code), to see what the HTTP stack, loopback and load generator
   * cost by themselves.
   */
  private static void serveFloor(int port) throws InterruptedException {
    reactor.netty.http.server.HttpServer.create().host("127.0.0.1").port(port).route(routes -> routes
            .get("/ok", (request, response) -> response.sendString(Mono.just("{\"ok\":true}")))
            .post("/threads", (request, response) -> request.receive().aggregate().asString().flatMap(thread ->
                response.header("Content-Type", "application/json").sendString(Mono.just(thread)).then()))
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
      System.out.println("postgres on port " + database.getPort());
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

  private static boolean measure(String name, CheckpointSaver saver, Duration duration) {
    FluxgraphServer server = server(saver, 0);
    Target target = new Target(List.of(client("http://127.0.0.1:" + server.port())), "bench", false);
    try {
      run(target, Duration.ofSeconds(17), null, new Failures()); // with load()'s 3 s: 20 s of warm-up for the JIT
      return load(name, target, duration, List.of(ProcessHandle.current().pid()));
    } finally {
      server.stop().block();
    }
  }

  /**
   * Warms up for 3 s, then measures for {@code duration} and prints the figures, with the CPU time the server's
   * processes ({@code pids} and their descendants, read from /proc; in-JVM runs count the load generator too) spent
   * per run; false when a run failed.
   */
  private static boolean load(String name, Target target, Duration duration, List<Long> pids) {
    run(target, Duration.ofSeconds(3), null, new Failures()); // warm-up
    ConcurrentLinkedQueue<long[]> samples = new ConcurrentLinkedQueue<>();
    Failures failures = new Failures();
    long cpuBefore = cpuTicks(pids);
    long[] eachBefore = pids.stream().mapToLong(pid -> cpuTicks(List.of(pid))).toArray();
    long start = System.nanoTime();
    run(target, duration, samples, failures);
    double seconds = (System.nanoTime() - start) / 1e9;
    long cpuAfter = cpuTicks(pids);
    long[] eachAfter = pids.stream().mapToLong(pid -> cpuTicks(List.of(pid))).toArray();
    long[] first = samples.stream().mapToLong(s -> s[0]).sorted().toArray();
    long[] last = samples.stream().mapToLong(s -> s[1]).sorted().toArray();
    if (first.length > 0) {
      System.out.printf(Locale.ROOT, "%-11s %7.0f runs/s  first event p50 %6.2f ms p99 %6.2f ms  last event p50 %6.2f"
              + " ms p99 %6.2f ms  (%d runs, %d clients, %d failed)%n", name, first.length / seconds,
          first[first.length / 2] / 1e6, first[(int) (first.length * 0.99)] / 1e6, last[last.length / 2] / 1e6,
          last[(int) (last.length * 0.99)] / 1e6, first.length, CLIENTS, failures.count.get());
    }
    if (failures.count.get() > 0) {
      System.out.printf(Locale.ROOT, "%-11s FAILED: %d runs out of %d, first: %s%n", name, failures.count.get(),
          failures.count.get() + first.length, failures.first.get());
    }
    if (!pids.isEmpty() && cpuBefore >= 0 && cpuAfter >= 0 && first.length > 0) {
      long cpuTicks = cpuAfter - cpuBefore;
      System.out.printf(Locale.ROOT, "%-11s server CPU %.0f%% of one core, %.0f µs of CPU per run%n", name,
          cpuTicks * 10.0 / seconds / 1000 * 100, cpuTicks * 10_000.0 / first.length);
      if (pids.size() > 1) {
        StringBuilder each = new StringBuilder();
        for (int i = 0; i < pids.size(); i++) {
          each.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "pid %d %.0f µs", pids.get(i),
              (eachAfter[i] - eachBefore[i]) * 10_000.0 / first.length));
        }
        System.out.printf(Locale.ROOT, "%-11s of which, per run (with descendants): %s%n", name, each);
      }
    }
    return failures.count.get() == 0 && first.length > 0;
  }

  /**
   * User + system CPU time of the processes and of their live descendants, in clock ticks (1/100 s), from /proc; -1
   * when unreadable.
   */
  private static long cpuTicks(List<Long> pids) {
    long total = 0;
    for (long pid : descendants(pids)) {
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

  /** The processes and their descendants (from /proc/PID/task/TID/children), each once. */
  private static List<Long> descendants(List<Long> pids) {
    List<Long> all = new ArrayList<>();
    java.util.ArrayDeque<Long> pending = new java.util.ArrayDeque<>(pids);
    while (!pending.isEmpty()) {
      long pid = pending.poll();
      if (all.contains(pid)) {
        continue;
      }
      all.add(pid);
      try (var tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc/" + pid + "/task"))) {
        for (java.nio.file.Path task : tasks.toList()) {
          try {
            for (String child : java.nio.file.Files.readString(task.resolve("children")).trim().split(" ")) {
              if (!child.isEmpty()) {
                pending.add(Long.parseLong(child));
              }
            }
          } catch (java.io.IOException e) {
            // the thread ended meanwhile
          }
        }
      } catch (java.io.IOException | java.io.UncheckedIOException e) {
        // the process ended meanwhile, or /proc has no children files: count what is known
      }
    }
    return all;
  }

  private static void run(Target target, Duration duration, ConcurrentLinkedQueue<long[]> samples,
      Failures failures) {
    long deadline = System.nanoTime() + duration.toNanos();
    String runBody = "{\"assistant_id\":\"" + target.assistant() + "\",\"input\":1,\"stream_mode\":[\"updates\"]}";
    Flux.range(0, CLIENTS).flatMap(client -> Mono.defer(() -> {
      HttpClient http = target.http().get(client % target.http().size()); // a thread and its runs on one server
      Mono<String> runsPath;
      if (target.stateless()) {
        runsPath = Mono.just("/runs/stream");
      } else {
        String threadId = UUID.randomUUID().toString();
        runsPath = http.post().uri("/threads")
            .send(ByteBufFlux.fromString(Mono.just("{\"thread_id\":\"" + threadId + "\"}")))
            .responseSingle((response, body) -> body.asString().defaultIfEmpty("").flatMap(text -> {
              if (response.status().code() != 200) {
                return Mono.error(new IllegalStateException("POST /threads: " + response.status() + " " + text));
              }
              if (!text.contains(threadId)) {
                return Mono.error(new IllegalStateException("POST /threads ignored the thread id: " + text));
              }
              return Mono.just("/threads/" + threadId + "/runs/stream");
            }));
      }
      return runsPath.flatMap(path -> {
        long begin = System.nanoTime();
        long[] times = new long[2];
        StringBuilder text = new StringBuilder();
        return http.post().uri(path)
            .send(ByteBufFlux.fromString(Mono.just(runBody)))
            .response((response, body) -> {
              if (response.status().code() != 200) {
                return body.asString(StandardCharsets.UTF_8).collect(StringBuilder::new, StringBuilder::append)
                    .flatMap(error -> Mono.error(new IllegalStateException("POST " + path.replaceAll(
                        "[0-9a-f-]{36}", "{id}") + ": " + response.status() + " " + error)));
              }
              return body.asString(StandardCharsets.UTF_8).doOnNext(chunk -> {
                text.append(chunk);
                if (times[0] == 0 && (text.indexOf("\n\n") >= 0 || text.indexOf("\r\n\r\n") >= 0)) {
                  times[0] = System.nanoTime() - begin; // the first event is complete
                }
              });
            })
            .then(Mono.fromCallable(() -> {
              times[1] = System.nanoTime() - begin;
              String problem = check(text.toString());
              if (problem != null) {
                throw new IllegalStateException(problem);
              }
              if (samples != null) {
                samples.add(times);
              }
              return times;
            }));
      }).then().onErrorResume(error -> {
        failures.add(error);
        return Mono.empty();
      });
    }).repeat(() -> System.nanoTime() < deadline).then(), CLIENTS).blockLast();
  }

  /** Null when the SSE body carries exactly the {@link #EXPECTED} events, else what is wrong. */
  private static String check(String body) {
    List<String[]> events = new ArrayList<>();
    for (String block : body.replace("\r\n", "\n").split("\n\n")) {
      String event = null;
      StringBuilder data = new StringBuilder();
      for (String line : block.split("\n")) {
        if (line.startsWith("event:")) {
          event = line.substring(6).trim();
        } else if (line.startsWith("data:")) {
          data.append(line.substring(5));
        }
      }
      if (event != null) {
        events.add(new String[] {event, data.toString().replaceAll("\\s", "")});
      }
    }
    boolean matches = events.size() == EXPECTED.size();
    for (int i = 0; matches && i < events.size(); i++) {
      matches = events.get(i)[0].equals(EXPECTED.get(i)[0])
          && (EXPECTED.get(i)[1] == null || EXPECTED.get(i)[1].equals(events.get(i)[1]));
    }
    return matches ? null : "unexpected stream: " + body.replaceAll("\\s+", " ");
  }
}
