package dev.fluxgraph.samples.model;

import dev.fluxgraph.func.TaskContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A deterministic stand-in for a chat model, used when no endpoint is configured so that the samples run
 * anywhere. It is not a language model: it answers by rules, and its answers only depend on the messages.
 * <ul>
 *   <li>"Write an essay/paragraph about X" gives a fixed text about X;</li>
 *   <li>"I'm NAME" is greeted; "what's my name?" is answered from earlier messages;</li>
 *   <li>with tools, a user message asks for the first tool a word of whose name (longer than three letters,
 *       e.g. "weather" of {@code get_weather}) appears in it, with the words after "for"/"in" as its first
 *       argument; once tool results are present, it summarises them;</li>
 *   <li>anything else is echoed.</li>
 * </ul>
 * Tokens are streamed word by word to the task's {@code messages()}.
 */
public final class OfflineChatModel implements ChatModel {

  private static final Pattern NAME = Pattern.compile("(?i)\\bI'?m\\s+(\\w+)");
  private static final Pattern TOPIC = Pattern.compile("(?i)about\\s+(.+?)[.!?]?$");

  @Override
  public Mono<ChatMessage> invoke(List<ChatMessage> messages, List<ToolSpec> tools, @Nullable TaskContext context) {
    return Mono.defer(() -> {
      ChatMessage reply = answer(messages, tools);
      String id = "offline-" + UUID.nameUUIDFromBytes(reply.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
      List<String> tokens = new ArrayList<>();
      Matcher words = Pattern.compile("\\S+\\s*").matcher(reply.content());
      while (words.find()) {
        tokens.add(words.group());
      }
      return Flux.fromIterable(tokens)
          .concatMap(token -> context == null ? Mono.empty() : context.messages().write(ChatModel.tokenChunk(id, token)))
          .then(Mono.just(reply.withId(id)));
    });
  }

  private static ChatMessage answer(List<ChatMessage> messages, List<ToolSpec> tools) {
    ChatMessage last = messages.isEmpty() ? ChatMessage.user("") : messages.get(messages.size() - 1);
    if (last.role().equals("tool")) {
      List<String> results = messages.stream().filter(m -> m.role().equals("tool")).map(ChatMessage::content).toList();
      return ChatMessage.assistant("Here is what I found: " + String.join("; ", results) + ".", List.of(), null);
    }
    String text = last.content();
    String lower = text.toLowerCase(Locale.ROOT);
    for (ToolSpec tool : tools) {
      boolean mentioned = java.util.Arrays.stream(tool.name().toLowerCase(Locale.ROOT).split("_"))
          .filter(word -> word.length() > 3)
          .anyMatch(lower::contains);
      if (mentioned) {
        Matcher argument = Pattern.compile("(?i)\\b(?:for|in)\\s+([\\w ]+?)[.?!]*$").matcher(text);
        String value = argument.find() ? argument.group(1) : text;
        String key = tool.parameters().get("properties") instanceof Map<?, ?> properties && !properties.isEmpty()
            ? String.valueOf(properties.keySet().iterator().next()) : "input";
        return ChatMessage.assistant("", List.of(new ToolCall("call_" + tool.name(), tool.name(), Map.of(key, value))),
            null);
      }
    }
    Matcher topic = TOPIC.matcher(text);
    if (lower.startsWith("write") && topic.find()) {
      String subject = topic.group(1);
      return ChatMessage.assistant((lower.contains("essay") ? "An essay about " : "A paragraph about ") + subject
          + ": " + subject + " is a subject worth knowing well.", List.of(), null);
    }
    if (lower.contains("what's my name") || lower.contains("what is my name")) {
      for (ChatMessage message : messages) {
        Matcher name = NAME.matcher(message.content());
        if (message.role().equals("user") && name.find()) {
          return ChatMessage.assistant("Your name is " + capitalize(name.group(1)) + ".", List.of(), null);
        }
      }
      return ChatMessage.assistant("I don't know your name yet.", List.of(), null);
    }
    Matcher name = NAME.matcher(text);
    if (name.find()) {
      return ChatMessage.assistant("Hi " + capitalize(name.group(1)) + "! How are you doing today?", List.of(), null);
    }
    return ChatMessage.assistant("You said: " + text, List.of(), null);
  }

  private static String capitalize(String word) {
    return word.substring(0, 1).toUpperCase(Locale.ROOT) + word.substring(1);
  }
}
