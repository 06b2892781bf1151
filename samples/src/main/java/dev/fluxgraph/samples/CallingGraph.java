package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.CompiledGraph;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.TypeRef;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import reactor.core.publisher.Mono;

/**
 * "Calling a StateGraph": the Functional API and the Graph API share one runtime, so an entrypoint can invoke a
 * compiled graph (which then runs nested, in the entrypoint's checkpoints). Prints {"bar":10} for 5.
 */
public final class CallingGraph implements Sample {

  /** The shared state of the graph. */
  public record State(int foo) {
  }

  private static final TypeRef<Map<String, Integer>> RESULT = new TypeRef<>() { };

  /** One node, "double", which doubles foo. */
  public static CompiledGraph<State> graph(CompileOptions options) {
    return StateGraph.of(State.class)
        .addNode("double", (state, context) -> Mono.just(Map.of("foo", state.foo() * 2)))
        .setEntryPoint("double")
        .compile(options);
  }

  private static final CompiledGraph<State> GRAPH = graph(CompileOptions.defaults());

  /** The functional workflow that calls the graph. */
  public static Entrypoint<Integer, Map<String, Integer>> workflow(CheckpointSaver saver) {
    return Entrypoint.named("workflow").checkpointer(saver)
        .define(TypeRef.of(Integer.class), RESULT, (x, context) -> GRAPH.invoke(new State(x))
            .map(result -> Map.of("bar", result.foo())));
  }

  @Override
  public String name() {
    return "calling-graph";
  }

  @Override
  public String description() {
    return "an entrypoint invoking a compiled StateGraph (argument: x, default 5)";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    int x = args.isEmpty() ? 5 : Integer.parseInt(args.get(0));
    out.println(Printing.json(workflow(new InMemorySaver()).invoke(x, RunConfig.thread(UUID.randomUUID().toString()))
        .block()));
  }
}
