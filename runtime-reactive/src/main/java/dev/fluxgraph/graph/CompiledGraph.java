package dev.fluxgraph.graph;

import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.internal.EntrypointAccess;
import dev.fluxgraph.internal.EntrypointSpec;
import dev.fluxgraph.internal.GraphDrawing;
import dev.fluxgraph.internal.GraphLoop;
import dev.fluxgraph.internal.Json;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.StreamOptions;
import java.util.Map;
import java.util.Objects;
import dev.fluxgraph.instrument.Instrumentation;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A compiled {@link StateGraph}: the same run surface as an {@link Entrypoint}, on the same engine. Immutable and
 * thread-safe; every method is cold.
 *
 * <p>Runs return the final state (with an output schema, {@link StateGraph#withOutput}, only its keys: other
 * properties of a record or POJO state are then null). A run that stops at a breakpoint ({@code interruptBefore/After}) returns the
 * state so far with no interrupts ({@code GraphOutput.interrupted()} is false, {@code getState().next()} names the
 * nodes still to run); {@code run(Command.proceed(), config)} continues it. A run paused on {@code interrupt}
 * continues with {@code Command.resume}. Inside another run (an entrypoint, task or node), {@link #invoke(Object)}
 * runs the graph nested: its node results are checkpointed in the caller's run, so a resumed caller does not run
 * finished nodes again, and its interrupts pause the caller.
 *
 * <p>Stream shapes: {@code updates} gives {@code {"<node>": update}} as each node finishes; {@code values} the
 * whole state after the input and after every superstep; {@code checkpoints} one chunk per saved checkpoint with
 * its {@code next} nodes; the other modes as for entrypoints.
 *
 * @param <S> the state type
 */
public final class CompiledGraph<S> {

  private final EntrypointSpec spec;
  private final Entrypoint<S, S> entrypoint;

  CompiledGraph(EntrypointSpec spec) {
    this.spec = spec;
    this.entrypoint = EntrypointAccess.get().create(spec);
  }

  public String name() {
    return spec.name();
  }

  /** Runs the graph; emits the final state. Errors with {@code GraphInterruptedException} if it paused. */
  public Mono<S> invoke(@Nullable S input, RunConfig config) {
    return entrypoint.invoke(input, config);
  }

  /** Inside a run: runs the graph nested in the calling scope. Outside a run: {@code invoke(input, RunConfig.none())}. */
  public Mono<S> invoke(@Nullable S input) {
    return entrypoint.invoke(input);
  }

  /** Continues the thread's pending run. */
  public Mono<S> invoke(Command command, RunConfig config) {
    return entrypoint.invoke(command, config);
  }

  /** Runs the graph; emits the final state, or the interrupts it paused on. */
  public Mono<GraphOutput<S>> run(@Nullable S input, RunConfig config) {
    return entrypoint.run(input, config);
  }

  public Mono<GraphOutput<S>> run(Command command, RunConfig config) {
    return entrypoint.run(command, config);
  }

  /** Streams a run in the given modes ({@link StreamMode#UPDATES} when none). */
  public Flux<StreamChunk> stream(@Nullable S input, RunConfig config, StreamMode... modes) {
    return entrypoint.stream(input, config, modes);
  }

  public Flux<StreamChunk> stream(Command command, RunConfig config, StreamMode... modes) {
    return entrypoint.stream(command, config, modes);
  }

  /** Streams a run; with {@code options.subgraphs()}, nested graphs' and entrypoints' chunks too. */
  public Flux<StreamChunk> stream(@Nullable S input, RunConfig config, StreamOptions options) {
    return entrypoint.stream(input, config, options);
  }

  public Flux<StreamChunk> stream(Command command, RunConfig config, StreamOptions options) {
    return entrypoint.stream(command, config, options);
  }

  /**
   * The state at the config's checkpoint (or the latest): values, the next nodes, one task per next node (with the
   * pending interrupts raised in the node or in anything it called) and the pending interrupts.
   */
  public Mono<StateSnapshot> getState(RunConfig config) {
    return entrypoint.getState(config);
  }

  /**
   * {@link #getState(RunConfig)}; with {@code subgraphs}, a node task whose nested graph or entrypoint is paused or
   * failed carries that one's snapshot in {@code TaskState.state()}: its state (as plain JSON data), next nodes and
   * tasks, under the config of its checkpoint namespace ({@code "<node>:<call id>"}). See
   * {@link Entrypoint#getState(RunConfig, boolean)}.
   */
  public Mono<StateSnapshot> getState(RunConfig config, boolean subgraphs) {
    return entrypoint.getState(config, subgraphs);
  }

  /** Every checkpoint of the thread, newest first. */
  public Flux<StateSnapshot> getStateHistory(RunConfig config) {
    return entrypoint.getStateHistory(config);
  }

  /** Every checkpoint of the thread, newest first, with nested snapshots as {@link #getState(RunConfig, boolean)}. */
  public Flux<StateSnapshot> getStateHistory(RunConfig config, boolean subgraphs) {
    return entrypoint.getStateHistory(config, subgraphs);
  }

  /**
   * Saves a checkpoint ({@code source=update}) after the config's checkpoint (or the latest) with {@code values}
   * applied through the reducers as if node {@code asNode} had written them; the next nodes become those
   * {@code asNode} leads to ({@code null}: they stay as they were). Continue with {@code Command.proceed()}; with
   * the returned config, from exactly this checkpoint. Emits the new checkpoint's config. A config with a checkpoint
   * namespace (a nested graph's state) is refused with {@code InvalidUpdateException}: a nested graph's state belongs
   * to the run that called it, so edit the parent's state or resume with a {@code Command}. {@code asNode}
   * {@code "__start__"} applies {@code values} as the input does (next: the nodes START leads to); {@code "__input__"}
   * saves an {@code input} checkpoint instead ({@code source=input}, the state unchanged, next {@code __start__}),
   * with {@code values} as the input a continuation applies, as the reference's bulk updates do.
   */
  public Mono<RunConfig> updateState(RunConfig config, Map<String, Object> values, @Nullable String asNode) {
    Objects.requireNonNull(config, "config must not be null");
    Objects.requireNonNull(values, "values must not be null");
    return GraphLoop.update(spec, config, values, asNode);
  }

  /** {@link #updateState(RunConfig, Map, String)} with no node: the next nodes stay as they were. */
  public Mono<RunConfig> updateState(RunConfig config, Map<String, Object> values) {
    return updateState(config, values, null);
  }

  /**
   * A drawing of this graph ({@link GraphView}: nodes, edges with conditional ones marked, {@link GraphView#toMermaid()}),
   * made from its definition: nothing runs. With {@code xray}, the nodes that run a compiled graph or an entrypoint
   * nested are replaced by that one's drawing, at every depth, their nodes' ids prefixed with the node's name and
   * {@code ':'}. A conditional edge is drawn to each target declared with
   * {@link StateGraph#addConditionalEdges(String, java.util.function.Function, java.util.List)}, or, when it declared
   * none, to every other node and {@code __end__}; {@code Command.goTo} destinations declared with
   * {@link NodeOptions#withDestinations} are conditional edges too.
   */
  public GraphView getGraph(boolean xray) {
    return getGraph(xray ? Integer.MAX_VALUE : 0);
  }

  /**
   * {@link #getGraph(boolean)} expanding subgraphs {@code xray} levels deep: 0 none, 1 this graph's subgraphs but not
   * theirs, {@code Integer.MAX_VALUE} all. @throws IllegalArgumentException if {@code xray} is negative
   */
  public GraphView getGraph(int xray) {
    return GraphDrawing.of(spec, xray);
  }

  /** This graph as an entrypoint, e.g. to serve it with {@code FluxgraphServer} or to nest it by that type. */
  public Entrypoint<S, S> asEntrypoint() {
    return entrypoint;
  }

  /**
   * This graph as an entrypoint typed by its schemas ({@link StateGraph#withInput}/{@link StateGraph#withOutput}),
   * e.g. {@code asEntrypoint(In.class, Out.class)}: the input, an {@code I}, gives the keys of its non-null
   * properties (or its entries, for a map); the result holds the output schema's keys, read as an {@code O}. Same
   * runs, checkpoints and threads as this graph; {@code getState} shows the whole state as the state type.
   */
  public <I, O> Entrypoint<I, O> asEntrypoint(Class<I> input, Class<O> output) {
    Objects.requireNonNull(input, "input must not be null");
    Objects.requireNonNull(output, "output must not be null");
    return EntrypointAccess.get().create(spec.withTypes(Json.type(input), Json.type(output)));
  }

  /** The instrumentation hook the graph's runs report to; {@link Instrumentation#none()} unless one was installed. */
  public Instrumentation instrumentation() {
    return spec.instrumentation();
  }

  /**
   * The same graph (same nodes, checkpointer, threads), reporting its runs to {@code hook}; this one is unchanged.
   * A graph nested in another graph's run reports to that run's hook instead.
   */
  public CompiledGraph<S> withInstrumentation(Instrumentation hook) {
    Objects.requireNonNull(hook, "hook must not be null");
    return new CompiledGraph<>(spec.withInstrumentation(hook));
  }

  EntrypointSpec spec() {
    return spec;
  }

  @Override
  public String toString() {
    return "CompiledGraph{" + spec.name() + "}";
  }
}
