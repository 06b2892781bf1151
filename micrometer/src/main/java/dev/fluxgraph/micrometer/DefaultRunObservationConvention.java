package dev.fluxgraph.micrometer;

import dev.fluxgraph.instrument.RunOutcome;
import dev.fluxgraph.micrometer.FluxgraphObservationDocumentation.RunHighCardinalityKeys;
import dev.fluxgraph.micrometer.FluxgraphObservationDocumentation.RunKeys;
import io.micrometer.common.KeyValues;

/**
 * {@code fluxgraph.run}, contextual name {@code invoke_workflow <entrypoint>}; low-cardinality {@code entrypoint},
 * {@code outcome} ({@code running} until the end), {@code gen_ai.operation.name=invoke_workflow}; high-cardinality
 * {@code gen_ai.conversation.id} (the thread id, when there is one).
 */
public class DefaultRunObservationConvention implements RunObservationConvention {

  /** The observation's name, also the name of its timer. */
  public static final String NAME = "fluxgraph.run";
  static final DefaultRunObservationConvention INSTANCE = new DefaultRunObservationConvention();

  @Override
  public String getName() {
    return NAME;
  }

  @Override
  public String getContextualName(RunObservationContext context) {
    return "invoke_workflow " + context.entrypoint();
  }

  @Override
  public KeyValues getLowCardinalityKeyValues(RunObservationContext context) {
    RunOutcome outcome = context.outcome();
    return KeyValues.of(RunKeys.ENTRYPOINT.withValue(context.entrypoint()),
        RunKeys.OUTCOME.withValue(outcome == null ? "running" : outcome.tagValue()),
        RunKeys.OPERATION.withValue("invoke_workflow"));
  }

  @Override
  public KeyValues getHighCardinalityKeyValues(RunObservationContext context) {
    String thread = context.threadId();
    return thread == null ? KeyValues.empty() : KeyValues.of(RunHighCardinalityKeys.CONVERSATION.withValue(thread));
  }
}
