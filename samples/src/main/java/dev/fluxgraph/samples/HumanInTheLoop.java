package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RunConfig;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.List;
import java.util.UUID;
import reactor.core.publisher.Mono;

/**
 * "Basic human-in-the-loop workflow": step_1 appends "bar", human_feedback pauses for a human, step_3 appends
 * "qux". Arguments: the query (default foo) and the feedback (asked on the terminal when missing).
 */
public final class HumanInTheLoop implements Sample {

  static final Task<String, String> STEP_1 = Task.of("step_1", String.class, q -> Mono.just(q + " bar"));
  static final Task<String, String> HUMAN_FEEDBACK = Task.of("human_feedback", String.class,
      (String q, TaskContext context) -> context.interrupt("Please provide feedback: " + q, String.class)
          .map(feedback -> q + " " + feedback));
  static final Task<String, String> STEP_3 = Task.of("step_3", String.class, q -> Mono.just(q + " qux"));

  /** The workflow. */
  public static Entrypoint<String, String> graph(CheckpointSaver saver) {
    return Entrypoint.named("graph").checkpointer(saver).define(String.class, String.class,
        (query, context) -> STEP_1.call(query).flatMap(HUMAN_FEEDBACK::call).flatMap(STEP_3::call));
  }

  @Override
  public String name() {
    return "human-in-the-loop";
  }

  @Override
  public String description() {
    return "step_1 / human_feedback (interrupt) / step_3 (arguments: query feedback)";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    Entrypoint<String, String> graph = graph(new InMemorySaver());
    RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
    String query = args.isEmpty() ? "foo" : args.get(0);
    graph.stream(query, config).doOnNext(chunk -> out.println(Printing.json(chunk.data()))).blockLast();
    String feedback = Printing.answer(args, 1, "feedback>", in, out);
    graph.stream(Command.resume(feedback), config).doOnNext(chunk -> out.println(Printing.json(chunk.data())))
        .blockLast();
  }
}
