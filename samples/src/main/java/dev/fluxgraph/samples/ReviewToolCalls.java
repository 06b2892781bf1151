package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.EntrypointContext;
import dev.fluxgraph.func.Final;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.samples.model.ChatMessage;
import dev.fluxgraph.samples.model.ChatModel;
import dev.fluxgraph.samples.model.Messages;
import dev.fluxgraph.samples.model.ToolCall;
import dev.fluxgraph.samples.model.ToolSpec;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.TypeRef;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * "Review tool calls": a ReAct-style agent whose every tool call is shown to a human, who accepts it
 * ({@code continue}), edits its arguments ({@code update <json-free text>}) or answers instead of the tool
 * ({@code feedback <text>}). Arguments: the question, then one review per tool call (asked when missing).
 */
public final class ReviewToolCalls implements Sample {

  private static final TypeRef<List<ChatMessage>> MESSAGES = new TypeRef<>() { };
  private static final TypeRef<Map<String, Object>> REVIEW = new TypeRef<>() { };
  static final List<ToolSpec> TOOLS = List.of(new ToolSpec("get_weather", "The weather in a city",
      Map.of("type", "object", "properties", Map.of("city", Map.of("type", "string")), "required", List.of("city"))));

  private final ChatModel model;

  public ReviewToolCalls(ChatModel model) {
    this.model = model;
  }

  /** The agent on the given model and checkpointer. */
  public static Entrypoint<List<ChatMessage>, ChatMessage> agent(ChatModel model, CheckpointSaver saver) {
    Task<List<ChatMessage>, ChatMessage> callModel = Task.of("call_model", ChatMessage.class,
        (List<ChatMessage> messages, TaskContext context) -> model.invoke(messages, TOOLS, context));
    Task<ToolCall, ChatMessage> callTool = Task.of("call_tool", ChatMessage.class, call -> Mono.just(
        ChatMessage.tool(call.id(), "It's sunny in " + call.args().get("city"))));
    return Entrypoint.named("agent").checkpointer(saver)
        .defineFinal(MESSAGES, TypeRef.of(ChatMessage.class), MESSAGES, (input, context) -> {
          List<ChatMessage> messages = Messages.add(context.previous().orElse(List.of()), input);
          return callModel.call(messages).flatMap(response -> loop(messages, response, callModel, callTool, context));
        });
  }

  /** While the model asks for tools: review each call, run the accepted ones, ask the model again. */
  private static Mono<Final<ChatMessage, List<ChatMessage>>> loop(List<ChatMessage> messages, ChatMessage response,
      Task<List<ChatMessage>, ChatMessage> callModel, Task<ToolCall, ChatMessage> callTool,
      EntrypointContext<List<ChatMessage>> context) {
    if (response.toolCalls().isEmpty()) {
      return Mono.just(Final.of(response, Messages.add(messages, List.of(response))));
    }
    return Flux.fromIterable(response.toolCalls())
        .concatMap(call -> context.interrupt(question(call), REVIEW)
            .map(review -> reviewed(call, review)))
        .collectList()
        .flatMap(reviews -> {
          List<ToolCall> accepted = new ArrayList<>();
          List<ChatMessage> answered = new ArrayList<>();
          for (Object review : reviews) {
            if (review instanceof ToolCall call) {
              accepted.add(call);
            } else {
              answered.add((ChatMessage) review);
            }
          }
          ChatMessage revised = response.withToolCalls(accepted.isEmpty() ? response.toolCalls() : mergeCalls(
              response.toolCalls(), accepted));
          return Flux.fromIterable(accepted).flatMapSequential(callTool::call).collectList().flatMap(results -> {
            List<ChatMessage> added = new ArrayList<>();
            added.add(revised);
            added.addAll(answered);
            added.addAll(results);
            List<ChatMessage> next = Messages.add(messages, added);
            return callModel.call(next).flatMap(again -> loop(next, again, callModel, callTool, context));
          });
        });
  }

  private static Map<String, Object> question(ToolCall call) {
    Map<String, Object> question = new java.util.LinkedHashMap<>();
    question.put("question", "Is this correct?");
    question.put("tool_call", call);
    return question;
  }

  private static List<ToolCall> mergeCalls(List<ToolCall> original, List<ToolCall> accepted) {
    List<ToolCall> merged = new ArrayList<>();
    for (ToolCall call : original) {
      merged.add(accepted.stream().filter(a -> a.id().equals(call.id())).findFirst().orElse(call));
    }
    return merged;
  }

  /** A review is continue, update (new arguments) or feedback (a tool message written by the human). */
  private static Object reviewed(ToolCall call, Map<String, Object> review) {
    Object data = review.get("data");
    return switch (String.valueOf(review.get("action"))) {
      case "continue" -> call;
      case "update" -> new ToolCall(call.id(), call.name(), data instanceof Map<?, ?> args
          ? castArgs(args) : Map.of("city", String.valueOf(data)));
      case "feedback" -> ChatMessage.tool(call.id(), String.valueOf(data));
      default -> throw new IllegalArgumentException("review action must be continue, update or feedback, was "
          + review.get("action"));
    };
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> castArgs(Map<?, ?> args) {
    return (Map<String, Object>) args;
  }

  @Override
  public String name() {
    return "review-tool-calls";
  }

  @Override
  public String description() {
    return "an agent whose tool calls a human accepts, edits or answers (arguments: question, then reviews: "
        + "continue | update <city> | feedback <text>)";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    Entrypoint<List<ChatMessage>, ChatMessage> agent = agent(model, new InMemorySaver());
    RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
    String question = args.isEmpty() ? "What's the weather in sf?" : args.get(0);
    GraphOutput<ChatMessage> output = agent.run(List.of(ChatMessage.user(question)), config).block();
    int answer = 1;
    while (output.interrupted()) {
      out.println("review: " + Printing.json(output.interrupts().get(0).value()));
      String[] review = Printing.answer(args, answer++, "continue | update <city> | feedback <text>>", in, out)
          .split("\\s+", 2);
      Map<String, Object> value = review.length > 1 ? Map.of("action", review[0], "data", review[1])
          : Map.of("action", review[0]);
      output = agent.run(Command.resume(value), config).block();
    }
    out.println("assistant: " + output.value().content());
  }
}
