package dev.fluxgraph.samples.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OfflineChatModelTest {

  private final OfflineChatModel model = new OfflineChatModel();

  @Test
  void deterministicAnswers() {
    assertEquals("Hi Bob! How are you doing today?",
        model.invoke(List.of(ChatMessage.user("hi! I'm bob")), null).block().content());
    assertEquals("Your name is Bob.", model.invoke(List.of(ChatMessage.user("hi! I'm bob"),
        ChatMessage.assistant("Hi", List.of(), null), ChatMessage.user("what's my name?")), null).block().content());
    assertTrue(model.invoke(List.of(ChatMessage.user("Write an essay about cats.")), null).block().content()
        .startsWith("An essay about cats"));
    ChatMessage call = model.invoke(List.of(ChatMessage.user("What's the weather in sf?")),
        List.of(new ToolSpec("weather", "w", Map.of("properties", Map.of("city", Map.of())))), null).block();
    assertEquals(List.of(new ToolCall("call_weather", "weather", Map.of("city", "sf"))), call.toolCalls());
    assertEquals(model.invoke(List.of(ChatMessage.user("x")), null).block(),
        model.invoke(List.of(ChatMessage.user("x")), null).block());
  }

  @Test
  void fromEnvironment() {
    assertTrue(ChatModel.fromEnvironment(Map.of()) instanceof OfflineChatModel);
    assertTrue(ChatModel.fromEnvironment(Map.of("OPENAI_BASE_URL", "http://localhost:1/v1")) instanceof OpenAiChatModel);
  }
}
