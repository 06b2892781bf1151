package dev.fluxgraph.samples;

import dev.fluxgraph.samples.model.ChatModel;
import java.util.List;
import java.util.Optional;

/**
 * Every sample, in the order of the reference documents. Samples that need a model use
 * {@link ChatModel#fromEnvironment()}: a real OpenAI-compatible endpoint when {@code OPENAI_BASE_URL} is set,
 * the deterministic offline model otherwise.
 */
public final class Samples {

  private static final ChatModel MODEL = ChatModel.fromEnvironment();

  private static final List<Sample> ALL = List.of(
      new SimpleWorkflow(), new ComposeEssay(MODEL), new ParallelExecution(), new ParallelParagraphs(MODEL),
      new CallingGraph(), new CallingEntrypoints(), new Streaming(), new RetryPolicySample(), new Timeouts(), new Caching(),
      new ResumeAfterError(), new HumanInTheLoop(), new ReviewWorkflow(), new ReviewToolCalls(MODEL),
      new ThreadState(), new FinalAccumulate(), new PreviousValue(), new Chatbot(MODEL), new LongTermMemory(),
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
