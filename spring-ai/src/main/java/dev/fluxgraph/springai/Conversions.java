package dev.fluxgraph.springai;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.messages.AiMessage;
import dev.fluxgraph.messages.HumanMessage;
import dev.fluxgraph.messages.Message;
import dev.fluxgraph.messages.SystemMessage;
import dev.fluxgraph.messages.ToolCall;
import dev.fluxgraph.messages.ToolMessage;
import dev.fluxgraph.types.FluxgraphJson;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.chat.messages.UserMessage;

/** Fluxgraph's LangChain-shaped messages to Spring AI's, and tool-call arguments between JSON text and maps. */
final class Conversions {

  static final ObjectMapper JSON = FluxgraphJson.mapper();
  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() { };

  private Conversions() {
  }

  /**
   * The Spring AI messages of a conversation.
   *
   * @throws IllegalArgumentException naming the message when it is not a chat message (a {@code RemoveMessage})
   */
  static List<org.springframework.ai.chat.messages.Message> toSpringAi(List<? extends Message> messages) {
    List<org.springframework.ai.chat.messages.Message> converted = new ArrayList<>(messages.size());
    for (Message message : messages) {
      converted.add(toSpringAi(message));
    }
    return converted;
  }

  private static org.springframework.ai.chat.messages.Message toSpringAi(Message message) {
    if (message instanceof HumanMessage human) {
      return new UserMessage(human.text());
    }
    if (message instanceof SystemMessage system) {
      return new org.springframework.ai.chat.messages.SystemMessage(system.text());
    }
    if (message instanceof AiMessage ai) {
      List<AssistantMessage.ToolCall> calls = new ArrayList<>(ai.toolCalls().size());
      for (ToolCall call : ai.toolCalls()) {
        calls.add(new AssistantMessage.ToolCall(call.id() == null ? "" : call.id(), "function", call.name(),
            arguments(call.args())));
      }
      return AssistantMessage.builder().content(ai.text()).toolCalls(calls).build();
    }
    if (message instanceof ToolMessage tool) {
      return ToolResponseMessage.builder()
          .responses(List.of(new ToolResponseMessage.ToolResponse(tool.toolCallId(),
              tool.name() == null ? "" : tool.name(), tool.text())))
          .build();
    }
    throw new IllegalArgumentException("a " + message.type() + " message is an instruction to the messages reducer, "
        + "not a chat message a model can read: " + message);
  }

  /** The tool call's arguments as the JSON text a {@code ToolCallback} takes. */
  static String arguments(Map<String, Object> args) {
    try {
      return JSON.writeValueAsString(args);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("tool call arguments are not JSON-serializable: " + args, e);
    }
  }

  /** The arguments a model sent as JSON text, parsed; an empty or blank text reads as no arguments. */
  static Map<String, Object> parseArguments(String arguments) throws JsonProcessingException {
    if (arguments.isBlank()) {
      return Map.of();
    }
    Map<String, Object> parsed = JSON.readValue(arguments, MAP);
    return parsed == null ? Map.of() : new LinkedHashMap<>(parsed);
  }
}
