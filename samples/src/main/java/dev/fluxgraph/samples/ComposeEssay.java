package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.samples.model.ChatMessage;
import dev.fluxgraph.samples.model.ChatModel;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamMode;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.List;
import java.util.UUID;

/** "Compose an essay with an LLM": one task calls the model; tokens stream in MESSAGES mode. Argument: topic. */
public final class ComposeEssay implements Sample {

  private final ChatModel model;

  public ComposeEssay(ChatModel model) {
    this.model = model;
  }

  /** The workflow on the given model. */
  public static Entrypoint<String, String> workflow(ChatModel model, dev.fluxgraph.checkpoint.CheckpointSaver saver) {
    Task<String, String> composeEssay = Task.of("compose_essay", String.class, (String topic, TaskContext context) ->
        model.invoke(List.of(ChatMessage.system("You are a helpful assistant that writes essays."),
            ChatMessage.user("Write an essay about " + topic + ".")), context).map(ChatMessage::content));
    return Entrypoint.named("workflow").checkpointer(saver)
        .define(String.class, String.class, (topic, context) -> composeEssay.call(topic));
  }

  @Override
  public String name() {
    return "compose-essay";
  }

  @Override
  public String description() {
    return "an essay written by the model, tokens streamed as they come (argument: topic)";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    String topic = args.isEmpty() ? "the history of flight" : String.join(" ", args);
    workflow(model, new InMemorySaver()).stream(topic, RunConfig.thread(UUID.randomUUID().toString()),
            StreamMode.MESSAGES, StreamMode.VALUES)
        .doOnNext(chunk -> {
          if (chunk.mode() == StreamMode.MESSAGES) {
            out.print(((java.util.Map<?, ?>) ((List<?>) chunk.data()).get(0)).get("content"));
          } else {
            out.println();
            out.println("values: " + Printing.json(chunk.data()));
          }
        })
        .blockLast();
  }
}
