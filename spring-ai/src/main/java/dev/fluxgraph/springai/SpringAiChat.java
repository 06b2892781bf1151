package dev.fluxgraph.springai;

import dev.fluxgraph.func.EntrypointContext;
import dev.fluxgraph.func.EntrypointFunction;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.messages.AiMessage;
import dev.fluxgraph.messages.Message;
import dev.fluxgraph.types.RetryPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletionException;
import org.jspecify.annotations.Nullable;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.model.tool.ToolCallingChatOptions;
import org.springframework.ai.tool.ToolCallback;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A Spring AI {@link ChatModel} called from Fluxgraph tasks. Every call goes through {@link ChatModel#stream}: inside
 * a run each response's token is written to the task's {@link TaskContext#messages()} as it arrives (LangChain's
 * {@code AIMessageChunk} shape: {@code content}, {@code tool_call_chunks}, and a last chunk with
 * {@code usage_metadata}, all under the message's id), and the call answers the whole message as an
 * {@link AiMessage}: its text, its tool calls, the token usage as {@code usage_metadata} and the model name and
 * finish reason as {@code response_metadata}. Immutable and thread-safe; {@code withX} methods return copies.
 *
 * <pre>{@code
 * SpringAiChat chat = SpringAiChat.of(chatModel).withTools(weatherTool);
 * Entrypoint<List<Message>, List<Message>> agent = Entrypoint.named("agent").checkpointer(saver)
 *     .define(new TypeRef<List<Message>>() { }, new TypeRef<List<Message>>() { }, chat.agent(10));
 * }</pre>
 *
 * <p>The model task ({@link #task()}, named {@value #DEFAULT_TASK_NAME} unless {@link #withTaskName} says otherwise)
 * records its answer in the checkpoint: a resumed run replays it and calls the model no more. Errors of the model
 * (an HTTP 500, a timeout) fail the task attempt, so the task's retry policy ({@link #withRetry}, else the
 * entrypoint's default) decides whether to call again. Cancelling the run cancels the model's stream.
 */
public final class SpringAiChat {

  /** The model task's name unless {@link #withTaskName} sets another. */
  public static final String DEFAULT_TASK_NAME = "call_model";

  private final ChatModel model;
  private final @Nullable ChatOptions options;
  private final SpringAiTools tools;
  private final String taskName;
  private final List<RetryPolicy> retry;
  private final @Nullable Duration timeout;

  private SpringAiChat(ChatModel model, @Nullable ChatOptions options, SpringAiTools tools, String taskName,
                       List<RetryPolicy> retry, @Nullable Duration timeout) {
    this.model = model;
    this.options = options;
    this.tools = tools;
    this.taskName = taskName;
    this.retry = retry;
    this.timeout = timeout;
  }

  /** Calls {@code model} with its own default options and no tools. */
  public static SpringAiChat of(ChatModel model) {
    return new SpringAiChat(Objects.requireNonNull(model, "model must not be null"), null, SpringAiTools.none(),
        DEFAULT_TASK_NAME, List.of(), null);
  }

  /**
   * A copy that sends these options with every call instead of the model's defaults. Give the provider's own type
   * (e.g. {@code OpenAiChatOptions}): a provider reads its own options class.
   */
  public SpringAiChat withOptions(ChatOptions options) {
    return new SpringAiChat(model, Objects.requireNonNull(options, "options must not be null"), tools, taskName,
        retry, timeout);
  }

  /** A copy offering these tools to the model; {@link #agent} runs them as tasks. */
  public SpringAiChat withTools(ToolCallback... tools) {
    return withTools(SpringAiTools.of(tools));
  }

  /** A copy offering these tools (with their scheduler and retry policies) to the model. */
  public SpringAiChat withTools(SpringAiTools tools) {
    return new SpringAiChat(model, options, Objects.requireNonNull(tools, "tools must not be null"), taskName, retry,
        timeout);
  }

  /** A copy whose model task has this name (what checkpoints, streams and {@code langgraph_node} show). */
  public SpringAiChat withTaskName(String name) {
    Objects.requireNonNull(name, "name must not be null");
    if (name.isBlank()) {
      throw new IllegalArgumentException("the model task's name must not be blank");
    }
    return new SpringAiChat(model, options, tools, name, retry, timeout);
  }

  /** A copy whose model task retries with these policies instead of the entrypoint's default. */
  public SpringAiChat withRetry(RetryPolicy... policies) {
    Objects.requireNonNull(policies, "policies must not be null");
    return new SpringAiChat(model, options, tools, taskName, List.of(policies), timeout);
  }

  /** A copy whose model task gives up an attempt after {@code perAttempt} (a {@code NodeTimeoutException}). */
  public SpringAiChat withTimeout(Duration perAttempt) {
    Objects.requireNonNull(perAttempt, "perAttempt must not be null");
    return new SpringAiChat(model, options, tools, taskName, retry, perAttempt);
  }

  /** The tools offered to the model. */
  public SpringAiTools tools() {
    return tools;
  }

  /**
   * One model call, not checkpointed: streams {@code messages} to the model and answers its whole message. With a
   * {@code context}, each token is written to its {@code messages()} as it arrives (waiting for the stream's
   * subscriber, so a slow reader slows the model's stream rather than buffering it). Cold; cancelling it cancels
   * the model's stream.
   *
   * @throws IllegalArgumentException (as the {@code Mono}'s error) if a message is not a chat message, or if tools
   *                                  are set and the options are not {@code ToolCallingChatOptions}
   */
  public Mono<AiMessage> stream(List<? extends Message> messages, @Nullable TaskContext context) {
    Objects.requireNonNull(messages, "messages must not be null");
    return Mono.defer(() -> {
      Prompt prompt = new Prompt(Conversions.toSpringAi(messages), requestOptions());
      StreamedReply reply = new StreamedReply();
      Flux<ChatResponse> responses = model.stream(prompt);
      return responses
          // async clients (the OpenAI SDK's) deliver the HTTP error wrapped; the retry policy must see its status
          .onErrorMap(CompletionException.class, error -> error.getCause() == null ? error : error.getCause())
          .concatMap(response -> write(context, reply.accept(response)))
          .then(Mono.defer(() -> write(context, reply.last())))
          .then(Mono.fromCallable(reply::message))
          .doOnNext(answer -> observe(context, answer));
    });
  }

  /**
   * Puts the call's token usage and model on the observation of the task it runs in (OpenTelemetry's GenAI attribute
   * names), through {@link TaskContext#attribute}: nothing when the run has no instrumentation hook.
   */
  private static void observe(@Nullable TaskContext context, AiMessage answer) {
    if (context == null) {
      return;
    }
    if (answer.usageMetadata() != null) {
      context.attribute("gen_ai.usage.input_tokens", Integer.toString(answer.usageMetadata().inputTokens()));
      context.attribute("gen_ai.usage.output_tokens", Integer.toString(answer.usageMetadata().outputTokens()));
    }
    Object model = answer.responseMetadata().get("model_name");
    if (model != null) {
      context.attribute("gen_ai.response.model", model.toString());
    }
  }

  /**
   * The model call as a task: input the conversation, output the model's message. Call it inside a run
   * ({@code chat.task().call(messages)}); its answer is checkpointed like any task's.
   */
  public Task<List<Message>, AiMessage> task() {
    Task<List<Message>, AiMessage> task = Task.of(taskName, AiMessage.class,
        (List<Message> messages, TaskContext context) -> stream(messages, context));
    if (!retry.isEmpty()) {
      task = task.withRetry(retry.toArray(RetryPolicy[]::new));
    }
    return timeout == null ? task : task.withTimeout(timeout);
  }

  /**
   * The model-and-tools loop as an entrypoint body: the thread's previous conversation (the saved value of its last
   * run) plus the input messages go to the model task; while the model asks for tools, each call runs as its tool's
   * task ({@link SpringAiTools#call}) and the model is called again with the answers. Answers (and saves) the whole
   * conversation. Every step is a task, so a resumed run replays what finished and continues where it stopped.
   *
   * @param maxModelCalls how many times one run may call the model; when the model still asks for tools after that
   *                      many calls the run fails with {@link IllegalStateException}
   */
  public EntrypointFunction<List<Message>, List<Message>, List<Message>> agent(int maxModelCalls) {
    if (maxModelCalls < 1) {
      throw new IllegalArgumentException("maxModelCalls must be at least 1, was " + maxModelCalls);
    }
    Task<List<Message>, AiMessage> callModel = task();
    return (List<Message> input, EntrypointContext<List<Message>> context) -> {
      List<Message> conversation = new ArrayList<>(context.previous().orElse(List.of()));
      conversation.addAll(Objects.requireNonNull(input, "the agent's input must be a list of messages"));
      return loop(callModel, conversation, maxModelCalls, maxModelCalls);
    };
  }

  private Mono<List<Message>> loop(Task<List<Message>, AiMessage> callModel, List<Message> conversation,
                                   int remaining, int limit) {
    return callModel.call(List.copyOf(conversation)).flatMap(answer -> {
      List<Message> next = new ArrayList<>(conversation);
      next.add(answer);
      if (answer.toolCalls().isEmpty()) {
        return Mono.just(List.copyOf(next));
      }
      if (remaining == 1) {
        return Mono.error(new IllegalStateException("the model still asks for tools " + answer.toolCalls()
            + " after " + limit + " model calls, the agent's limit"));
      }
      return tools.call(answer).flatMap(results -> {
        next.addAll(results);
        return loop(callModel, next, remaining - 1, limit);
      });
    });
  }

  private @Nullable ChatOptions requestOptions() {
    if (tools.isEmpty()) {
      return options;
    }
    ChatOptions base = options != null ? options : model.getOptions();
    if (!(base instanceof ToolCallingChatOptions toolOptions)) {
      throw new IllegalArgumentException("tools are set, but the options " + base.getClass().getName()
          + " are not ToolCallingChatOptions, so they cannot carry tool definitions to the model");
    }
    return toolOptions.mutate().toolCallbacks(tools.callbacks()).build();
  }

  private static Mono<Void> write(@Nullable TaskContext context, @Nullable Map<String, Object> chunk) {
    return context == null || chunk == null ? Mono.empty() : context.messages().write(chunk);
  }
}
