package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.TypeRef;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import reactor.core.publisher.Mono;

/**
 * The entrypoint reference's review workflow: compose_essay (a deterministic stand-in for a model), then an
 * interrupt in the body asking for a review. Arguments: topic (default cats) and review (asked when missing).
 */
public final class ReviewWorkflow implements Sample {

  static final Task<String, String> COMPOSE_ESSAY = Task.of("compose_essay", String.class,
      topic -> Mono.delay(Duration.ofMillis(200)).thenReturn("An essay about " + topic));

  /** The workflow. */
  public static Entrypoint<String, Map<String, Object>> reviewWorkflow(CheckpointSaver saver) {
    return Entrypoint.named("review_workflow").checkpointer(saver)
        .define(TypeRef.of(String.class), new TypeRef<Map<String, Object>>() { }, (topic, context) ->
            COMPOSE_ESSAY.call(topic).flatMap(essay -> context.interrupt(
                    Map.of("question", "Please provide a review", "essay", essay), String.class)
                .map(review -> Map.<String, Object>of("essay", essay, "review", review))));
  }

  @Override
  public String name() {
    return "review-workflow";
  }

  @Override
  public String description() {
    return "compose an essay, then pause in the entrypoint for a human review (arguments: topic review)";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    Entrypoint<String, Map<String, Object>> workflow = reviewWorkflow(new InMemorySaver());
    RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
    workflow.stream(args.isEmpty() ? "cats" : args.get(0), config)
        .doOnNext(chunk -> out.println(Printing.json(chunk.data()))).blockLast();
    String review = Printing.answer(args, 1, "review>", in, out);
    workflow.stream(Command.resume(review), config).doOnNext(chunk -> out.println(Printing.json(chunk.data())))
        .blockLast();
  }
}
