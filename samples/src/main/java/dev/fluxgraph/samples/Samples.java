package dev.fluxgraph.samples;

import java.util.List;
import java.util.Optional;

/** Every sample, in the order of the reference documents. */
public final class Samples {

  private static final List<Sample> ALL = List.of(
      new SimpleWorkflow(), new ParallelExecution(), new CallingEntrypoints(), new Streaming(),
      new RetryPolicySample(), new Timeouts(), new Caching(), new ResumeAfterError(), new HumanInTheLoop(),
      new ReviewWorkflow(), new ThreadState(), new FinalAccumulate(), new PreviousValue(), new LongTermMemory(),
      new Determinism());

  private Samples() {
  }

  public static List<Sample> all() {
    return ALL;
  }

  public static Optional<Sample> named(String name) {
    return ALL.stream().filter(sample -> sample.name().equals(name)).findFirst();
  }
}
