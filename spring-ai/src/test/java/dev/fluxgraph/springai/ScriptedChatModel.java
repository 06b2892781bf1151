package dev.fluxgraph.springai;

import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.metadata.ChatGenerationMetadata;
import org.springframework.ai.chat.metadata.ChatResponseMetadata;
import org.springframework.ai.chat.metadata.Usage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.model.tool.ToolCallingChatOptions;
import reactor.core.publisher.Flux;

/**
 * A {@link ChatModel} for unit tests: {@code stream} answers the next scripted response flux (each subscription
 * records its prompt and counts a cancel); {@code call} is not supported, since {@link SpringAiChat} only streams.
 */
final class ScriptedChatModel implements ChatModel {

  private final Queue<Flux<ChatResponse>> script = new ConcurrentLinkedQueue<>();
  private final List<Prompt> prompts = new CopyOnWriteArrayList<>();
  private final AtomicInteger cancels = new AtomicInteger();
  private final ChatOptions options;

  ScriptedChatModel(ChatOptions options) {
    this.options = options;
  }

  ScriptedChatModel() {
    this(ToolCallingChatOptions.builder().model("scripted").build());
  }

  /** The next call answers these responses. */
  ScriptedChatModel then(Flux<ChatResponse> responses) {
    script.add(responses);
    return this;
  }

  List<Prompt> prompts() {
    return List.copyOf(prompts);
  }

  int cancels() {
    return cancels.get();
  }

  @Override
  public ChatOptions getOptions() {
    return options;
  }

  @Override
  public ChatResponse call(Prompt prompt) {
    throw new UnsupportedOperationException("SpringAiChat streams");
  }

  @Override
  public Flux<ChatResponse> stream(Prompt prompt) {
    return Flux.defer(() -> {
      prompts.add(prompt);
      Flux<ChatResponse> next = script.poll();
      if (next == null) {
        return Flux.error(new AssertionError("no scripted answer left for " + prompt));
      }
      return next.doOnCancel(cancels::incrementAndGet);
    });
  }

  /** A response with this text, tool calls, finish reason and usage under this id. */
  static ChatResponse response(String id, String text, List<AssistantMessage.ToolCall> toolCalls,
                               @Nullable String finishReason, @Nullable Usage usage) {
    AssistantMessage output = AssistantMessage.builder().content(text).toolCalls(toolCalls)
        .properties(Map.of()).build();
    ChatResponseMetadata.Builder metadata = ChatResponseMetadata.builder().id(id).model("scripted-1");
    if (usage != null) {
      metadata.usage(usage);
    }
    return new ChatResponse(List.of(new Generation(output,
        ChatGenerationMetadata.builder().finishReason(finishReason).build())), metadata.build());
  }

  static ChatResponse token(String id, String text) {
    return response(id, text, List.of(), null, null);
  }
}
