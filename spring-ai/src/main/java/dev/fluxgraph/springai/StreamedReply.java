package dev.fluxgraph.springai;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.fluxgraph.messages.AiMessage;
import dev.fluxgraph.messages.ToolCall;
import dev.fluxgraph.messages.UsageMetadata;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.metadata.ChatResponseMetadata;
import org.springframework.ai.chat.metadata.Usage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;

/**
 * The model's answer being assembled from the {@code ChatResponse}s of one {@code stream} call, and the chunks each
 * response adds to the {@code messages} stream mode (LangChain's {@code AIMessageChunk} shape: {@code content} for a
 * token, {@code tool_call_chunks} for tool calls, a last chunk with {@code usage_metadata}). Confined to the call's
 * subscription: Reactor delivers the responses one at a time.
 */
final class StreamedReply {

  private final StringBuilder content = new StringBuilder();
  /** By the call's id (or its position when the model gave none): a later response's version of a call replaces it. */
  private final LinkedHashMap<String, AssistantMessage.ToolCall> toolCalls = new LinkedHashMap<>();
  private @Nullable String id;
  private @Nullable Usage usage;
  private @Nullable String model;
  private @Nullable String finishReason;

  /** The messages-mode chunk this response adds (its text and tool calls), or null when it adds neither. */
  @Nullable Map<String, Object> accept(ChatResponse response) {
    ChatResponseMetadata metadata = response.getMetadata();
    if (id == null) {
      // every chunk and the final message carry one id, so that the messages stream can tell they are one message
      id = metadata.getId() == null || metadata.getId().isBlank() ? "run-" + UUID.randomUUID() : metadata.getId();
    }
    if (metadata.getModel() != null && !metadata.getModel().isBlank()) {
      model = metadata.getModel();
    }
    if (counted(metadata.getUsage())) {
      // providers report the counts so far (OpenAI once, in the last chunk): the latest report is the call's
      usage = metadata.getUsage();
    }
    Generation generation = response.getResult();
    if (generation == null) {
      return null;
    }
    if (generation.getMetadata().getFinishReason() != null && !generation.getMetadata().getFinishReason().isBlank()) {
      finishReason = generation.getMetadata().getFinishReason().toLowerCase(Locale.ROOT);
    }
    AssistantMessage output = generation.getOutput();
    String token = output.getText() == null ? "" : output.getText();
    content.append(token);
    List<Map<String, Object>> callChunks = new ArrayList<>();
    for (AssistantMessage.ToolCall call : output.getToolCalls()) {
      String key = call.id() == null || call.id().isBlank() ? "#" + toolCalls.size() : call.id();
      toolCalls.put(key, call);
      Map<String, Object> chunk = new LinkedHashMap<>();
      chunk.put("name", call.name());
      chunk.put("args", call.arguments() == null ? "" : call.arguments());
      chunk.put("id", call.id());
      chunk.put("index", callChunks.size());
      chunk.put("type", "tool_call_chunk");
      callChunks.add(chunk);
    }
    if (token.isEmpty() && callChunks.isEmpty()) {
      return null;
    }
    Map<String, Object> chunk = chunk(token);
    if (!callChunks.isEmpty()) {
      chunk.put("tool_call_chunks", callChunks);
    }
    return chunk;
  }

  /** The chunk that ends the message in the messages stream: token usage and finish reason, or null if neither. */
  @Nullable Map<String, Object> last() {
    if (id == null || (usage == null && finishReason == null)) {
      return null;
    }
    Map<String, Object> chunk = chunk("");
    chunk.put("response_metadata", responseMetadata());
    UsageMetadata counts = usageMetadata();
    if (counts != null) {
      chunk.put("usage_metadata", Conversions.JSON.convertValue(counts, Map.class));
    }
    chunk.put("chunk_position", "last");
    return chunk;
  }

  /** The whole answer: the text, the tool calls (those whose arguments are not a JSON object as invalid ones). */
  AiMessage message() {
    List<ToolCall> valid = new ArrayList<>();
    List<Map<String, Object>> invalid = new ArrayList<>();
    for (AssistantMessage.ToolCall call : toolCalls.values()) {
      String callId = call.id() == null || call.id().isBlank() ? "call_" + UUID.randomUUID() : call.id();
      String arguments = call.arguments() == null ? "" : call.arguments();
      try {
        valid.add(new ToolCall(call.name(), Conversions.parseArguments(arguments), callId));
      } catch (JsonProcessingException e) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("name", call.name());
        entry.put("args", arguments);
        entry.put("id", callId);
        entry.put("error", "the arguments are not a JSON object: " + e.getOriginalMessage());
        entry.put("type", "invalid_tool_call");
        invalid.add(entry);
      }
    }
    return new AiMessage(content.toString(), id, null, valid, invalid, usageMetadata(), Map.of(),
        responseMetadata());
  }

  private Map<String, Object> chunk(String token) {
    Map<String, Object> chunk = new LinkedHashMap<>();
    chunk.put("type", "AIMessageChunk");
    chunk.put("id", id);
    chunk.put("content", token);
    return chunk;
  }

  private Map<String, Object> responseMetadata() {
    Map<String, Object> metadata = new LinkedHashMap<>();
    if (model != null) {
      metadata.put("model_name", model);
    }
    if (finishReason != null) {
      metadata.put("finish_reason", finishReason);
    }
    return metadata;
  }

  private @Nullable UsageMetadata usageMetadata() {
    if (usage == null) {
      return null;
    }
    int input = count(usage.getPromptTokens());
    int output = count(usage.getCompletionTokens());
    int total = usage.getTotalTokens() == null ? input + output : count(usage.getTotalTokens());
    Map<String, Object> inputDetails = new LinkedHashMap<>();
    if (usage.getCacheReadInputTokens() != null) {
      inputDetails.put("cache_read", usage.getCacheReadInputTokens());
    }
    if (usage.getCacheWriteInputTokens() != null) {
      inputDetails.put("cache_creation", usage.getCacheWriteInputTokens());
    }
    return new UsageMetadata(input, output, total, inputDetails.isEmpty() ? null : inputDetails, null);
  }

  private static boolean counted(@Nullable Usage usage) {
    return usage != null && (count(usage.getPromptTokens()) > 0 || count(usage.getCompletionTokens()) > 0);
  }

  private static int count(@Nullable Integer tokens) {
    return tokens == null || tokens < 0 ? 0 : tokens;
  }
}
