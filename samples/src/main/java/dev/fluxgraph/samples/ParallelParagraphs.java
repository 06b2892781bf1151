package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.samples.model.ChatMessage;
import dev.fluxgraph.samples.model.ChatModel;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.TypeRef;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.List;
import java.util.UUID;
import reactor.core.publisher.Flux;

/** "Parallel LLM calls": one model call per topic, all at once, joined in order. Arguments: topics. */
public final class ParallelParagraphs implements Sample {

  private final ChatModel model;

  public ParallelParagraphs(ChatModel model) {
    this.model = model;
  }

  /** The workflow on the given model. */
  public static Entrypoint<List<String>, String> workflow(ChatModel model) {
    Task<String, String> generateParagraph = Task.of("generate_paragraph", String.class,
        (String topic, TaskContext context) -> model.invoke(List.of(
            ChatMessage.system("You are a helpful assistant that writes educational paragraphs."),
            ChatMessage.user("Write a paragraph about " + topic + ".")), context).map(ChatMessage::content));
    return Entrypoint.named("workflow").checkpointer(new InMemorySaver())
        .define(new TypeRef<List<String>>() { }, TypeRef.of(String.class), (topics, context) ->
            Flux.fromIterable(topics).flatMapSequential(generateParagraph::call).collectList()
                .map(paragraphs -> String.join("\n\n", paragraphs)));
  }

  @Override
  public String name() {
    return "parallel-paragraphs";
  }

  @Override
  public String description() {
    return "one model call per topic in parallel, joined (arguments: topics separated by commas)";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    List<String> topics = args.isEmpty() ? List.of("quantum computing", "climate change", "history of aviation")
        : List.of(String.join(" ", args).split("\\s*,\\s*"));
    out.println(workflow(model).invoke(topics, RunConfig.thread(UUID.randomUUID().toString())).block());
  }
}
