package dev.fluxgraph.micrometer;

import dev.fluxgraph.instrument.CheckpointWrite;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

/** The counters and the checkpoint write timer, on one registry. */
final class Meters {

  static final String INTERRUPTS = "fluxgraph.interrupts";
  static final String REPLAYS = "fluxgraph.replays";
  static final String RETRIES = "fluxgraph.retries";
  static final String CHECKPOINT_WRITE = "fluxgraph.checkpoint.write";

  private final MeterRegistry registry;
  private final Meter.MeterProvider<Counter> interrupts;
  private final Meter.MeterProvider<Counter> replays;
  private final Meter.MeterProvider<Counter> retries;
  private final Meter.MeterProvider<Timer> checkpointWrites;

  Meters(MeterRegistry registry) {
    this.registry = registry;
    this.interrupts = Counter.builder(INTERRUPTS).description("Interrupts raised: runs paused for human input")
        .withRegistry(registry);
    this.replays = Counter.builder(REPLAYS)
        .description("Task calls answered from the checkpoint on a resumed run: their bodies did not run again")
        .withRegistry(registry);
    this.retries = Counter.builder(RETRIES).description("Failed task attempts that a retry policy runs again")
        .withRegistry(registry);
    this.checkpointWrites = Timer.builder(CHECKPOINT_WRITE)
        .description("Writes to the checkpointer: checkpoints and task writes").withRegistry(registry);
  }

  MeterRegistry registry() {
    return registry;
  }

  void interrupt(String entrypoint, String task) {
    interrupts.withTags(Tags.of("entrypoint", entrypoint, "task", task)).increment();
  }

  void replay(String entrypoint, String task) {
    replays.withTags(Tags.of("entrypoint", entrypoint, "task", task)).increment();
  }

  void retry(String entrypoint, String task) {
    retries.withTags(Tags.of("entrypoint", entrypoint, "task", task)).increment();
  }

  Timer checkpointWrite(String entrypoint, CheckpointWrite kind, boolean failed) {
    return checkpointWrites.withTags(Tags.of("entrypoint", entrypoint, "kind", kind.tagValue(), "outcome",
        failed ? "error" : "completed"));
  }
}
