package dev.fluxgraph.postgres.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.fluxgraph.checkpoint.Checkpoint;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.CheckpointTuple;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.checkpoint.PendingWrite;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.CompiledGraph;
import dev.fluxgraph.graph.Reducers;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.internal.Json;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.types.RunConfig;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.function.IntFunction;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * How a run's cost grows with its thread, on {@link InMemorySaver} and on {@link PostgresSaver}, one client, one
 * run at a time:
 * <ol>
 *   <li><b>history</b>: a 1-task entrypoint run on a thread that already has {@code checkpoints} earlier
 *       checkpoints, against the same run on a fresh thread, alternating; also reading the thread's oldest
 *       checkpoint by id (time travel) on both;</li>
 *   <li><b>growing state</b>: a graph ({@code StateGraph.ofMap()}, {@code Reducers.messages()} on "messages") whose
 *       input adds one message per run, up to {@code messages} runs on one thread: per-run latency, and the JSON
 *       the run hands to the saver (checkpoint values and metadata, writes) against the JSON of the state itself;
 *       on PostgreSQL also what the rows hold, read back with SQL.</li>
 * </ol>
 * Arguments: [r2dbc url, or - for an embedded PostgreSQL] [earlier checkpoints, default 10000] [messages, default
 * 1000] [{@code history}, {@code state} or {@code all}, the default]. Run with {@code scripts/bench-thread-length.sh}.
 */
public final class ThreadLengthBenchmark {

  private static final String TEXT = "The quick brown fox jumps over the lazy dog; a message of about a hundred"
      + " characters, as a chat has.";

  private ThreadLengthBenchmark() {
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
    int checkpoints = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
    int messages = args.length > 2 ? Integer.parseInt(args[2]) : 1_000;
    String part = args.length > 3 ? args[3] : "all";
    System.out.printf(Locale.ROOT, "Java %s, %d processors%n", System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors());
    try (PostgresSaver postgres = PostgresSaver.connect(url)) {
      postgres.setup().block();
      if (!part.equals("state")) {
        history("InMemorySaver", new InMemorySaver(), checkpoints, 4_000);
        history("PostgresSaver", postgres, checkpoints, 1_000);
      }
      if (!part.equals("history")) {
        growingState("InMemorySaver", new InMemorySaver(), null, messages, 5);
        growingState("PostgresSaver", postgres, postgres.connectionFactory(), messages, 3);
        retainedHeap(messages);
      }
    } finally {
      if (embedded != null) {
        embedded.close();
      }
    }
  }

  // ---------------------------------------------------------------- a long history

  private static void history(String saverName, CheckpointSaver saver, int checkpoints, int runs) {
    Task<Integer, Integer> addOne = Task.of("add_one", Integer.class, n -> Mono.just(n + 1));
    Entrypoint<Integer, Integer> workflow = Entrypoint.named("one_task").checkpointer(saver)
        .define(Integer.class, Integer.class, (n, context) -> addOne.call(n));
    String prefix = UUID.randomUUID().toString();
    String longThread = prefix + "-long";
    long start = System.nanoTime();
    for (int i = 0; i < checkpoints / 2; i++) { // a completed run adds two checkpoints: its input and its end
      workflow.invoke(i, RunConfig.thread(longThread)).block();
    }
    long filled = saver.list(longThread, "", null, Integer.MAX_VALUE).count().blockOptional().orElse(0L);
    System.out.printf(Locale.ROOT, "%n%s: %d checkpoints on one thread, written in %.1f s%n", saverName, filled,
        (System.nanoTime() - start) / 1e9);
    String oldest = saver.list(longThread, "", null, Integer.MAX_VALUE).last().block().checkpoint().id();

    // Short threads: ten earlier checkpoints each, written before the timed run (a run with a previous run reads
    // and carries its saved value, which a fresh thread's first run does not).
    IntFunction<Mono<?>> fillShort = i -> Flux.range(0, 5)
        .concatMap(k -> workflow.invoke(k, RunConfig.thread(prefix + "-short-" + i))).then();
    String shortThread = prefix + "-short";
    fillShort.apply(-1).then(Mono.defer(() -> Flux.range(0, 5)
        .concatMap(k -> workflow.invoke(k, RunConfig.thread(shortThread))).then())).block();
    String oldestOfShort = saver.list(shortThread, "", null, Integer.MAX_VALUE).last().block().checkpoint().id();
    IntFunction<Mono<?>> nothing = i -> Mono.empty();
    List<Operation> operations = List.of(
        new Operation("1-task run, fresh thread", nothing,
            i -> workflow.invoke(i, RunConfig.thread(prefix + "-fresh-" + i))),
        new Operation("1-task run, thread with 10 checkpoints", fillShort,
            i -> workflow.invoke(i, RunConfig.thread(prefix + "-short-" + i))),
        new Operation("1-task run, thread with " + filled + "+ checkpoints", nothing,
            i -> workflow.invoke(i, RunConfig.thread(longThread))),
        new Operation("get oldest checkpoint by id, thread of 10 checkpoints", nothing,
            i -> saver.get(shortThread, "", oldestOfShort)),
        new Operation("get oldest checkpoint by id, thread of " + filled + "+", nothing,
            i -> saver.get(longThread, "", oldest)));
    long[][] nanos = alternate(runs, operations);
    System.out.printf(Locale.ROOT, "%-58s %8s %10s %10s%n", "operation", "count", "p50 µs", "p90 µs");
    for (int k = 0; k < operations.size(); k++) {
      print(operations.get(k).name(), nanos[k]);
    }
    System.out.printf(Locale.ROOT, "run on the long thread / on a thread of 10 checkpoints (p50): %.2f%n",
        (double) median(nanos[2]) / median(nanos[1]));
  }

  /** A timed operation, and what it needs done first (not timed). */
  private record Operation(String name, IntFunction<Mono<?>> prepare, IntFunction<Mono<?>> timed) {
  }

  /** Alternates the operations (after a warm-up of 3 s) so that all see the same machine; nanoseconds each. */
  private static long[][] alternate(int runs, List<Operation> operations) {
    long warmUpEnd = System.nanoTime() + 3_000_000_000L;
    for (int i = 0; System.nanoTime() < warmUpEnd; i++) {
      for (Operation operation : operations) {
        operation.prepare().apply(runs + i).block();
        operation.timed().apply(runs + i).block();
      }
    }
    long[][] nanos = new long[operations.size()][runs];
    for (int run = 0; run < runs; run++) {
      for (int k = 0; k < operations.size(); k++) {
        operations.get(k).prepare().apply(run).block();
        long begin = System.nanoTime();
        operations.get(k).timed().apply(run).block();
        nanos[k][run] = System.nanoTime() - begin;
      }
    }
    return nanos;
  }

  // ---------------------------------------------------------------- a growing state

  /**
   * {@code threads} threads grow in step, one run each per size; between runs (not timed) each thread is trimmed to
   * its newest checkpoint, so that the figures show the cost of the state and not of a heap (in memory) or tables
   * (PostgreSQL) holding every earlier copy of it; the history's own cost is measured by {@link #history}. The
   * bytes are those of thread 0's runs. Finally one thread grows to {@code messages} without trimming, on
   * {@code InMemorySaver}, to show the heap that a thread's history holds.
   */
  private static void growingState(String saverName, CheckpointSaver saver, @Nullable ConnectionFactory sql,
                                   int messages, int threads) throws JsonProcessingException {
    Recording recording = new Recording(saver);
    CompiledGraph<Map<String, Object>> chat = chat(recording);
    String prefix = "chat-" + UUID.randomUUID() + "-";
    // Warm-up on other threads, up to a tenth of the length, for 3 s at least.
    long warmUpEnd = System.nanoTime() + 3_000_000_000L;
    for (int t = 0; System.nanoTime() < warmUpEnd; t++) {
      String thread = prefix + "warm-" + t;
      for (int k = 0; k < Math.max(10, messages / 10); k++) {
        chat.invoke(Map.of("messages", List.of(message(k))), RunConfig.thread(thread)).block();
      }
      saver.deleteThread(thread).block();
    }
    System.out.printf(Locale.ROOT, "%n%s: a graph whose state gains one message per run, %d threads in step%n",
        saverName, threads);
    System.out.printf(Locale.ROOT, "%9s %10s %10s %12s %12s %11s %10s%s%n", "messages", "p50 µs", "µs/message",
        "state bytes", "bytes/run", "checkpoints", "÷ state", sql == null ? "" : "  stored by the run (SQL)");
    List<Integer> report = new ArrayList<>(List.of(1, 10, 100, 250, 500, 750, messages));
    report.removeIf(size -> size > messages);
    int window = 11; // sizes timed around each reported one, on every thread
    long[][] nanos = new long[messages][threads];
    for (int k = 0; k < messages; k++) {
      Map<String, Object> input = Map.of("messages", List.of(message(k)));
      int size = k + 1;
      String measured = null;
      for (int t = 0; t < threads; t++) {
        String thread = prefix + t;
        String before = k == 0 ? "" : saver.get(thread, "", null).block().checkpoint().id();
        recording.clear();
        long begin = System.nanoTime();
        chat.invoke(input, RunConfig.thread(thread)).block();
        nanos[k][t] = System.nanoTime() - begin;
        if (t == 0 && report.contains(size)) {
          CheckpointTuple latest = saver.get(thread, "", null).block();
          int stateBytes = Json.mapper().writeValueAsBytes(latest.checkpoint().values().get("__state__")).length;
          long written = recording.bytes();
          String stored = "";
          if (sql != null) {
            long[] rows = storedSince(sql, thread, before);
            stored = String.format(Locale.ROOT, "  %,d bytes in %d rows", rows[0], rows[1]);
          }
          measured = String.format(Locale.ROOT, "%,12d %,12d %11d %10.2f%s", stateBytes, written,
              recording.checkpoints(), (double) written / stateBytes, stored);
        }
        trim(saver, sql, thread);
      }
      if (measured != null) {
        long[] around = Arrays.stream(nanos, Math.max(0, k - window + 1), k + 1).flatMapToLong(Arrays::stream)
            .toArray();
        System.out.printf(Locale.ROOT, "%9d %10.1f %10.3f %s%n", size, median(around) / 1e3,
            median(around) / 1e3 / size, measured);
      }
    }
    for (int t = 0; t < threads; t++) {
      saver.deleteThread(prefix + t).block();
    }
  }

  private static CompiledGraph<Map<String, Object>> chat(CheckpointSaver saver) {
    return StateGraph.ofMap()
        .reducer("messages", Reducers.messages())
        .addNode("count", (state, context) -> Mono.just(Map.of("turns", ((List<?>) state.get("messages")).size())))
        .addEdge(StateGraph.START, "count")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
  }

  /** Keeps only the thread's newest checkpoint (and its writes). */
  private static void trim(CheckpointSaver saver, @Nullable ConnectionFactory sql, String thread) {
    CheckpointTuple latest = saver.get(thread, "", null).block();
    if (sql == null) {
      saver.deleteThread(thread).then(saver.put(latest.checkpoint()))
          .then(latest.writes().isEmpty() ? Mono.empty()
              : saver.putWrites(thread, "", latest.checkpoint().id(), latest.writes()))
          .block();
      return;
    }
    Mono.usingWhen(Mono.from(sql.create()), connection -> Mono.from(connection.createStatement(
                "DELETE FROM fluxgraph_checkpoints WHERE thread_id = $1 AND checkpoint_id < $2")
            .bind("$1", thread).bind("$2", latest.checkpoint().id()).execute())
        .flatMap(result -> Mono.from(result.getRowsUpdated())), Connection::close).block();
  }

  /** The heap one thread's history holds in memory: {@code messages} runs of the chat graph, nothing trimmed. */
  private static void retainedHeap(int messages) {
    InMemorySaver saver = new InMemorySaver();
    CompiledGraph<Map<String, Object>> chat = chat(saver);
    long before = usedHeapAfterGc();
    for (int k = 0; k < messages; k++) {
      chat.invoke(Map.of("messages", List.of(message(k))), RunConfig.thread("retained")).block();
    }
    long after = usedHeapAfterGc();
    long checkpoints = saver.list("retained", "", null, Integer.MAX_VALUE).count().block();
    System.out.printf(Locale.ROOT, "%nInMemorySaver, one thread of %d runs of the chat graph, nothing trimmed: %d "
        + "checkpoints, %.0f MB of heap%n", messages, checkpoints, (after - before) / 1e6);
  }

  private static long usedHeapAfterGc() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    Runtime runtime = Runtime.getRuntime();
    return runtime.totalMemory() - runtime.freeMemory();
  }

  /** A message with an id, as {@code Reducers.messages()} keeps them. */
  private static Map<String, Object> message(int k) {
    return Map.of("id", "m" + k, "type", k % 2 == 0 ? "human" : "ai", "content", k + ": " + TEXT);
  }

  /** What PostgreSQL holds for the checkpoints after {@code after} and their writes: bytes as text, rows. */
  private static long[] storedSince(ConnectionFactory factory, String thread, String after) {
    String sql = """
        SELECT (SELECT coalesce(sum(octet_length(metadata::text) + octet_length(channel_values::text)), 0)
                  FROM fluxgraph_checkpoints WHERE thread_id = $1 AND checkpoint_id > $2)
             + (SELECT coalesce(sum(octet_length(value::text)), 0)
                  FROM fluxgraph_writes WHERE thread_id = $1 AND checkpoint_id > $2) AS bytes,
               (SELECT count(*) FROM fluxgraph_checkpoints WHERE thread_id = $1 AND checkpoint_id > $2)
             + (SELECT count(*) FROM fluxgraph_writes WHERE thread_id = $1 AND checkpoint_id > $2) AS rows""";
    return Mono.usingWhen(Mono.from(factory.create()), connection -> Mono.from(connection.createStatement(sql)
                .bind("$1", thread).bind("$2", after).execute())
            .flatMap(result -> Mono.from(result.map(row -> new long[] {
                ((Number) row.get("bytes")).longValue(), ((Number) row.get("rows")).longValue()}))),
        Connection::close).block();
  }

  /**
   * Passes everything to the saver and keeps what one run saved (checkpoints and writes) so that its JSON can be
   * measured afterwards, outside the timed part.
   */
  private static final class Recording implements CheckpointSaver {
    private final CheckpointSaver saver;
    private final List<Checkpoint> checkpoints = new ArrayList<>();
    private final List<PendingWrite> writes = new ArrayList<>();

    Recording(CheckpointSaver saver) {
      this.saver = saver;
    }

    synchronized void clear() {
      checkpoints.clear();
      writes.clear();
    }

    synchronized int checkpoints() {
      return checkpoints.size();
    }

    /** The JSON text of the saved checkpoints' metadata and values and of the writes' values, in bytes. */
    synchronized long bytes() throws JsonProcessingException {
      long bytes = 0;
      for (Checkpoint checkpoint : checkpoints) {
        bytes += Json.mapper().writeValueAsBytes(checkpoint.metadata()).length;
        bytes += Json.mapper().writeValueAsBytes(checkpoint.values()).length;
      }
      for (PendingWrite write : writes) {
        bytes += Json.mapper().writeValueAsBytes(write.value()).length;
      }
      return bytes;
    }

    @Override
    public Mono<CheckpointTuple> get(String threadId, String namespace, @Nullable String checkpointId) {
      return saver.get(threadId, namespace, checkpointId);
    }

    @Override
    public Flux<CheckpointTuple> list(String threadId, String namespace, @Nullable String before, int limit) {
      return saver.list(threadId, namespace, before, limit);
    }

    @Override
    public Mono<Void> put(Checkpoint checkpoint) {
      return saver.put(checkpoint).doOnSuccess(done -> {
        synchronized (this) {
          checkpoints.add(checkpoint);
        }
      });
    }

    @Override
    public Mono<Void> putWrites(String threadId, String namespace, String checkpointId, List<PendingWrite> added) {
      return saver.putWrites(threadId, namespace, checkpointId, added).doOnSuccess(done -> {
        synchronized (this) {
          writes.addAll(added);
        }
      });
    }

    @Override
    public Mono<Void> deleteThread(String threadId) {
      return saver.deleteThread(threadId);
    }
  }

  private static long median(long[] nanos) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  private static void print(String name, long[] nanos) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    System.out.printf(Locale.ROOT, "%-58s %8d %10.1f %10.1f%n", name, sorted.length, sorted[sorted.length / 2] / 1e3,
        sorted[sorted.length * 9 / 10] / 1e3);
  }
}
