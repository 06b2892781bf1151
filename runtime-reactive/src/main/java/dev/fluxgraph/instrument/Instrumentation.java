package dev.fluxgraph.instrument;

import dev.fluxgraph.types.RunConfig;
import reactor.util.context.ContextView;

/**
 * The instrumentation hook of a workflow: told when each of its runs starts, it returns the {@link RunObserver} that
 * the run then reports to (its tasks, retries, interrupts, checkpoint writes, and how it ended).
 *
 * <p>Installed per workflow: {@code Entrypoint.named(..).instrumentation(i)}, {@code Entrypoint.withInstrumentation(i)},
 * {@code CompileOptions.withInstrumentation(i)} or {@code CompiledGraph.withInstrumentation(i)}; the Spring Boot
 * starter installs the Micrometer one on every graph bean that has none. There is deliberately no global default: a
 * workflow's reports go where its builder says. Nested entrypoints and subgraphs run as tasks of the run that calls
 * them and report to that run's observer, whatever they have installed themselves.
 *
 * <p>Every method is called on the thread that reaches that point of the run, possibly several threads at once
 * for one run (parallel tasks): implementations are thread-safe, do not block and do not throw.
 */
@FunctionalInterface
public interface Instrumentation {

  /**
   * A run of {@code workflow} starts (it is subscribed), before anything is read or saved.
   *
   * @param workflow the entrypoint's or graph's name
   * @param config   the run's config (thread id, run name, tags, metadata)
   * @param context  the Reactor context of the run's subscriber, e.g. to find the caller's current observation
   * @return what the run reports to; {@link RunObserver#NOOP} to ignore this run
   */
  RunObserver runStarted(String workflow, RunConfig config, ContextView context);

  /** The hook that ignores everything: the default of every entrypoint and graph. */
  static Instrumentation none() {
    return None.INSTANCE;
  }
}

/** The default hook; the engine skips work it would only do for an observer when it sees this one. */
enum None implements Instrumentation {
  INSTANCE;

  @Override
  public RunObserver runStarted(String workflow, RunConfig config, ContextView context) {
    return RunObserver.NOOP;
  }
}
