package dev.fluxgraph.micrometer;

import dev.fluxgraph.instrument.TaskOutcome;
import dev.fluxgraph.micrometer.FluxgraphObservationDocumentation.TaskHighCardinalityKeys;
import dev.fluxgraph.micrometer.FluxgraphObservationDocumentation.TaskKeys;
import io.micrometer.common.KeyValues;

/**
 * {@code fluxgraph.task}, contextual name {@code execute_tool <task>}; low-cardinality {@code entrypoint},
 * {@code task}, {@code outcome} ({@code running} until the end), {@code gen_ai.operation.name=execute_tool};
 * high-cardinality {@code fluxgraph.task.attempts}, {@code gen_ai.tool.name}, {@code gen_ai.tool.call.id} and
 * {@code gen_ai.conversation.id}.
 */
public class DefaultTaskObservationConvention implements TaskObservationConvention {

  /** The observation's name, also the name of its timer. */
  public static final String NAME = "fluxgraph.task";
  static final DefaultTaskObservationConvention INSTANCE = new DefaultTaskObservationConvention();

  @Override
  public String getName() {
    return NAME;
  }

  @Override
  public String getContextualName(TaskObservationContext context) {
    return "execute_tool " + context.task();
  }

  @Override
  public KeyValues getLowCardinalityKeyValues(TaskObservationContext context) {
    TaskOutcome outcome = context.outcome();
    return KeyValues.of(TaskKeys.ENTRYPOINT.withValue(context.run().entrypoint()),
        TaskKeys.TASK.withValue(context.task()),
        TaskKeys.OUTCOME.withValue(outcome == null ? "running" : outcome.tagValue()),
        TaskKeys.OPERATION.withValue("execute_tool"));
  }

  @Override
  public KeyValues getHighCardinalityKeyValues(TaskObservationContext context) {
    KeyValues values = KeyValues.of(TaskHighCardinalityKeys.ATTEMPTS.withValue(Integer.toString(context.attempts())),
        TaskHighCardinalityKeys.TOOL.withValue(context.task()),
        TaskHighCardinalityKeys.CALL_ID.withValue(context.callId()));
    String thread = context.run().threadId();
    return thread == null ? values : values.and(TaskHighCardinalityKeys.CONVERSATION.withValue(thread));
  }
}
