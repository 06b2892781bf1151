package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Final;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.samples.model.ChatMessage;
import dev.fluxgraph.samples.model.ChatModel;
import dev.fluxgraph.samples.model.Messages;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.TypeRef;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.List;
import java.util.UUID;

/**
 * "Chatbot example": the conversation so far is {@code previous}, merged with new messages by the message reducer
 * (append, replace by id); the reply is returned and the whole conversation saved with {@code Final}.
 */
public final class Chatbot implements Sample {

  private static final TypeRef<List<ChatMessage>> MESSAGES = new TypeRef<>() { };
  private final ChatModel model;

  public Chatbot(ChatModel model) {
    this.model = model;
  }

  /** The chatbot on the given model and checkpointer. */
  public static Entrypoint<List<ChatMessage>, ChatMessage> workflow(ChatModel model, CheckpointSaver saver) {
    Task<List<ChatMessage>, ChatMessage> callModel = Task.of("call_model", ChatMessage.class,
        (List<ChatMessage> messages, TaskContext context) -> model.invoke(messages, context));
    return Entrypoint.named("workflow").checkpointer(saver)
        .defineFinal(MESSAGES, TypeRef.of(ChatMessage.class), MESSAGES, (inputs, context) -> {
          List<ChatMessage> messages = Messages.add(context.previous().orElse(List.of()), inputs);
          return callModel.call(messages)
              .map(response -> Final.of(response, Messages.add(messages, List.of(response))));
        });
  }

  @Override
  public String name() {
    return "chatbot";
  }

  @Override
  public String description() {
    return "a chatbot that remembers the conversation through previous (arguments: messages, one per turn)";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    Entrypoint<List<ChatMessage>, ChatMessage> workflow = workflow(model, new InMemorySaver());
    RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
    for (String text : args.isEmpty() ? List.of("hi! I'm bob", "what's my name?") : args) {
      out.println("user: " + text);
      workflow.stream(List.of(ChatMessage.user(text)), config, StreamMode.VALUES)
          .doOnNext(chunk -> out.println("assistant: " + ((ChatMessage) chunk.data()).content()))
          .blockLast();
    }
  }
}
