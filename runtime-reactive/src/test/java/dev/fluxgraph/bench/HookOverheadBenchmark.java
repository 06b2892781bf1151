package dev.fluxgraph.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.IntConsumer;
import reactor.core.publisher.Flux;

/**
 * What the instrumentation hook costs a 1-task run when no instrumentation is installed. Run once on the class path
 * of the engine before the hook and once on the current one (alternately, several times: {@code
 * scripts/bench-hook.sh}); each run measures, in turn, run after run (every other round in reverse order), after a
 * common warm-up, in batches of 100 runs whose thread CPU time is taken (less disturbed by the machine's other work
 * than wall time, which is shown too): the 1-task workflow on {@code InMemorySaver} and without a checkpointer, a plain Reactor reference
 * that does not touch the engine, and a second 1-task workflow on {@code InMemorySaver} (how far two identical
 * workflows differ within one JVM) or, with {@code empty-hook}, the 1-task workflow with a hook installed that
 * ignores everything but is not {@code Instrumentation.none()}: a run of its own, as that hook's observer types
 * would otherwise reach the engine's call sites in the runs without a hook too. Each workflow's median divided by the reference's, in
 * the same run, is what compares across runs of a noisy machine.
 *
 * <p>Arguments: a label for the output, optionally the number of measured runs per variant (default 20000) and
 * {@code empty-hook}.
 */
public final class HookOverheadBenchmark {

  private HookOverheadBenchmark() {
  }

  private static final int BATCH = 100;

  private record Variant(String name, IntConsumer run) {
  }

  public static void main(String[] args) throws Exception {
    String label = args.length > 0 ? args[0] : "engine";
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
    List<Variant> variants = new ArrayList<>(List.of(
        new Variant("reference: plain Reactor (no engine)", HookOverheadBenchmark::reference),
        new Variant("1 task, InMemorySaver", OneTaskWorkload.withSaver()),
        new Variant("1 task, no checkpointer", OneTaskWorkload.withoutSaver())));
    if (args.length > 2 && args[2].equals("empty-hook")) {
      variants.add(new Variant("1 task, InMemorySaver, empty hook", (IntConsumer) Class.forName(
          "dev.fluxgraph.bench.HookedWorkload").getMethod("withSaver").invoke(null)));
    } else { // the same number of workflows in turn for both engines, and the same twice: the noise within a JVM
      variants.add(new Variant("1 task, InMemorySaver (a second one)", OneTaskWorkload.withSaver()));
    }
    long warmUpEnd = System.nanoTime() + 5_000_000_000L;
    for (int i = 0; i < runs || System.nanoTime() < warmUpEnd; i++) {
      for (Variant variant : variants) {
        variant.run().accept(-1 - i);
      }
    }
    // Every run executes on this thread (no scheduler hop: InMemorySaver answers synchronously), so its thread CPU
    // time is its cost, whatever else the machine runs meanwhile; taken per batch, as reading it costs a system call.
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    int batches = Math.max(1, runs / BATCH);
    long[][] wall = new long[variants.size()][batches];
    long[][] busy = new long[variants.size()][batches];
    for (int b = 0; b < batches; b++) {
      for (int step = 0; step < variants.size(); step++) {
        int k = b % 2 == 0 ? step : variants.size() - 1 - step; // every other round backwards: no position bias
        IntConsumer run = variants.get(k).run();
        long startCpu = cpu.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        for (int i = b * BATCH; i < (b + 1) * BATCH; i++) {
          run.accept(i);
        }
        wall[k][b] = System.nanoTime() - start;
        busy[k][b] = cpu.getCurrentThreadCpuTime() - startCpu;
      }
    }
    System.out.printf(Locale.ROOT, "%s: Java %s, %d processors, %d batches of %d runs per variant%n", label,
        System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), batches, BATCH);
    System.out.printf(Locale.ROOT, "%-40s %14s %14s %14s %12s%n", "variant", "CPU p50 µs", "CPU p10 µs",
        "wall p50 µs", "CPU ÷ ref");
    double reference = 0;
    for (int k = 0; k < variants.size(); k++) {
      long[] cpuSorted = busy[k];
      long[] wallSorted = wall[k];
      Arrays.sort(cpuSorted);
      Arrays.sort(wallSorted);
      double median = cpuSorted[batches / 2] / 1e3 / BATCH;
      if (k == 0) {
        reference = median;
      }
      System.out.printf(Locale.ROOT, "%-40s %14.3f %14.3f %14.3f %12.3f%n", variants.get(k).name(), median,
          cpuSorted[batches / 10] / 1e3 / BATCH, wallSorted[batches / 2] / 1e3 / BATCH, median / reference);
    }
  }

  /** Reactor's own work of about the size of a 1-task run: a small pipeline, blocked on. */
  private static void reference(int i) {
    Flux.range(i, 40).map(n -> n + 1).filter(n -> n % 3 != 0).reduce(0, Integer::sum).block();
  }

}
