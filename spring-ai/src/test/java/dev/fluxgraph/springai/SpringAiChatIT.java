package dev.fluxgraph.springai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.messages.AiMessage;
import dev.fluxgraph.messages.HumanMessage;
import dev.fluxgraph.messages.Message;
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
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.context.ConfigurableApplicationContext;
import reactor.test.StepVerifier;

/** {@link SpringAiChat} on Spring AI's OpenAI model, as its starter builds it, against {@link FakeOpenAi}. */
class SpringAiChatIT {

  private static final TypeRef<List<Message>> MESSAGES = new TypeRef<>() { };
  private static final Duration WAIT = Duration.ofSeconds(30);

  private static FakeOpenAi server;
  private static ConfigurableApplicationContext app;
  private static ChatModel model;

  @BeforeAll
  static void start() {
    server = new FakeOpenAi();
    app = OpenAiStarter.start(server.baseUrl());
    model = OpenAiStarter.chatModel(app);
  }

  @AfterAll
  static void stop() {
    app.close();
    server.close();
  }

  private int requestsBefore;

  @BeforeEach
  void countRequests() {
    requestsBefore = server.requests().size();
  }

  private List<JsonNode> newRequests() {
    List<JsonNode> all = server.requests();
    return all.subList(requestsBefore, all.size());
  }

  private static Entrypoint<String, AiMessage> chat(SpringAiChat chat) {
    return Entrypoint.named("chat").define(String.class, AiMessage.class,
        (text, context) -> chat.task().call(List.of(HumanMessage.of(text))));
  }

  @Test
  void tokensStreamToTheMessagesModeAndTheAnswerCarriesTheTokenUsage() {
    List<StreamChunk> chunks = chat(SpringAiChat.of(model))
        .stream("hi", RunConfig.none(), StreamMode.MESSAGES, StreamMode.UPDATES)
        .collectList().block(WAIT);
    List<Map<?, ?>> messages = chunks.stream().filter(chunk -> chunk.mode() == StreamMode.MESSAGES)
        .<Map<?, ?>>map(chunk -> (Map<?, ?>) ((List<?>) chunk.data()).get(0)).toList();
    assertEquals(List.of("Hello", " world", "!", ""), messages.stream().map(m -> m.get("content")).toList());
    assertTrue(messages.stream().allMatch(m -> "AIMessageChunk".equals(m.get("type"))
        && "chatcmpl-1".equals(m.get("id"))), "one message id on every chunk: " + messages);
    Map<?, ?> metadata = (Map<?, ?>) ((List<?>) chunks.get(0).data()).get(1);
    assertEquals("call_model", metadata.get("langgraph_node"));
    assertEquals(Map.of("input_tokens", 7, "output_tokens", 3, "total_tokens", 10),
        messages.get(3).get("usage_metadata"), "the last chunk carries the usage");
    assertEquals(StreamMode.MESSAGES, chunks.get(0).mode(), "tokens arrive before the task's update");

    AiMessage answer = (AiMessage) ((Map<?, ?>) chunks.get(chunks.size() - 1).data()).get("chat");
    assertEquals("Hello world!", answer.content());
    assertEquals("chatcmpl-1", answer.id());
    assertEquals(UsageMetadata.of(FakeOpenAi.PROMPT_TOKENS, FakeOpenAi.COMPLETION_TOKENS), answer.usageMetadata());
    assertEquals(Map.of("model_name", "test-model", "finish_reason", "stop"), answer.responseMetadata());

    List<JsonNode> requests = newRequests();
    assertEquals(1, requests.size());
    assertTrue(requests.get(0).path("stream").asBoolean(), "the model is called through stream: " + requests);
    assertEquals("test-model", requests.get(0).path("model").asText());
    assertFalse(requests.get(0).has("tools"), "no tools offered");
  }

  @Test
  void aToolCallRunsAsATaskAndTheModelIsCalledAgainWithItsAnswer() {
    AtomicInteger toolCalls = new AtomicInteger();
    SpringAiChat chat = SpringAiChat.of(model).withTools(WeatherTool.of(query -> {
      toolCalls.incrementAndGet();
      return "sunny in " + query.city();
    }));
    Entrypoint<List<Message>, List<Message>> agent = Entrypoint.named("agent").checkpointer(new InMemorySaver())
        .define(MESSAGES, MESSAGES, chat.agent(5));
    RunConfig thread = RunConfig.thread("weather-1");

    List<StreamChunk> chunks = agent.stream(List.of(HumanMessage.of("weather?")), thread, StreamMode.MESSAGES,
        StreamMode.UPDATES).collectList().block(WAIT);

    List<Message> conversation = agent.getState(thread).map(state -> {
      @SuppressWarnings("unchecked")
      List<Message> values = (List<Message>) state.values();
      return values;
    }).block(WAIT);
    assertEquals(4, conversation.size(), "human, ai asking for the tool, tool, ai: " + conversation);
    AiMessage asking = assertInstanceOf(AiMessage.class, conversation.get(1));
    assertEquals(List.of(new ToolCall("get_weather", Map.of("city", "sf"), "call_1")), asking.toolCalls());
    assertEquals(UsageMetadata.of(7, 3), asking.usageMetadata());
    ToolMessage result = assertInstanceOf(ToolMessage.class, conversation.get(2));
    assertEquals("call_1", result.toolCallId());
    assertEquals("sunny in sf", result.content());
    assertEquals("get_weather", result.name());
    assertEquals("It is sunny in sf in sf", conversation.get(3).content());
    assertEquals(1, toolCalls.get());

    List<JsonNode> requests = newRequests();
    assertEquals(2, requests.size());
    JsonNode tools = requests.get(0).path("tools");
    assertEquals("get_weather", tools.path(0).path("function").path("name").asText(), "offered: " + tools);
    JsonNode second = requests.get(1).path("messages");
    assertEquals("call_1", second.get(1).path("tool_calls").path(0).path("id").asText(), second.toString());
    assertEquals("tool", second.get(2).path("role").asText());
    assertEquals("call_1", second.get(2).path("tool_call_id").asText());

    // the tool call streamed as a tool_call_chunk, the tool's answer as a tool message, both under their task
    List<List<?>> messages = chunks.stream().filter(chunk -> chunk.mode() == StreamMode.MESSAGES)
        .<List<?>>map(chunk -> (List<?>) chunk.data()).toList();
    assertTrue(messages.stream().anyMatch(m -> m.get(0) instanceof Map<?, ?> chunk
        && chunk.get("tool_call_chunks") instanceof List<?> calls && !calls.isEmpty()), messages.toString());
    assertTrue(messages.stream().anyMatch(m -> m.get(0) instanceof ToolMessage
        && "get_weather".equals(((Map<?, ?>) m.get(1)).get("langgraph_node"))), messages.toString());

    // a second run on the thread continues the conversation: the model sees all of it
    List<Message> next = agent.invoke(List.of(HumanMessage.of("hi")), thread).block(WAIT);
    assertEquals(6, next.size());
    assertEquals(5, server.requests().get(server.requests().size() - 1).path("messages").size());
  }

  @Test
  void aServerErrorIsRetriedByTheModelTasksRetryPolicy() {
    SpringAiChat chat = SpringAiChat.of(model)
        .withRetry(RetryPolicy.defaults().withInitialInterval(Duration.ofMillis(10)).withJitter(false));
    StepVerifier.create(chat(chat).invoke("flaky", RunConfig.none()).map(AiMessage::content))
        .expectNext("recovered")
        .expectComplete()
        .verify(WAIT);
    assertEquals(2, newRequests().size(), "the 500, then the retried request (the SDK itself does not retry)");
  }

  @Test
  void aServerErrorWithoutRetriesFailsTheRunNamingTheStatus() {
    FakeOpenAi fresh = new FakeOpenAi();
    try (ConfigurableApplicationContext other = OpenAiStarter.start(fresh.baseUrl())) {
      SpringAiChat chat = SpringAiChat.of(OpenAiStarter.chatModel(other))
          .withRetry(RetryPolicy.defaults().withMaxAttempts(1));
      StepVerifier.create(chat(chat).invoke("flaky", RunConfig.none()))
          .expectErrorSatisfies(error -> assertTrue(String.valueOf(error.getMessage()).contains("500"),
              "the error names the status: " + error))
          .verify(WAIT);
      assertEquals(1, fresh.requests().size());
    } finally {
      fresh.close();
    }
  }

  @Test
  void aClientErrorIsNotRetriedByTheDefaultPolicy() {
    SpringAiChat chat = SpringAiChat.of(model)
        .withRetry(RetryPolicy.defaults().withInitialInterval(Duration.ofMillis(10)).withJitter(false));
    StepVerifier.create(chat(chat).invoke("bad", RunConfig.none()))
        .expectErrorSatisfies(error -> {
          assertFalse(error instanceof CompletionException, "the SDK's exception, unwrapped: " + error);
          assertTrue(String.valueOf(error.getMessage()).contains("400"), "the error names the status: " + error);
        })
        .verify(WAIT);
    assertEquals(1, newRequests().size(), "a 400 is the request's fault: calling again would not help");
  }

  @Test
  void cancellingTheRunCancelsTheModelsStream() throws Exception {
    StreamChunk first = chat(SpringAiChat.of(model)).stream("hang", RunConfig.none(), StreamMode.MESSAGES)
        .next().block(WAIT); // the first token arrived; next() cancels the run
    assertEquals("wait", ((Map<?, ?>) ((List<?>) first.data()).get(0)).get("content"));
    server.hangClosed().get(WAIT.toSeconds(), TimeUnit.SECONDS); // the model's HTTP connection was closed
  }

  @Test
  void aMessageTheModelCannotReadIsAClearError() {
    StepVerifier.create(SpringAiChat.of(model).stream(List.of(dev.fluxgraph.messages.RemoveMessage.all()), null))
        .expectErrorSatisfies(error -> {
          assertInstanceOf(IllegalArgumentException.class, error);
          assertTrue(error.getMessage().contains("remove message"), error.getMessage());
        })
        .verify(WAIT);
    assertEquals(0, newRequests().size());
  }

  @Test
  void outsideARunTheCallStreamsNothingAndAnswersTheMessage() {
    StepVerifier.create(SpringAiChat.of(model).stream(List.of(HumanMessage.of("hi")), null))
        .assertNext(answer -> {
          assertEquals("Hello world!", answer.content());
          assertEquals(List.of(), answer.toolCalls());
          assertNull(answer.name());
        })
        .expectComplete()
        .verify(WAIT);
  }

  @Test
  void anUnknownToolAnswersAnErrorMessageWithoutATask() {
    SpringAiTools tools = SpringAiTools.of(WeatherTool.of(query -> "sunny"));
    AiMessage asking = AiMessage.of("", List.of(new ToolCall("get_time", Map.of(), "call_9")));
    Entrypoint<String, List<ToolMessage>> run = Entrypoint.named("tools")
        .define(new TypeRef<String>() { }, new TypeRef<List<ToolMessage>>() { },
            (input, context) -> tools.call(asking));
    StepVerifier.create(run.invoke("x", RunConfig.none()))
        .assertNext(answers -> {
          assertEquals(1, answers.size());
          assertEquals("error", answers.get(0).status());
          assertTrue(answers.get(0).text().contains("get_weather"), answers.get(0).text());
        })
        .expectComplete()
        .verify(WAIT);
  }
}
