package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.messages.AiMessage;
import dev.fluxgraph.messages.HumanMessage;
import dev.fluxgraph.messages.Message;
import dev.fluxgraph.messages.ToolCall;
import dev.fluxgraph.messages.ToolMessage;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.FluxgraphJson;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.StreamOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Issue 13 items 5 and 6 in a graph: a state typed with the message records, its JSON as LangChain's, and the
 * {@code messages} stream showing what nodes write, once.
 */
class MessagesGraphTest {

  private static final Duration VERIFY = Duration.ofSeconds(10);

  /** A chat state as users write it: messages typed with the records. */
  record Chat(List<Message> messages, @Nullable String note) {
  }

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());

  /** An agent that asks for a tool, the tool's answer, then the agent's final answer. */
  private CompiledGraph<Chat> agent() {
    return StateGraph.of(Chat.class)
        .reducer("messages", Reducers.messages())
        .addNode("agent", (state, context) -> {
          boolean answered = state.messages().get(state.messages().size() - 1) instanceof ToolMessage;
          return Mono.just(Map.of("messages", answered ? AiMessage.of("It is 18 C in Paris.")
              : AiMessage.of("", List.of(ToolCall.of("weather", Map.of("city", "Paris"), "call_1")))));
        })
        .addNode("tools", (state, context) -> {
          AiMessage last = (AiMessage) state.messages().get(state.messages().size() - 1);
          ToolCall call = last.toolCalls().get(0);
          return Mono.just(Map.of("messages", ToolMessage.of(call.id(), "18 C").withName(call.name())));
        })
        .setEntryPoint("agent")
        .addConditionalEdges("agent", state -> Mono.just(((AiMessage) state.messages()
            .get(state.messages().size() - 1)).toolCalls().isEmpty() ? StateGraph.END : "tools"))
        .addEdge("tools", "agent")
        .compile(CompileOptions.defaults().withCheckpointer(saver).withName("agent"));
  }

  @Test
  void aStateTypedWithTheRecordsRunsAndReadsBackTyped() {
    Chat result = agent().invoke(new Chat(List.of(HumanMessage.of("Weather in Paris?")), null), config)
        .block(VERIFY);
    assertNotNull(result);
    assertEquals(List.of("human", "ai", "tool", "ai"), result.messages().stream().map(Message::type).toList());
    result.messages().forEach(message -> assertNotNull(message.id(), message::toString));
    assertEquals("It is 18 C in Paris.", result.messages().get(3).text());
    Chat saved = (Chat) agent().getState(config).block(VERIFY).values();
    assertEquals(result, saved);
  }

  @Test
  void theSavedStateIsLangChainsJson() {
    agent().invoke(new Chat(List.of(HumanMessage.of("Weather in Paris?")), null), config).block(VERIFY);
    JsonNode state = FluxgraphJson.mapper().valueToTree(agent().getState(config).block(VERIFY).values());
    JsonNode tool = state.get("messages").get(2);
    assertEquals("tool", tool.get("type").asText());
    assertEquals("call_1", tool.get("tool_call_id").asText());
    assertEquals("weather", tool.get("name").asText());
    JsonNode call = state.get("messages").get(1).get("tool_calls").get(0);
    assertEquals("{\"name\":\"weather\",\"args\":{\"city\":\"Paris\"},\"id\":\"call_1\",\"type\":\"tool_call\"}",
        call.toString());
  }

  @Test
  void roleStyleInputReachesNodesAsRecords() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("messages", Reducers.messages())
        .addNode("echo", (state, context) -> {
          Message last = Message.of(((List<?>) state.get("messages")).get(0));
          return Mono.just(Map.of("messages", Map.of("role", "assistant", "content", "you said " + last.text())));
        })
        .setEntryPoint("echo")
        .compile();
    Map<String, Object> result = graph.invoke(Map.of("messages", List.of(Map.of("role", "user", "content", "hi"))),
        RunConfig.none()).block(VERIFY);
    List<?> messages = (List<?>) result.get("messages");
    assertEquals(List.of("human", "ai"), messages.stream().map(m -> ((Map<?, ?>) m).get("type")).toList());
    assertEquals("you said hi", ((Map<?, ?>) messages.get(1)).get("content"));
  }

  // ------------------------------------------------------------------------------------------ messages mode

  @Test
  void messagesModeShowsEveryMessageANodeWritesOnceNamingTheNode() {
    List<StreamChunk> chunks = agent().stream(new Chat(List.of(HumanMessage.of("Weather in Paris?")), null), config,
        StreamMode.MESSAGES).collectList().block(VERIFY);
    assertEquals(List.of("ai", "tool", "ai"), chunks.stream().map(chunk -> message(chunk).get("type")).toList());
    assertEquals(List.of("agent", "tools", "agent"), chunks.stream().map(chunk -> metadata(chunk).get("langgraph_node"))
        .toList());
    // the ids shown are the ids the state keeps
    Chat state = (Chat) agent().getState(config).block(VERIFY).values();
    assertEquals(state.messages().subList(1, 4).stream().map(Message::id).toList(),
        chunks.stream().map(chunk -> message(chunk).get("id")).toList());
    assertEquals("call_1", message(chunks.get(1)).get("tool_call_id"));
  }

  @Test
  void aMessageStreamedTokenByTokenIsNotShownAgainWhenTheNodeReturnsIt() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("messages", Reducers.messages())
        .addNode("model", (state, context) -> Flux.just("Hel", "lo")
            .concatMap(token -> context.messages().write(Map.of("type", "AIMessageChunk", "id", "run-1",
                "content", token)))
            .then(Mono.just(Map.of("messages", AiMessage.of("Hello").withId("run-1")))))
        .addNode("after", (state, context) -> Mono.just(Map.of("messages", AiMessage.of("and more"))))
        .setEntryPoint("model")
        .addEdge("model", "after")
        .compile();
    List<StreamChunk> chunks = graph.stream(Map.of("messages", "hi"), RunConfig.none(), StreamMode.MESSAGES)
        .collectList().block(VERIFY);
    assertEquals(List.of("Hel", "lo", "and more"), chunks.stream().map(chunk -> message(chunk).get("content"))
        .toList());
  }

  @Test
  void messagesAlreadyInTheNodesInputAreNotShownWhenItReturnsTheWholeList() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("messages", Reducers.messages())
        .addNode("rewrite", (state, context) -> {
          List<Object> all = new ArrayList<>((List<?>) state.get("messages"));
          all.add(Map.of("role", "assistant", "content", "new"));
          return Mono.just(Map.of("messages", all));
        })
        .setEntryPoint("rewrite")
        .compile();
    List<StreamChunk> chunks = graph.stream(Map.of("messages", List.of("one", "two")), RunConfig.none(),
        StreamMode.MESSAGES).collectList().block(VERIFY);
    assertEquals(List.of("new"), chunks.stream().map(chunk -> message(chunk).get("content")).toList());
  }

  @Test
  void messagesOutsideAMessagesKeyAreShownTooButOtherValuesAreNot() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("n", (state, context) -> Mono.just(Map.of("last", AiMessage.of("x").withId("m1"),
            "plain", Map.of("content", "not a message"), "count", 3)))
        .setEntryPoint("n")
        .compile();
    List<StreamChunk> chunks = graph.stream(Map.of(), RunConfig.none(), StreamMode.MESSAGES).collectList()
        .block(VERIFY);
    assertEquals(List.of("m1"), chunks.stream().map(chunk -> message(chunk).get("id")).toList());
  }

  @Test
  void aResumedRunDoesNotShowTheMessagesOfNodesThatReplay() {
    AtomicInteger asked = new AtomicInteger();
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("messages", Reducers.messages())
        .addNode("draft", (state, context) -> Mono.just(Map.of("messages", AiMessage.of("draft"))))
        .addNode("ask", (state, context) -> Mono.defer(() -> {
          asked.incrementAndGet();
          return context.interrupt("ok?", String.class);
        }).map(answer -> Map.of("messages", HumanMessage.of(answer))))
        .addNode("also", (state, context) -> Mono.just(Map.of("messages", AiMessage.of("parallel"))))
        .addEdge(StateGraph.START, "draft")
        .addEdge("draft", "ask")
        .addEdge("draft", "also")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
    List<StreamChunk> first = graph.stream(Map.of("messages", "go"), config, StreamMode.MESSAGES).collectList()
        .block(VERIFY);
    assertEquals(List.of("draft", "parallel"), first.stream().map(chunk -> message(chunk).get("content")).toList());
    List<StreamChunk> resumed = graph.stream(Command.resume("yes"), config, StreamMode.MESSAGES).collectList()
        .block(VERIFY);
    assertEquals(List.of("yes"), resumed.stream().map(chunk -> message(chunk).get("content")).toList());
    assertEquals(2, asked.get());
  }

  @Test
  void aSubgraphsMessagesAreShownOnceAtTheLevelAskedFor() {
    CompiledGraph<Map<String, Object>> child = StateGraph.ofMap()
        .reducer("messages", Reducers.messages())
        .addNode("reply", (state, context) -> Mono.just(Map.of("messages", AiMessage.of("from the child"))))
        .setEntryPoint("reply")
        .compile(CompileOptions.defaults().withName("child"));
    CompiledGraph<Map<String, Object>> parent = StateGraph.ofMap()
        .reducer("messages", Reducers.messages())
        .addNode("inner", child)
        .setEntryPoint("inner")
        .compile();
    List<StreamChunk> flat = parent.stream(Map.of("messages", "hi"), RunConfig.none(), StreamMode.MESSAGES)
        .collectList().block(VERIFY);
    assertEquals(1, flat.size(), flat::toString);
    assertEquals("from the child", message(flat.get(0)).get("content"));
    assertEquals("inner", metadata(flat.get(0)).get("langgraph_node"));
    assertEquals(List.of(), flat.get(0).namespace());

    List<StreamChunk> nested = parent.stream(Map.of("messages", "hi"), RunConfig.none(),
        StreamOptions.of(StreamMode.MESSAGES).withSubgraphs(true)).collectList().block(VERIFY);
    assertEquals(1, nested.size(), nested::toString);
    assertEquals("reply", metadata(nested.get(0)).get("langgraph_node"));
    assertTrue(nested.get(0).namespace().get(0).startsWith("inner:"), nested::toString);
  }

  private static Map<?, ?> message(StreamChunk chunk) {
    assertEquals(StreamMode.MESSAGES, chunk.mode());
    return assertInstanceOf(Map.class, assertInstanceOf(List.class, chunk.data()).get(0));
  }

  private static Map<?, ?> metadata(StreamChunk chunk) {
    return assertInstanceOf(Map.class, assertInstanceOf(List.class, chunk.data()).get(1));
  }
}
