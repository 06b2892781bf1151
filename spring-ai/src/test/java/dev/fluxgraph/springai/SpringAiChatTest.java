package dev.fluxgraph.springai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.graph.CompiledGraph;
import dev.fluxgraph.graph.Reducers;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.messages.AiMessage;
import dev.fluxgraph.messages.HumanMessage;
import dev.fluxgraph.messages.Message;
import dev.fluxgraph.messages.SystemMessage;
import dev.fluxgraph.messages.ToolCall;
import dev.fluxgraph.messages.ToolMessage;
import dev.fluxgraph.messages.UsageMetadata;
import dev.fluxgraph.types.RetryPolicy;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.TypeRef;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.MessageType;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.chat.metadata.DefaultUsage;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.model.tool.ToolCallingChatOptions;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.definition.ToolDefinition;
import org.springframework.ai.tool.execution.ToolExecutionException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class SpringAiChatTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final TypeRef<List<Message>> MESSAGES = new TypeRef<>() { };

  @Test
  void theConversationReachesTheModelAsSpringAiMessages() {
    ScriptedChatModel model = new ScriptedChatModel().then(Flux.just(ScriptedChatModel.token("m1", "ok")));
    List<Message> conversation = List.of(SystemMessage.of("be brief"), HumanMessage.of("weather?"),
        AiMessage.of("", List.of(ToolCall.of("get_weather", Map.of("city", "sf"), "call_1"))),
        ToolMessage.of("call_1", "sunny").withName("get_weather"));
    StepVerifier.create(SpringAiChat.of(model).stream(conversation, null))
        .assertNext(answer -> assertEquals("ok", answer.content()))
        .expectComplete()
        .verify(WAIT);
    List<org.springframework.ai.chat.messages.Message> sent = model.prompts().get(0).getInstructions();
    assertEquals(List.of(MessageType.SYSTEM, MessageType.USER, MessageType.ASSISTANT, MessageType.TOOL),
        sent.stream().map(org.springframework.ai.chat.messages.Message::getMessageType).toList());
    assertEquals("weather?", sent.get(1).getText());
    assertEquals(List.of(new AssistantMessage.ToolCall("call_1", "function", "get_weather", "{\"city\":\"sf\"}")),
        ((AssistantMessage) sent.get(2)).getToolCalls());
    assertEquals(List.of(new ToolResponseMessage.ToolResponse("call_1", "get_weather", "sunny")),
        ((ToolResponseMessage) sent.get(3)).getResponses());
    assertEquals(null, model.prompts().get(0).getOptions(), "no tools, no options: the model's defaults apply");
  }

  @Test
  void toolsAreOfferedThroughTheModelsToolCallingOptions() {
    ScriptedChatModel model = new ScriptedChatModel().then(Flux.just(ScriptedChatModel.token("m1", "a")))
        .then(Flux.just(ScriptedChatModel.token("m2", "b")));
    ToolCallback weather = WeatherTool.of(query -> "sunny");
    SpringAiChat chat = SpringAiChat.of(model).withTools(weather);
    chat.stream(List.of(HumanMessage.of("x")), null).block(WAIT);
    ToolCallingChatOptions defaults = assertInstanceOf(ToolCallingChatOptions.class,
        model.prompts().get(0).getOptions());
    assertEquals("scripted", defaults.getModel(), "the model's own defaults, with the tools");
    assertEquals(List.of(weather), defaults.getToolCallbacks());

    chat.withOptions(ToolCallingChatOptions.builder().model("other").temperature(0.2).build())
        .stream(List.of(HumanMessage.of("x")), null).block(WAIT);
    ToolCallingChatOptions given = (ToolCallingChatOptions) model.prompts().get(1).getOptions();
    assertEquals("other", given.getModel());
    assertEquals(0.2, given.getTemperature());
    assertEquals(List.of(weather), given.getToolCallbacks());
  }

  @Test
  void optionsThatCannotCarryToolsAreAClearError() {
    ScriptedChatModel model = new ScriptedChatModel(ChatOptions.builder().model("plain").build());
    StepVerifier.create(SpringAiChat.of(model).withTools(WeatherTool.of(query -> "sunny"))
            .stream(List.of(HumanMessage.of("x")), null))
        .expectErrorSatisfies(error -> {
          assertInstanceOf(IllegalArgumentException.class, error);
          assertTrue(error.getMessage().contains("ToolCallingChatOptions"), error.getMessage());
        })
        .verify(WAIT);
    assertEquals(List.of(), model.prompts(), "the model was not called");
  }

  @Test
  void theAnswerAssemblesTokensToolCallsUsageAndMetadata() {
    ScriptedChatModel model = new ScriptedChatModel().then(Flux.just(
        ScriptedChatModel.token("m1", "Let me "),
        ScriptedChatModel.token("m1", "check."),
        ScriptedChatModel.response("m1", "", List.of(
                new AssistantMessage.ToolCall("call_1", "function", "get_weather", "{\"city\":\"sf\"}"),
                new AssistantMessage.ToolCall("call_2", "function", "get_weather", "{city: sf")),
            "TOOL_CALLS", new DefaultUsage(12, 5, 17, null, 4L, null))));
    AiMessage answer = SpringAiChat.of(model).stream(List.of(HumanMessage.of("x")), null).block(WAIT);
    assertEquals("Let me check.", answer.content());
    assertEquals("m1", answer.id());
    assertEquals(List.of(ToolCall.of("get_weather", Map.of("city", "sf"), "call_1")), answer.toolCalls());
    assertEquals(1, answer.invalidToolCalls().size(), "arguments that are not JSON: " + answer.invalidToolCalls());
    Map<String, Object> invalid = answer.invalidToolCalls().get(0);
    assertEquals("call_2", invalid.get("id"));
    assertEquals("{city: sf", invalid.get("args"));
    assertEquals("invalid_tool_call", invalid.get("type"));
    assertEquals(new UsageMetadata(12, 5, 17, Map.of("cache_read", 4L), null), answer.usageMetadata());
    assertEquals(Map.of("model_name", "scripted-1", "finish_reason", "tool_calls"), answer.responseMetadata());
  }

  @Test
  void theTokenUsageAndTheModelGoOnTheObservationOfTheTaskThatCalledTheModel() {
    ScriptedChatModel model = new ScriptedChatModel().then(Flux.just(ScriptedChatModel.token("m1", "Hi"),
        ScriptedChatModel.response("m1", "", List.of(), "STOP", new DefaultUsage(12, 5))));
    SpringAiChat chat = SpringAiChat.of(model);
    Map<String, Map<String, String>> attributes = new java.util.concurrent.ConcurrentHashMap<>();
    Entrypoint<String, AiMessage> run = Entrypoint.named("chat").instrumentation(recording(attributes))
        .define(String.class, AiMessage.class, (text, context) -> chat.task().call(List.of(HumanMessage.of(text))));
    run.invoke("x", RunConfig.none()).block(WAIT);
    assertEquals(Map.of("gen_ai.usage.input_tokens", "12", "gen_ai.usage.output_tokens", "5",
        "gen_ai.response.model", "scripted-1"), attributes.get("call_model"), attributes.toString());
    assertEquals(null, attributes.get("chat"), "the entrypoint's own observation gets none");
  }

  /** A hook that keeps the attributes each scope's observation gets, by task (or workflow) name. */
  private static dev.fluxgraph.instrument.Instrumentation recording(Map<String, Map<String, String>> attributes) {
    return (workflow, config, context) -> new Recorder(workflow, attributes);
  }

  /** Observes a run and every task in it, recording attributes under the scope's name. */
  private record Recorder(String name, Map<String, Map<String, String>> attributes)
      implements dev.fluxgraph.instrument.RunObserver, dev.fluxgraph.instrument.TaskObserver {
    @Override
    public dev.fluxgraph.instrument.TaskObserver taskStarted(String task, String callId, boolean nested) {
      return new Recorder(task, attributes);
    }

    @Override
    public void taskReplayed(String task, String callId) {
    }

    @Override
    public void interrupted(String interruptId) {
    }

    @Override
    public void retrying(int failedAttempts, Throwable error) {
    }

    @Override
    public void attribute(String key, String value) {
      attributes.computeIfAbsent(name, scope -> new java.util.concurrent.ConcurrentHashMap<>()).put(key, value);
    }

    @Override
    public Completion checkpointWriteStarted(dev.fluxgraph.instrument.CheckpointWrite kind) {
      return Completion.NOOP;
    }

    @Override
    public void runEnded(dev.fluxgraph.instrument.RunOutcome outcome, @org.jspecify.annotations.Nullable Throwable error) {
    }

    @Override
    public void taskEnded(dev.fluxgraph.instrument.TaskOutcome outcome, int attempts,
                          @org.jspecify.annotations.Nullable Throwable error) {
    }
  }

  @Test
  void withoutAnIdFromTheModelTheTokensAndTheAnswerShareAGeneratedOne() {
    ScriptedChatModel model = new ScriptedChatModel().then(Flux.just(ScriptedChatModel.token("", "a"),
        ScriptedChatModel.token("", "b")));
    SpringAiChat chat = SpringAiChat.of(model);
    Entrypoint<String, AiMessage> run = Entrypoint.named("chat").define(String.class, AiMessage.class,
        (text, context) -> chat.task().call(List.of(HumanMessage.of(text))));
    List<StreamChunk> chunks = run.stream("x", RunConfig.none(), StreamMode.MESSAGES, StreamMode.VALUES)
        .collectList().block(WAIT);
    List<Object> ids = chunks.stream().filter(chunk -> chunk.mode() == StreamMode.MESSAGES)
        .<Object>map(chunk -> ((Map<?, ?>) ((List<?>) chunk.data()).get(0)).get("id")).distinct().toList();
    AiMessage answer = (AiMessage) chunks.get(chunks.size() - 1).data();
    assertEquals(1, ids.size(), ids.toString());
    assertEquals(answer.id(), ids.get(0));
    assertTrue(answer.id().startsWith("run-"), answer.id());
    assertEquals(null, answer.usageMetadata(), "the model reported no usage");
  }

  @Test
  void inAGraphNodeTheTokensAreShownAndTheReturnedMessageIsNotShownAgain() {
    ScriptedChatModel model = new ScriptedChatModel().then(Flux.just(ScriptedChatModel.token("m1", "Hel"),
        ScriptedChatModel.response("m1", "lo", List.of(), "STOP", new DefaultUsage(3, 2))));
    SpringAiChat chat = SpringAiChat.of(model);
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .reducer("messages", Reducers.messages())
        .addNode("model", (state, context) -> chat.stream(
                ((List<?>) state.get("messages")).stream().map(Message::of).toList(), context)
            .map(answer -> Map.of("messages", answer)))
        .setEntryPoint("model")
        .compile();
    List<StreamChunk> chunks = graph.stream(Map.of("messages", "hi"), RunConfig.none(), StreamMode.MESSAGES,
        StreamMode.VALUES).collectList().block(WAIT);
    List<Object> shown = chunks.stream().filter(chunk -> chunk.mode() == StreamMode.MESSAGES)
        .<Object>map(chunk -> ((Map<?, ?>) ((List<?>) chunk.data()).get(0)).get("content")).toList();
    assertEquals(List.of("Hel", "lo", ""), shown, "the tokens and the usage chunk, not the whole message again");
    @SuppressWarnings("unchecked")
    List<Object> state = (List<Object>) ((Map<String, Object>) chunks.get(chunks.size() - 1).data()).get("messages");
    AiMessage kept = assertInstanceOf(AiMessage.class, Message.of(state.get(1)));
    assertEquals("Hello", kept.content());
    assertEquals("m1", kept.id());
    assertEquals(UsageMetadata.of(3, 2), kept.usageMetadata());
  }

  @Test
  void cancellingTheCallCancelsTheModelsStream() {
    ScriptedChatModel model = new ScriptedChatModel()
        .then(Flux.just(ScriptedChatModel.token("m1", "a")).concatWith(Flux.never()));
    StepVerifier.create(SpringAiChat.of(model).stream(List.of(HumanMessage.of("x")), null))
        .expectSubscription()
        .thenCancel()
        .verify(WAIT);
    assertEquals(1, model.cancels());
  }

  @Test
  void theStreamIsColdAndEverySubscriptionIsOneCall() {
    ScriptedChatModel model = new ScriptedChatModel();
    var call = SpringAiChat.of(model).stream(List.of(HumanMessage.of("x")), null);
    assertEquals(List.of(), model.prompts(), "nothing happens before subscription");
    model.then(Flux.just(ScriptedChatModel.token("m1", "a"))).then(Flux.just(ScriptedChatModel.token("m2", "b")));
    assertEquals("a", call.block(WAIT).content());
    assertEquals("b", call.block(WAIT).content());
  }

  @Test
  void theAgentStopsAtItsModelCallLimit() {
    AtomicInteger toolCalls = new AtomicInteger();
    ScriptedChatModel model = new ScriptedChatModel();
    for (int i = 0; i < 2; i++) {
      model.then(Flux.just(ScriptedChatModel.response("m" + i, "", List.of(
          new AssistantMessage.ToolCall("call_" + i, "function", "get_weather", "{\"city\":\"sf\"}")), null, null)));
    }
    SpringAiChat chat = SpringAiChat.of(model)
        .withTools(WeatherTool.of(query -> "sunny " + toolCalls.incrementAndGet()));
    Entrypoint<List<Message>, List<Message>> agent = Entrypoint.named("agent")
        .define(MESSAGES, MESSAGES, chat.agent(2));
    StepVerifier.create(agent.invoke(List.of(HumanMessage.of("x")), RunConfig.none()))
        .expectErrorSatisfies(error -> {
          assertInstanceOf(IllegalStateException.class, error);
          assertTrue(error.getMessage().contains("after 2 model calls"), error.getMessage());
        })
        .verify(WAIT);
    assertEquals(2, model.prompts().size());
    assertEquals(1, toolCalls.get());
    assertThrows(IllegalArgumentException.class, () -> chat.agent(0));
  }

  @Test
  void aFailingToolAnswersAnErrorMessageForTheModel() {
    SpringAiTools tools = SpringAiTools.of(WeatherTool.of(query -> "sunny"), new FailingTool());
    AiMessage asking = AiMessage.of("", List.of(ToolCall.of("get_weather", Map.of("city", "sf"), "call_1"),
        ToolCall.of("fail", Map.of(), "call_2")));
    List<ToolMessage> answers = runTools(tools, asking).block(WAIT);
    assertEquals(List.of("call_1", "call_2"), answers.stream().map(ToolMessage::toolCallId).toList(),
        "in the order of the calls");
    assertEquals("sunny", answers.get(0).content());
    assertEquals("success", answers.get(0).status());
    assertEquals("error", answers.get(1).status());
    assertEquals("the tool broke", answers.get(1).content());
  }

  @Test
  void withErrorsNotAnsweredAFailingToolIsRetriedByItsTaskPolicyThenFailsTheRun() {
    AtomicInteger attempts = new AtomicInteger();
    SpringAiTools tools = SpringAiTools.of(WeatherTool.of(query -> {
          if (attempts.incrementAndGet() == 1) {
            throw new IllegalStateException("flaky backend"); // FunctionToolCallback wraps it
          }
          return "sunny";
        }), new FailingTool())
        .withErrorsAnswered(false)
        .withRetry(RetryPolicy.retryOn(IllegalStateException.class).withInitialInterval(Duration.ofMillis(1))
            .withJitter(false));
    AiMessage weather = AiMessage.of("", List.of(ToolCall.of("get_weather", Map.of("city", "sf"), "call_1")));
    assertEquals("sunny", runTools(tools, weather).block(WAIT).get(0).content());
    assertEquals(2, attempts.get(), "the first attempt's IllegalStateException was retried");

    AiMessage failing = AiMessage.of("", List.of(ToolCall.of("fail", Map.of(), "call_2")));
    StepVerifier.create(runTools(tools, failing))
        .expectErrorSatisfies(error -> assertEquals("the tool broke", error.getMessage()))
        .verify(WAIT);
  }

  private static Mono<List<ToolMessage>> runTools(SpringAiTools tools, AiMessage asking) {
    return Entrypoint.named("tools")
        .define(new TypeRef<String>() { }, new TypeRef<List<ToolMessage>>() { },
            (input, context) -> tools.call(asking))
        .invoke("x", RunConfig.none());
  }

  @Test
  void toolsAreNamedOnce() {
    IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
        () -> SpringAiTools.of(WeatherTool.of(query -> "a"), WeatherTool.of(query -> "b")));
    assertTrue(twice.getMessage().contains("get_weather"), twice.getMessage());
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
        () -> SpringAiTools.of(WeatherTool.of(query -> "a")).task("get_time"));
    assertTrue(unknown.getMessage().contains("[get_weather]"), unknown.getMessage());
  }

  /** A tool that always fails as Spring AI tools report failures: with a {@link ToolExecutionException}. */
  private static final class FailingTool implements ToolCallback {
    private final ToolDefinition definition = ToolDefinition.builder().name("fail").description("fails")
            .inputSchema("{\"type\":\"object\"}").build();

    @Override
    public ToolDefinition getToolDefinition() {
      return definition;
    }

    @Override
    public String call(String toolInput) {
      throw new ToolExecutionException(definition, new RuntimeException("the tool broke"));
    }
  }
}
