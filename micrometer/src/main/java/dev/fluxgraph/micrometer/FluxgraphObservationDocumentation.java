package dev.fluxgraph.micrometer;

import io.micrometer.common.docs.KeyName;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;
import io.micrometer.observation.docs.ObservationDocumentation;

/**
 * The observations Fluxgraph makes, with their key names: what dashboards and trace queries can rely on.
 * Low-cardinality keys are metric tags (a fixed set per observation); high-cardinality keys are span attributes only.
 */
public enum FluxgraphObservationDocumentation implements ObservationDocumentation {

  /**
   * One run of an entrypoint or graph, from subscription to its end: contextual name
   * {@code invoke_workflow <entrypoint>}.
   */
  RUN {
    @Override
    public Class<? extends ObservationConvention<? extends Observation.Context>> getDefaultConvention() {
      return DefaultRunObservationConvention.class;
    }

    @Override
    public KeyName[] getLowCardinalityKeyNames() {
      return RunKeys.values();
    }

    @Override
    public KeyName[] getHighCardinalityKeyNames() {
      return RunHighCardinalityKeys.values();
    }
  },

  /**
   * One executed task call (or graph node, or nested entrypoint), from its start to its end, retries included:
   * contextual name {@code execute_tool <task>}. Calls answered from the checkpoint make none (they count in
   * {@code fluxgraph.replays}).
   */
  TASK {
    @Override
    public Class<? extends ObservationConvention<? extends Observation.Context>> getDefaultConvention() {
      return DefaultTaskObservationConvention.class;
    }

    @Override
    public KeyName[] getLowCardinalityKeyNames() {
      return TaskKeys.values();
    }

    @Override
    public KeyName[] getHighCardinalityKeyNames() {
      return TaskHighCardinalityKeys.values();
    }
  };

  /** Low-cardinality keys of {@code fluxgraph.run}. */
  public enum RunKeys implements KeyName {
    /** The entrypoint's or graph's name. */
    ENTRYPOINT {
      @Override
      public String asString() {
        return "entrypoint";
      }
    },
    /** {@code completed}, {@code interrupted}, {@code error} or {@code cancelled}. */
    OUTCOME {
      @Override
      public String asString() {
        return "outcome";
      }
    },
    /** Always {@code invoke_workflow} (OpenTelemetry GenAI). */
    OPERATION {
      @Override
      public String asString() {
        return "gen_ai.operation.name";
      }
    }
  }

  /** High-cardinality keys of {@code fluxgraph.run}. */
  public enum RunHighCardinalityKeys implements KeyName {
    /** The run's thread id, when it has one (OpenTelemetry GenAI's conversation id). */
    CONVERSATION {
      @Override
      public String asString() {
        return "gen_ai.conversation.id";
      }
    }
  }

  /** Low-cardinality keys of {@code fluxgraph.task}. */
  public enum TaskKeys implements KeyName {
    /** The name of the entrypoint or graph whose run called the task. */
    ENTRYPOINT {
      @Override
      public String asString() {
        return "entrypoint";
      }
    },
    /** The task's (or node's, or nested entrypoint's) name. */
    TASK {
      @Override
      public String asString() {
        return "task";
      }
    },
    /** {@code completed}, {@code cached}, {@code interrupted}, {@code error} or {@code cancelled}. */
    OUTCOME {
      @Override
      public String asString() {
        return "outcome";
      }
    },
    /** Always {@code execute_tool} (OpenTelemetry GenAI). */
    OPERATION {
      @Override
      public String asString() {
        return "gen_ai.operation.name";
      }
    }
  }

  /** High-cardinality keys of {@code fluxgraph.task}. */
  public enum TaskHighCardinalityKeys implements KeyName {
    /** How many attempts of the task's body ran (1 without retries, 0 when the cache answered). */
    ATTEMPTS {
      @Override
      public String asString() {
        return "fluxgraph.task.attempts";
      }
    },
    /** The call's id, stable across resumes of the thread (OpenTelemetry GenAI's tool call id). */
    CALL_ID {
      @Override
      public String asString() {
        return "gen_ai.tool.call.id";
      }
    },
    /** The task's name (OpenTelemetry GenAI's tool name). */
    TOOL {
      @Override
      public String asString() {
        return "gen_ai.tool.name";
      }
    },
    /** The run's thread id, when it has one. */
    CONVERSATION {
      @Override
      public String asString() {
        return "gen_ai.conversation.id";
      }
    }
  }
}
