package dev.fluxgraph.func;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.cache.InMemoryCache;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.GraphInterruptedException;
import dev.fluxgraph.types.CachePolicy;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.Interrupt;
import dev.fluxgraph.types.RetryPolicy;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.TypeRef;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** Every runnable example of the reference documents (no real model needed), with the outputs they show. */
class ReferenceDocsTest {

  private static final TypeRef<Map<String, Object>> MAP = new TypeRef<>() { };
  private static final TypeRef<Map<String, Integer>> INT_MAP = new TypeRef<>() { };
  private static final TypeRef<List<Integer>> INT_LIST = new TypeRef<>() { };

  private final InMemorySaver checkpointer = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());

  private static List<Object> data(List<StreamChunk> chunks) {
    return chunks.stream().map(StreamChunk::data).toList();
  }

  @Test
  void simpleWorkflow() {
    Task<Integer, Boolean> isEven = Task.of("is_even", Boolean.class, number -> Mono.just(number % 2 == 0));
    Task<Boolean, String> formatMessage = Task.of("format_message", String.class,
        even -> Mono.just(even ? "The number is even." : "The number is odd."));
    Entrypoint<Map<String, Integer>, String> workflow = Entrypoint.named("workflow").checkpointer(checkpointer)
        .define(INT_MAP, TypeRef.of(String.class),
            (inputs, context) -> isEven.call(inputs.get("number")).flatMap(formatMessage::call));
    StepVerifier.create(workflow.invoke(Map.of("number", 7), config)).expectNext("The number is odd.").verifyComplete();
  }

  @Test
  void composeAnEssayWithAFakeModel() {
    Task<String, String> composeEssay = Task.of("compose_essay", String.class,
        topic -> Mono.just("An essay about " + topic));
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(checkpointer)
        .define(String.class, String.class, (topic, context) -> composeEssay.call(topic));
    StepVerifier.create(workflow.invoke("the history of flight", config))
        .expectNext("An essay about the history of flight").verifyComplete();
  }

  @Test
  void parallelAddOneReallyRunsConcurrently() {
    int n = 4;
    CyclicBarrier allStarted = new CyclicBarrier(n);
    Task<Integer, Integer> addOne = Task.of("add_one", Integer.class, number -> Mono.fromCallable(() -> {
      allStarted.await(5, TimeUnit.SECONDS); // only passes if all n bodies run at the same time
      return number + 1;
    }).subscribeOn(Schedulers.boundedElastic()));
    Entrypoint<List<Integer>, List<Integer>> graph = Entrypoint.named("graph").checkpointer(checkpointer)
        .define(INT_LIST, INT_LIST, (numbers, context) ->
            Flux.fromIterable(numbers).flatMapSequential(addOne::call).collectList());
    StepVerifier.create(graph.invoke(List.of(1, 2, 3, 4), config)).expectNext(List.of(2, 3, 4, 5))
        .verifyComplete();
  }

  @Test
  void parallelParagraphsJoined() {
    Task<String, String> generateParagraph = Task.of("generate_paragraph", String.class,
        topic -> Mono.delay(Duration.ofMillis(topic.length())).thenReturn("A paragraph about " + topic + "."));
    Entrypoint<List<String>, String> workflow = Entrypoint.named("workflow").checkpointer(checkpointer)
        .define(new TypeRef<List<String>>() { }, TypeRef.of(String.class), (topics, context) ->
            Flux.fromIterable(topics).flatMapSequential(generateParagraph::call).collectList()
                .map(paragraphs -> String.join("\n\n", paragraphs)));
    StepVerifier.create(workflow.invoke(List.of("quantum computing", "climate change", "history of aviation"), config))
        .expectNext("A paragraph about quantum computing.\n\nA paragraph about climate change.\n\n"
            + "A paragraph about history of aviation.")
        .verifyComplete();
  }

  @Test
  void callingAnotherEntrypoint() {
    Entrypoint<Map<String, Integer>, Integer> multiply = Entrypoint.named("multiply")
        .define(INT_MAP, TypeRef.of(Integer.class), (inputs, context) -> Mono.just(inputs.get("a") * inputs.get("b")));
    Entrypoint<Map<String, Integer>, Map<String, Integer>> main = Entrypoint.named("main").checkpointer(checkpointer)
        .define(INT_MAP, INT_MAP, (inputs, context) ->
            multiply.invoke(Map.of("a", inputs.get("x"), "b", inputs.get("y"))).map(result -> Map.of("product", result)));
    StepVerifier.create(main.invoke(Map.of("x", 6, "y", 7), config)).expectNext(Map.of("product", 42)).verifyComplete();
  }

  @Test
  void streamingCustomAndUpdates() {
    Task<Integer, Integer> addOne = Task.of("add_one", Integer.class, x -> Mono.just(x + 1));
    Task<Integer, Integer> addTwo = Task.of("add_two", Integer.class, x -> Mono.just(x + 2));
    Entrypoint<Map<String, Integer>, Integer> main = Entrypoint.named("main").checkpointer(checkpointer)
        .define(INT_MAP, TypeRef.of(Integer.class), (inputs, context) -> {
          context.writer().emit("hello");
          return addOne.call(inputs.get("x")).flatMap(first -> {
            context.writer().emit("world");
            return addTwo.call(inputs.get("x")).map(second -> first + second);
          });
        });
    List<StreamChunk> chunks = main.stream(Map.of("x", 1), config, StreamMode.CUSTOM, StreamMode.UPDATES)
        .collectList().block();
    assertEquals(List.of(StreamMode.CUSTOM, StreamMode.UPDATES, StreamMode.CUSTOM, StreamMode.UPDATES,
        StreamMode.UPDATES), chunks.stream().map(StreamChunk::mode).toList());
    assertEquals(List.of("hello", Map.of("add_one", 2), "world", Map.of("add_two", 3), Map.of("main", 5)),
        data(chunks));

    // the example shown with get_stream_writer: writer("Started processing") ... writer("Result is 10")
    Entrypoint<Map<String, Integer>, Integer> doubling = Entrypoint.named("main").checkpointer(checkpointer)
        .define(INT_MAP, TypeRef.of(Integer.class), (inputs, context) -> {
          context.writer().emit("Started processing");
          int result = inputs.get("x") * 2;
          context.writer().emit("Result is " + result);
          return Mono.just(result);
        });
    List<String> printed = doubling.stream(Map.of("x", 5), RunConfig.thread("abc-" + UUID.randomUUID()),
            StreamMode.CUSTOM, StreamMode.UPDATES)
        .map(chunk -> chunk.mode().wireName() + ": " + chunk.data()).collectList().block();
    assertEquals(List.of("custom: Started processing", "custom: Result is 10", "updates: {main=10}"), printed);
  }

  @Test
  void retryPolicy() {
    AtomicInteger attempts = new AtomicInteger();
    Task<Object, String> getInfo = Task.of("get_info", String.class, ignored -> attempts.incrementAndGet() < 2
        ? Mono.error(new IllegalArgumentException("Failure")) : Mono.just("OK"))
        .withRetry(RetryPolicy.retryOn(IllegalArgumentException.class).withInitialInterval(Duration.ofMillis(1))
            .withJitter(false));
    Entrypoint<Map<String, Object>, String> main = Entrypoint.named("main").checkpointer(checkpointer)
        .define(MAP, TypeRef.of(String.class), (inputs, context) -> getInfo.call());
    StepVerifier.create(main.invoke(Map.of("any_input", "foobar"), RunConfig.thread("1-" + UUID.randomUUID())))
        .expectNext("OK").verifyComplete();
    assertEquals(2, attempts.get());
  }

  @Test
  void taskAndEntrypointTimeouts() {
    Task<String, String> callApi = Task.of("call_api", String.class,
            (String url) -> Mono.delay(Duration.ofSeconds(2)).thenReturn("result from " + url))
        .withTimeout(Duration.ofSeconds(1))
        .withRetry(RetryPolicy.retryOn(dev.fluxgraph.errors.NodeTimeoutException.class).withJitter(false));
    StepVerifier.withVirtualTime(() -> Entrypoint.named("workflow").timeout(Duration.ofSeconds(5))
            .define(MAP, TypeRef.of(String.class), (inputs, context) -> callApi.call((String) inputs.get("url")))
            .invoke(Map.of("url", "https://example.com"), RunConfig.none()))
        .thenAwait(Duration.ofSeconds(10))
        .expectErrorSatisfies(error -> {
          // three attempts of 1 s plus 0.5 s and 1 s of backoff: the task gives up before the 5 s body timeout
          assertEquals(dev.fluxgraph.errors.NodeTimeoutException.class, error.getClass());
          assertEquals("call_api", ((dev.fluxgraph.errors.NodeTimeoutException) error).node());
        })
        .verify(Duration.ofSeconds(5));
  }

  @Test
  void cachingTasks() {
    AtomicInteger slowRuns = new AtomicInteger();
    Task<Integer, Integer> slowAdd = Task.of("slow_add", Integer.class, (Integer x) -> {
      slowRuns.incrementAndGet();
      return Mono.just(x * 2);
    }).withCache(CachePolicy.ttl(Duration.ofSeconds(120)));
    Entrypoint<Map<String, Integer>, Map<String, Integer>> main = Entrypoint.named("main").cache(new InMemoryCache())
        .define(INT_MAP, INT_MAP, (inputs, context) -> slowAdd.call(inputs.get("x"))
            .flatMap(result1 -> slowAdd.call(inputs.get("x")).map(result2 -> {
              Map<String, Integer> result = new LinkedHashMap<>();
              result.put("result1", result1);
              result.put("result2", result2);
              return result;
            })));
    List<Object> updates = data(main.stream(Map.of("x", 5), RunConfig.none(), StreamMode.UPDATES).collectList().block());
    assertEquals(List.of(
        Map.of("slow_add", 10),
        Map.of("slow_add", 10, "__metadata__", Map.of("cached", true)),
        Map.of("main", Map.of("result1", 10, "result2", 10))), updates);
    assertEquals(1, slowRuns.get());
  }

  @Test
  void resumingAfterAnError() {
    AtomicInteger attempts = new AtomicInteger();
    AtomicInteger slowRuns = new AtomicInteger();
    Task<Object, String> getInfo = Task.of("get_info", String.class, ignored -> attempts.incrementAndGet() < 2
        ? Mono.error(new IllegalArgumentException("Failure")) : Mono.just("OK"));
    Task<Object, String> slowTask = Task.of("slow_task", String.class, ignored -> {
      slowRuns.incrementAndGet();
      return Mono.delay(Duration.ofMillis(20)).thenReturn("Ran slow task.");
    });
    Entrypoint<Map<String, Object>, String> main = Entrypoint.named("main").checkpointer(checkpointer)
        .define(MAP, TypeRef.of(String.class),
            (inputs, context) -> slowTask.call().flatMap(result -> getInfo.call().thenReturn(result)));
    StepVerifier.create(main.invoke(Map.of("any_input", "foobar"), config))
        .expectErrorMessage("Failure").verify(Duration.ofSeconds(5));
    StepVerifier.create(main.invoke(Command.proceed(), config)).expectNext("Ran slow task.").verifyComplete();
    assertEquals(1, slowRuns.get(), "the slow task is not run again");
  }

  @Test
  void basicHumanInTheLoop() {
    AtomicInteger step1Runs = new AtomicInteger();
    Task<String, String> step1 = Task.of("step_1", String.class, (String query) -> {
      step1Runs.incrementAndGet();
      return Mono.just(query + " bar");
    });
    Task<String, String> humanFeedback = Task.of("human_feedback", String.class,
        (String query, TaskContext context) -> context.interrupt("Please provide feedback: " + query, String.class)
            .map(feedback -> query + " " + feedback));
    Task<String, String> step3 = Task.of("step_3", String.class, query -> Mono.just(query + " qux"));
    Entrypoint<String, String> graph = Entrypoint.named("graph").checkpointer(checkpointer)
        .define(String.class, String.class,
            (query, context) -> step1.call(query).flatMap(humanFeedback::call).flatMap(step3::call));

    List<Object> first = data(graph.stream("foo", config).collectList().block());
    assertEquals(2, first.size());
    assertEquals(Map.of("step_1", "foo bar"), first.get(0));
    @SuppressWarnings("unchecked")
    List<Interrupt> interrupts = (List<Interrupt>) ((Map<String, Object>) first.get(1)).get("__interrupt__");
    assertEquals("Please provide feedback: foo bar", interrupts.get(0).value());

    List<Object> resumed = data(graph.stream(Command.resume("baz"), config).collectList().block());
    assertEquals(List.of(Map.of("human_feedback", "foo bar baz"), Map.of("step_3", "foo bar baz qux"),
        Map.of("graph", "foo bar baz qux")), resumed);
    assertEquals(1, step1Runs.get());
  }

  @Test
  void reviewWorkflowWithInterruptInTheBody() {
    AtomicInteger essays = new AtomicInteger();
    Task<String, String> composeEssay = Task.of("compose_essay", String.class, (String topic) -> {
      essays.incrementAndGet();
      return Mono.just("An essay about " + topic);
    });
    Entrypoint<String, Map<String, Object>> reviewWorkflow = Entrypoint.named("review_workflow")
        .checkpointer(checkpointer)
        .define(TypeRef.of(String.class), MAP, (topic, context) -> composeEssay.call(topic).flatMap(essay ->
            context.interrupt(Map.of("question", "Please provide a review", "essay", essay), String.class)
                .map(review -> Map.of("essay", essay, "review", review))));
    List<Object> first = data(reviewWorkflow.stream("cats", config).collectList().block());
    assertEquals(Map.of("compose_essay", "An essay about cats"), first.get(0));
    List<Object> resumed = data(reviewWorkflow.stream(Command.resume("This essay is great."), config)
        .collectList().block());
    assertEquals(List.of(Map.of("review_workflow",
        Map.of("essay", "An essay about cats", "review", "This essay is great."))), resumed);
    assertEquals(1, essays.get());
  }

  @Test
  void accumulateWithFinal() {
    Entrypoint<Integer, Integer> accumulate = Entrypoint.named("accumulate").checkpointer(checkpointer)
        .defineFinal(Integer.class, Integer.class, Integer.class, (n, context) -> {
          int previous = context.previous().orElse(0);
          return Mono.just(Final.of(previous, previous + n));
        });
    RunConfig myThread = RunConfig.thread("my-thread-" + UUID.randomUUID());
    StepVerifier.create(accumulate.invoke(1, myThread)).expectNext(0).verifyComplete();
    StepVerifier.create(accumulate.invoke(2, myThread)).expectNext(1).verifyComplete();
    StepVerifier.create(accumulate.invoke(3, myThread)).expectNext(3).verifyComplete();
  }

  @Test
  void previousReturnValue() {
    List<String> seen = new ArrayList<>();
    Entrypoint<String, String> myWorkflow = Entrypoint.named("my_workflow").checkpointer(checkpointer)
        .define(String.class, String.class, (input, context) -> {
          seen.add(context.previous().orElse(null));
          return Mono.just("world");
        });
    myWorkflow.invoke("hello", config).block();
    myWorkflow.invoke("hello", config).block();
    assertEquals(java.util.Arrays.asList(null, "world"), seen);
  }

  @Test
  void chatbotWithPreviousAndAnAppendReducer() {
    Task<List<String>, String> callModel = Task.of("call_model", String.class,
        messages -> Mono.just("reply to " + messages.get(messages.size() - 1) + " (" + messages.size() + " seen)"));
    TypeRef<List<String>> strings = new TypeRef<>() { };
    Entrypoint<List<String>, String> workflow = Entrypoint.named("workflow").checkpointer(checkpointer)
        .defineFinal(strings, TypeRef.of(String.class), strings, (inputs, context) -> {
          List<String> messages = new ArrayList<>(context.previous().orElse(List.of()));
          messages.addAll(inputs);
          return callModel.call(messages).map(response -> {
            List<String> saved = new ArrayList<>(messages);
            saved.add(response);
            return Final.of(response, saved);
          });
        });
    assertEquals(List.of("reply to hi! I'm bob (1 seen)"), data(workflow.stream(List.of("hi! I'm bob"), config,
        StreamMode.VALUES).collectList().block()));
    assertEquals(List.of("reply to what's my name? (3 seen)"), data(workflow.stream(List.of("what's my name?"), config,
        StreamMode.VALUES).collectList().block()));
  }

  /** A tool call as a fake model emits it. */
  record ToolCall(String id, String name, Map<String, Object> args) {
  }

  @Test
  void reviewToolCalls() {
    AtomicInteger modelCalls = new AtomicInteger();
    Task<List<Object>, List<ToolCall>> callModel = Task.of("call_model", new TypeRef<List<ToolCall>>() { },
        (List<Object> messages) -> {
          modelCalls.incrementAndGet();
          return Mono.just(messages.size() == 1
              ? List.of(new ToolCall("c1", "get_weather", Map.of("city", "sf")),
                  new ToolCall("c2", "get_time", Map.of("tz", "PST")))
              : List.of());
        });
    Task<ToolCall, String> callTool = Task.of("call_tool", String.class,
        call -> Mono.just(call.name() + "(" + call.args() + ")"));
    Entrypoint<String, List<Object>> agent = Entrypoint.named("agent").checkpointer(checkpointer)
        .define(TypeRef.of(String.class), new TypeRef<List<Object>>() { }, (question, context) ->
            callModel.call(List.of(question)).flatMap(calls -> Flux.fromIterable(calls)
                .concatMap(call -> context.interrupt(Map.of("question", "Is this correct?", "tool_call", call),
                        new TypeRef<Map<String, Object>>() { })
                    .flatMap(review -> switch ((String) review.get("action")) {
                      case "continue" -> callTool.call(call);
                      case "update" -> callTool.call(new ToolCall(call.id(), call.name(),
                          castMap(review.get("data"))));
                      default -> Mono.just("feedback for " + call.id() + ": " + review.get("data"));
                    }))
                .collectList()
                .flatMap(results -> {
                  List<Object> messages = new ArrayList<>(List.of(question));
                  messages.addAll(results);
                  return callModel.call(messages).thenReturn(messages);
                })));

    GraphOutput<List<Object>> paused = agent.run("weather?", config).block();
    assertEquals(1, paused.interrupts().size(), "tool calls are reviewed one after the other");
    GraphOutput<List<Object>> second = agent.run(Command.resume(Map.of("action", "update",
        "data", Map.of("city", "nyc"))), config).block();
    assertEquals(1, second.interrupts().size());
    StepVerifier.create(agent.invoke(Command.resume(Map.of("action", "feedback", "data", "use UTC")), config))
        .expectNext(List.of("weather?", "get_weather({city=nyc})", "feedback for c2: use UTC"))
        .verifyComplete();
    assertEquals(2, modelCalls.get(), "the first model call is not repeated on resume");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> castMap(Object value) {
    return (Map<String, Object>) value;
  }

  @Test
  void invokeOfAPausedRunErrorsWithTheInterrupts() {
    Entrypoint<String, String> workflow = Entrypoint.named("w").checkpointer(checkpointer)
        .define(String.class, String.class, (s, context) -> context.interrupt("why?", String.class));
    StepVerifier.create(workflow.invoke("x", config))
        .expectErrorSatisfies(error -> assertTrue(error instanceof GraphInterruptedException
            && ((GraphInterruptedException) error).interrupts().get(0).value().equals("why?")))
        .verify(Duration.ofSeconds(5));
  }
}
