package dev.fluxgraph.messages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.graph.Reducers;
import dev.fluxgraph.types.FluxgraphJson;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BinaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The message records serialize exactly as LangChain's messages do (its {@code model_dump()} JSON), read back from
 * that JSON, and {@code Reducers.messages()} coerces everything LangChain's {@code add_messages} accepts.
 */
class MessagesTest {

  private final ObjectMapper plainJackson = new ObjectMapper(); // a user's own mapper, not Fluxgraph's
  private final ObjectMapper fluxgraph = FluxgraphJson.mapper();
  private final BinaryOperator<Object> reducer = Reducers.messages();

  // ------------------------------------------------------------------------------------------ JSON shapes

  @Test
  void humanAndSystemMessagesHaveLangChainsKeysInItsOrder() throws Exception {
    String human = "{\"content\":\"hi\",\"additional_kwargs\":{},\"response_metadata\":{},\"type\":\"human\","
        + "\"id\":\"h1\"}"; // no "name": LangChain leaves a null name out
    assertEquals(human, plainJackson.writeValueAsString(HumanMessage.of("hi").withId("h1")));
    assertEquals(human, fluxgraph.writeValueAsString(HumanMessage.of("hi").withId("h1")));
    assertEquals("{\"content\":\"hi\",\"additional_kwargs\":{},\"response_metadata\":{},\"type\":\"human\","
        + "\"name\":\"ann\",\"id\":\"h1\"}", fluxgraph.writeValueAsString(HumanMessage.of("hi").withId("h1")
        .withName("ann")));
    assertEquals("{\"content\":\"be brief\",\"additional_kwargs\":{},\"response_metadata\":{},\"type\":\"system\","
        + "\"id\":null}", plainJackson.writeValueAsString(SystemMessage.of("be brief")));
  }

  @Test
  void anAiMessageCarriesToolCallsAndUsage() throws Exception {
    AiMessage message = AiMessage.of("", List.of(ToolCall.of("get_weather", Map.of("city", "Paris"), "call_1")))
        .withUsage(UsageMetadata.of(12, 3)).withId("a1");
    assertEquals("{\"content\":\"\",\"additional_kwargs\":{},\"response_metadata\":{},\"type\":\"ai\","
        + "\"id\":\"a1\",\"tool_calls\":[{\"name\":\"get_weather\",\"args\":{\"city\":\"Paris\"},\"id\":\"call_1\","
        + "\"type\":\"tool_call\"}],\"invalid_tool_calls\":[],\"usage_metadata\":{\"input_tokens\":12,"
        + "\"output_tokens\":3,\"total_tokens\":15}}", plainJackson.writeValueAsString(message));
    assertEquals("{\"content\":\"x\",\"additional_kwargs\":{},\"response_metadata\":{},\"type\":\"ai\","
        + "\"id\":null,\"tool_calls\":[],\"invalid_tool_calls\":[]}",
        plainJackson.writeValueAsString(AiMessage.of("x")));
  }

  @Test
  void aToolMessageAnswersItsCall() throws Exception {
    assertEquals("{\"content\":\"18 C\",\"additional_kwargs\":{},\"response_metadata\":{},\"type\":\"tool\","
        + "\"name\":\"get_weather\",\"id\":null,\"tool_call_id\":\"call_1\",\"artifact\":null,\"status\":\"success\"}",
        plainJackson.writeValueAsString(ToolMessage.of("call_1", "18 C").withName("get_weather")));
    assertEquals("error", ToolMessage.error("call_1", "boom").status());
    assertThrows(IllegalArgumentException.class,
        () -> new ToolMessage("x", "call_1", null, null, "maybe", null, null, null));
    assertThrows(NullPointerException.class, () -> ToolMessage.of(null, "x"));
  }

  @Test
  void aRemoveMessageIsLangChainsRemoveMessage() throws Exception {
    assertEquals("{\"content\":\"\",\"additional_kwargs\":{},\"response_metadata\":{},\"type\":\"remove\","
        + "\"id\":\"m1\"}", plainJackson.writeValueAsString(RemoveMessage.of("m1")));
    assertEquals("__remove_all__", RemoveMessage.all().id());
  }

  @Test
  void langChainsJsonReadsBackAsTheRecordsEvenWithFieldsTheyDoNotHave() throws Exception {
    // what LangGraph Python's server shows of a state (langchain-core 0.3 still had "example")
    String python = "[{\"content\":\"hi\",\"additional_kwargs\":{},\"response_metadata\":{},\"type\":\"human\","
        + "\"name\":null,\"id\":\"h1\",\"example\":false},"
        + "{\"content\":\"\",\"additional_kwargs\":{},\"response_metadata\":{\"model_name\":\"gpt\"},\"type\":\"ai\","
        + "\"name\":null,\"id\":\"a1\",\"example\":false,\"tool_calls\":[{\"name\":\"t\",\"args\":{\"q\":1},"
        + "\"id\":\"c1\",\"type\":\"tool_call\"}],\"invalid_tool_calls\":[],\"usage_metadata\":{\"input_tokens\":1,"
        + "\"output_tokens\":2,\"total_tokens\":3,\"output_token_details\":{\"reasoning\":1}}},"
        + "{\"content\":\"ok\",\"additional_kwargs\":{},\"response_metadata\":{},\"type\":\"tool\",\"name\":null,"
        + "\"id\":\"t1\",\"tool_call_id\":\"c1\",\"artifact\":null,\"status\":\"success\"}]";
    for (ObjectMapper mapper : List.of(plainJackson, fluxgraph)) {
      List<Message> messages = mapper.readValue(python,
          mapper.getTypeFactory().constructCollectionType(List.class, Message.class));
      assertEquals(HumanMessage.of("hi").withId("h1"), messages.get(0));
      AiMessage ai = assertInstanceOf(AiMessage.class, messages.get(1));
      assertEquals(List.of(ToolCall.of("t", Map.of("q", 1), "c1")), ai.toolCalls());
      assertEquals(new UsageMetadata(1, 2, 3, null, Map.of("reasoning", 1)), ai.usageMetadata());
      assertEquals("gpt", ai.responseMetadata().get("model_name"));
      assertEquals(ToolMessage.of("c1", "ok").withId("t1"), messages.get(2));
      // and they write back to the same JSON, less the field LangChain 1.0 dropped and the null names (left out)
      assertEquals(mapper.readTree(python.replace(",\"example\":false", "").replace("\"name\":null,", "")),
          mapper.readTree(mapper.writerFor(mapper.getTypeFactory().constructCollectionType(List.class, Message.class))
              .writeValueAsString(messages)));
    }
  }

  record Chat(List<Message> messages) {
  }

  @Test
  void aFieldTypedMessageReadsWhatClientsSend() throws Exception {
    String input = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},\"plain text\","
        + "{\"lc\":1,\"type\":\"constructor\",\"id\":[\"langchain_core\",\"messages\",\"AIMessage\"],"
        + "\"kwargs\":{\"content\":\"yo\",\"id\":\"a1\"}},{\"type\":\"AIMessageChunk\",\"content\":\"c\"}]}";
    for (ObjectMapper mapper : List.of(plainJackson, fluxgraph)) {
      Chat chat = mapper.readValue(input, Chat.class);
      assertEquals(List.of(HumanMessage.of("hi"), HumanMessage.of("plain text"), AiMessage.of("yo").withId("a1"),
          AiMessage.of("c")), chat.messages());
      assertEquals(mapper.readTree("[" + String.join(",", chat.messages().stream().map(m -> {
        try {
          return mapper.writeValueAsString(m);
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      }).toList()) + "]"), mapper.valueToTree(chat).get("messages"));
      com.fasterxml.jackson.databind.JsonMappingException refused = assertThrows(
          com.fasterxml.jackson.databind.JsonMappingException.class,
          () -> mapper.readValue("{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", Chat.class));
      assertTrue(refused.getMessage().contains("'wizard'"), refused.getMessage());
    }
  }

  @Test
  void textJoinsTextBlocks() {
    Message blocks = Message.of(Map.of("role", "user", "content", List.of(Map.of("type", "text", "text", "a"),
        Map.of("type", "image_url", "image_url", Map.of("url", "x")), "b")));
    assertEquals("ab", blocks.text());
    assertEquals("hi", Message.of("hi").text());
  }

  // ------------------------------------------------------------------------------------------ coercion

  @Test
  void aPlainStringIsAHumanMessage() {
    Map<?, ?> message = only(reducer.apply(List.of(), "hello"));
    assertEquals("human", message.get("type"));
    assertEquals("hello", message.get("content"));
    assertNotNull(message.get("id"));
    assertEquals(Map.of(), message.get("additional_kwargs"));
  }

  @Test
  void roleStyleMapsGetLangChainsTypes() {
    List<?> result = (List<?>) reducer.apply(null, List.of(
        Map.of("role", "user", "content", "q"),
        Map.of("role", "assistant", "content", "a"),
        Map.of("role", "system", "content", "s"),
        Map.of("role", "developer", "content", "d"),
        Map.of("role", "tool", "content", "r", "tool_call_id", "c1"),
        Map.of("type", "human", "content", "h"),
        Map.of("type", "AIMessageChunk", "content", "chunk", "tool_call_chunks", List.of())));
    assertEquals(List.of("human", "ai", "system", "system", "tool", "human", "ai"),
        result.stream().map(m -> ((Map<?, ?>) m).get("type")).toList());
    Map<?, ?> developer = (Map<?, ?>) result.get(3);
    assertEquals(Map.of("__openai_role__", "developer"), developer.get("additional_kwargs"));
    Map<?, ?> tool = (Map<?, ?>) result.get(4);
    assertEquals("c1", tool.get("tool_call_id"));
    assertEquals("success", tool.get("status"));
    Map<?, ?> ai = (Map<?, ?>) result.get(1);
    assertEquals(List.of(), ai.get("tool_calls"));
    assertFalse(ai.containsKey("usage_metadata"), "no usage: the key is left out, as LangChain does");
    assertFalse(ai.containsKey("name"), "no name: the key is left out, as LangChain does");
    assertEquals(Map.of(), ((Map<?, ?>) result.get(6)).get("additional_kwargs"));
  }

  @Test
  void openAiToolCallsAndUnknownKeysAreConvertedAsLangChainDoes() {
    Map<?, ?> message = only(reducer.apply(null, Map.of("role", "assistant", "content", "", "id", "a1",
        "tool_calls", List.of(Map.of("id", "call_9", "type", "function",
            "function", Map.of("name", "lookup", "arguments", "{\"q\":\"otters\"}"))),
        "refusal", "none", "usage_metadata", Map.of("input_tokens", 5, "output_tokens", 7))));
    assertEquals(List.of(Map.of("name", "lookup", "args", Map.of("q", "otters"), "id", "call_9", "type", "tool_call")),
        message.get("tool_calls"));
    assertEquals(Map.of("refusal", "none"), message.get("additional_kwargs"));
    assertEquals(Map.of("input_tokens", 5, "output_tokens", 7, "total_tokens", 12), message.get("usage_metadata"));
    assertEquals("a1", message.get("id"));
  }

  @Test
  void langChainSerializedMessagesAreRead() {
    // what a JavaScript client sends for `new HumanMessage("hi")` / `new AIMessage({...})` (their toJSON())
    List<?> result = (List<?>) reducer.apply(null, List.of(
        Map.of("lc", 1, "type", "constructor", "id", List.of("langchain_core", "messages", "HumanMessage"),
            "kwargs", Map.of("content", "hi", "additional_kwargs", Map.of(), "response_metadata", Map.of())),
        Map.of("lc", 1, "type", "constructor", "id", List.of("langchain_core", "messages", "AIMessage"),
            "kwargs", Map.of("content", "yo", "id", "ai-1", "tool_calls", List.of(), "invalid_tool_calls",
                List.of()))));
    assertEquals(List.of("human", "ai"), result.stream().map(m -> ((Map<?, ?>) m).get("type")).toList());
    assertEquals("yo", ((Map<?, ?>) result.get(1)).get("content"));
    assertEquals("ai-1", ((Map<?, ?>) result.get(1)).get("id"));
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> reducer.apply(null,
        Map.of("lc", 1, "type", "constructor", "id", List.of("langchain_core", "prompts", "PromptTemplate"),
            "kwargs", Map.of())));
    assertTrue(unknown.getMessage().contains("PromptTemplate"), unknown.getMessage());
  }

  @Test
  void recordsAreAcceptedAsTheyAre() {
    Map<?, ?> message = only(reducer.apply(null, ToolMessage.of("c1", "done")));
    assertEquals("tool", message.get("type"));
    assertEquals("c1", message.get("tool_call_id"));
    assertNotNull(message.get("id"));
  }

  @Test
  void aMapWithNeitherRoleNorTypeIsKeptAsItIs() {
    assertEquals(List.of(Map.of("id", "1", "content", "a")), reducer.apply(null, Map.of("id", "1", "content", "a")));
  }

  @Test
  void badMessagesAreRefusedNamingTheProblem() {
    assertMessage("'content'", () -> reducer.apply(null, Map.of("role", "user")));
    assertMessage("'tool_call_id'", () -> reducer.apply(null, Map.of("role", "tool", "content", "x")));
    assertMessage("'wizard'", () -> reducer.apply(null, Map.of("role", "wizard", "content", "x")));
    assertMessage("42", () -> reducer.apply(null, 42));
    assertMessage("null message", () -> reducer.apply(null, java.util.Arrays.asList("a", null)));
    assertMessage("not JSON", () -> reducer.apply(null, Map.of("role", "assistant", "content", "",
        "tool_calls", List.of(Map.of("id", "c", "function", Map.of("name", "f", "arguments", "{oops"))))));
    assertMessage("content must be a string", () -> reducer.apply(null, Map.of("role", "user", "content", 7)));
    assertMessage("not a message", () -> Message.of(Map.of("content", "no role")));
  }

  // ------------------------------------------------------------------------------------------ merging

  @Test
  void removeThenAddTheSameIdInOneUpdateReplacesInPlaceAsLangGraphDoes() {
    List<Object> state = List.of(human("1", "a"), human("2", "b"));
    List<?> result = (List<?>) reducer.apply(state, List.of(RemoveMessage.of("1"), human("1", "a2")));
    assertEquals(List.of("a2", "b"), result.stream().map(m -> ((Map<?, ?>) m).get("content")).toList());
  }

  @Test
  void removeAllKeepsOnlyTheMessagesAfterIt() {
    List<Object> state = List.of(human("1", "a"), human("2", "b"));
    List<?> result = (List<?>) reducer.apply(state, List.of(human("0", "dropped too"), RemoveMessage.all(),
        human("3", "fresh"), "another"));
    assertEquals(List.of("fresh", "another"), result.stream().map(m -> ((Map<?, ?>) m).get("content")).toList());
  }

  @Test
  void idsAssignedToAMutableUpdateAreWrittenBackSoAReductionRepeatsThem() {
    Map<String, Object> update = new LinkedHashMap<>(Map.of("role", "user", "content", "x"));
    Object first = reducer.apply(null, update);
    Object second = reducer.apply(null, update);
    assertEquals(first, second);
    Object fresh = reducer.apply(null, Map.of("role", "user", "content", "x"));
    assertNotEquals(first, fresh);
  }

  @Test
  void theStatesOwnMessagesWithoutIdsGetOne() {
    List<Object> state = new ArrayList<>(List.of(Map.of("type", "human", "content", "old")));
    List<?> result = (List<?>) reducer.apply(state, List.of());
    assertNotNull(((Map<?, ?>) result.get(0)).get("id"));
  }

  private static Map<String, Object> human(String id, String content) {
    return Map.of("type", "human", "content", content, "id", id);
  }

  private static Map<?, ?> only(Object reduced) {
    List<?> list = assertInstanceOf(List.class, reduced);
    assertEquals(1, list.size(), list::toString);
    return assertInstanceOf(Map.class, list.get(0));
  }

  private static void assertMessage(String part, org.junit.jupiter.api.function.Executable executable) {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, executable);
    assertTrue(error.getMessage().contains(part), () -> "expected '" + part + "' in: " + error.getMessage());
  }
}
