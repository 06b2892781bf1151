package dev.fluxgraph.bench;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.CompiledGraph;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.TypeRef;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Per-run latency of small workflows on the in-memory checkpointer: a 1-task workflow and a workflow that calls
 * 100 tasks in parallel, each with and without a checkpointer. Each run is {@code invoke(...).block()} on a
 * fresh thread id (deleted after the run, outside the timed part), after at least three seconds of warm-up per
 * workflow; prints the count, median, 90th and 99th percentile in microseconds. The optional argument is the number
 * of measured 1-task runs (the 100-task workflows are measured a twentieth as often); a further argument
 * {@code keep} keeps every thread in the saver instead of deleting it after its run, and {@code sequential} runs
 * only the comparison of sequential and parallel calls (see {@link #sequentialAgainstParallel}). Run with:
 * {@code mvn -B -q -pl runtime-reactive test-compile exec:java -Dexec.mainClass=dev.fluxgraph.bench.RuntimeBenchmark -Dexec.classpathScope=test}
 */
public final class RuntimeBenchmark {

  private RuntimeBenchmark() {
  }

  public static void main(String[] args) {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    InMemorySaver saver = new InMemorySaver();
    Task<Integer, Integer> addOne = Task.of("add_one", Integer.class, n -> Mono.just(n + 1));

    Entrypoint<Integer, Integer> oneTask = Entrypoint.named("one_task").checkpointer(saver)
        .define(Integer.class, Integer.class, (n, context) -> addOne.call(n));
    Entrypoint<Integer, Integer> oneTaskNoSaver = Entrypoint.named("one_task")
        .define(Integer.class, Integer.class, (n, context) -> addOne.call(n));
    Entrypoint<Integer, List<Integer>> parallel = Entrypoint.named("parallel").checkpointer(saver)
        .define(TypeRef.of(Integer.class), new TypeRef<List<Integer>>() { },
            (n, context) -> Flux.range(0, n).flatMap(addOne::call).collectList());
    Entrypoint<Integer, List<Integer>> parallelNoSaver = Entrypoint.named("parallel")
        .define(TypeRef.of(Integer.class), new TypeRef<List<Integer>>() { },
            (n, context) -> Flux.range(0, n).flatMap(addOne::call).collectList());

    System.out.printf(Locale.ROOT, "Java %s (%s), %d processors, max heap %d MiB%n", System.getProperty("java.version"),
        System.getProperty("java.vm.name"), Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20);
    System.out.printf(Locale.ROOT, "%-40s %8s %10s %10s %10s%n", "workflow", "runs", "p50 µs", "p90 µs", "p99 µs");
    // Threads are deleted after each run (outside the timed part) so that the heap does not grow run after run.
    // With "keep" as the second argument they are kept, as in a long-lived process without retention.
    List<String> options = Arrays.asList(args).subList(Math.min(1, args.length), args.length);
    boolean keep = options.contains("keep");
    IntFunction<Mono<?>> nothing = i -> Mono.empty();
    if (options.contains("sequential")) {
      sequentialAgainstParallel(runs / 20, saver, addOne);
      return;
    }
    measure("1 task, InMemorySaver", runs, i -> oneTask.invoke(i, RunConfig.thread(threadId("one", i))),
        keep ? nothing : i -> saver.deleteThread(threadId("one", i)));
    measure("1 task, no checkpointer", runs, i -> oneTaskNoSaver.invoke(i, RunConfig.none()), nothing);
    measure("100 parallel tasks, InMemorySaver", runs / 20,
        i -> parallel.invoke(100, RunConfig.thread(threadId("parallel", i))),
        keep ? nothing : i -> saver.deleteThread(threadId("parallel", i)));
    measure("100 parallel tasks, no checkpointer", runs / 20, i -> parallelNoSaver.invoke(100, RunConfig.none()),
        nothing);

    // The Graph API on the same engine: one node, and ten nodes in a chain (a checkpoint after every superstep).
    CompiledGraph<Map<String, Object>> oneNode = chain(1, saver);
    CompiledGraph<Map<String, Object>> tenNodes = chain(10, saver);
    measure("graph, 1 node, InMemorySaver", runs, i -> oneNode.invoke(Map.of("n", i), RunConfig.thread(threadId("g1", i))),
        keep ? nothing : i -> saver.deleteThread(threadId("g1", i)));
    measure("graph, 10 nodes in a chain, InMemorySaver", runs / 5,
        i -> tenNodes.invoke(Map.of("n", i), RunConfig.thread(threadId("g10", i))),
        keep ? nothing : i -> saver.deleteThread(threadId("g10", i)));

    sequentialAgainstParallel(runs / 20, saver, addOne);
  }

  /**
   * 100 task calls one after the other ({@code Mono.just(0)} then 100 {@code .flatMap(addOne::call)}) against 100
   * side by side ({@code Flux.range(0, 100).flatMap(addOne::call)}), on {@code InMemorySaver}, a fresh thread per
   * run, and the same two shapes of plain {@code Mono}s without the engine (Reactor's share). The four are measured
   * in turn, run after run, after a common warm-up of three seconds, so that their ratios compare like with like on
   * a noisy machine.
   */
  private static void sequentialAgainstParallel(int runs, InMemorySaver saver, Task<Integer, Integer> addOne) {
    int calls = 100;
    Entrypoint<Integer, Integer> sequential = Entrypoint.named("sequential").checkpointer(saver)
        .define(Integer.class, Integer.class, (n, context) -> {
          Mono<Integer> chain = Mono.just(0);
          for (int i = 0; i < n; i++) {
            chain = chain.flatMap(addOne::call);
          }
          return chain;
        });
    Entrypoint<Integer, List<Integer>> parallel = Entrypoint.named("parallel").checkpointer(saver)
        .define(TypeRef.of(Integer.class), new TypeRef<List<Integer>>() { },
            (n, context) -> Flux.range(0, n).flatMap(addOne::call).collectList());
    List<String> names = List.of("100 sequential tasks, InMemorySaver", "100 parallel tasks, InMemorySaver",
        "100 sequential plain Monos (no engine)", "100 parallel plain Monos (no engine)");
    List<IntFunction<Mono<?>>> workflows = List.of(
        i -> sequential.invoke(calls, RunConfig.thread(threadId("sequential", i))),
        i -> parallel.invoke(calls, RunConfig.thread(threadId("parallel", i))),
        i -> {
          Mono<Integer> chain = Mono.just(0);
          for (int k = 0; k < calls; k++) {
            chain = chain.flatMap(n -> Mono.just(n + 1));
          }
          return chain;
        },
        i -> Flux.range(0, calls).flatMap(n -> Mono.just(n + 1)).collectList());
    List<IntFunction<Mono<?>>> cleanUps = List.of(i -> saver.deleteThread(threadId("sequential", i)),
        i -> saver.deleteThread(threadId("parallel", i)), i -> Mono.empty(), i -> Mono.empty());
    long warmUpEnd = System.nanoTime() + 3_000_000_000L;
    for (int i = 0; i < runs || System.nanoTime() < warmUpEnd; i++) {
      for (int k = 0; k < workflows.size(); k++) {
        workflows.get(k).apply(-1 - i).block();
        cleanUps.get(k).apply(-1 - i).block();
      }
    }
    long[][] nanos = new long[workflows.size()][runs];
    for (int i = 0; i < runs; i++) {
      for (int k = 0; k < workflows.size(); k++) {
        long start = System.nanoTime();
        workflows.get(k).apply(i).block();
        nanos[k][i] = System.nanoTime() - start;
        cleanUps.get(k).apply(i).block();
      }
    }
    double[] medians = new double[workflows.size()];
    for (int k = 0; k < workflows.size(); k++) {
      long[] sorted = nanos[k];
      Arrays.sort(sorted);
      medians[k] = sorted[runs / 2] / 1e3;
      System.out.printf(Locale.ROOT, "%-40s %8d %10.1f %10.1f %10.1f   %5.2f µs per call%n", names.get(k), runs,
          medians[k], sorted[runs * 9 / 10] / 1e3, sorted[runs * 99 / 100] / 1e3, medians[k] / calls);
    }
    System.out.printf(Locale.ROOT, "sequential / parallel (p50): tasks %.2f, plain Monos %.2f%n",
        medians[0] / medians[1], medians[2] / medians[3]);
  }

  /** A graph of {@code length} nodes in a chain, each adding one to "n". */
  private static CompiledGraph<Map<String, Object>> chain(int length, InMemorySaver saver) {
    StateGraph<Map<String, Object>> graph = StateGraph.ofMap();
    String previous = StateGraph.START;
    for (int i = 0; i < length; i++) {
      String node = "add_one_" + i;
      graph.addNode(node, (state, context) -> Mono.just(Map.of("n", ((Number) state.get("n")).intValue() + 1)));
      graph.addEdge(previous, node);
      previous = node;
    }
    return graph.compile(CompileOptions.defaults().withCheckpointer(saver));
  }

  /** A thread id used by exactly one run (warm-up runs count down from -1, measured ones up from 0). */
  private static String threadId(String workflow, int run) {
    return workflow + "-" + run;
  }

  private static void measure(String name, int runs, IntFunction<Mono<?>> run, IntFunction<Mono<?>> cleanUp) {
    long warmUpEnd = System.nanoTime() + 3_000_000_000L; // three seconds of warm-up for the JIT
    for (int i = 0; i < runs || System.nanoTime() < warmUpEnd; i++) {
      run.apply(-1 - i).block();
      cleanUp.apply(-1 - i).block();
    }
    long[] nanos = new long[runs];
    for (int i = 0; i < runs; i++) {
      long start = System.nanoTime();
      run.apply(i).block();
      nanos[i] = System.nanoTime() - start;
      cleanUp.apply(i).block();
    }
    Arrays.sort(nanos);
    System.out.printf(Locale.ROOT, "%-40s %8d %10.1f %10.1f %10.1f%n", name, runs, nanos[runs / 2] / 1e3,
        nanos[runs * 9 / 10] / 1e3, nanos[runs * 99 / 100] / 1e3);
  }
}
