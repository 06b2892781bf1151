package dev.fluxgraph.func;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.FluxgraphJson;
import dev.fluxgraph.types.Interrupt;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.StreamOptions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/** SEMANTICS §5: the data of every stream mode, as Java values and as JSON. */
class StreamShapesTest {

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
  private final ObjectMapper json = FluxgraphJson.mapper();

  private final Task<Integer, Integer> double_ = Task.of("double", Integer.class, n -> Mono.just(n * 2));
  private final Entrypoint<Integer, Integer> workflow = Entrypoint.named("main").checkpointer(saver)
      .define(Integer.class, Integer.class, (n, context) -> double_.call(n));

  private List<StreamChunk> of(List<StreamChunk> chunks, StreamMode mode) {
    return chunks.stream().filter(chunk -> chunk.mode() == mode).toList();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object data) {
    return (Map<String, Object>) data;
  }

  @Test
  void updatesAndValues() throws Exception {
    List<StreamChunk> chunks = workflow.stream(21, config, StreamMode.UPDATES, StreamMode.VALUES).collectList().block();
    assertEquals(List.of(Map.of("double", 42), Map.of("main", 42)),
        of(chunks, StreamMode.UPDATES).stream().map(StreamChunk::data).toList());
    assertEquals(List.of(42), of(chunks, StreamMode.VALUES).stream().map(StreamChunk::data).toList());
    assertEquals("{\"mode\":\"updates\",\"namespace\":[],\"data\":{\"double\":42}}",
        json.writeValueAsString(chunks.get(0)));
  }

  @Test
  void noModesMeansUpdates() {
    List<StreamChunk> chunks = workflow.stream(1, config).collectList().block();
    assertTrue(chunks.stream().allMatch(chunk -> chunk.mode() == StreamMode.UPDATES));
    assertEquals(2, chunks.size());
  }

  @Test
  void tasksStartAndEnd() throws Exception {
    List<StreamChunk> tasks = of(workflow.stream(2, config, StreamMode.TASKS).collectList().block(), StreamMode.TASKS);
    assertEquals(4, tasks.size(), "start and end of the entrypoint and of the task");
    Map<String, Object> start = map(tasks.get(1).data());
    Map<String, Object> end = map(tasks.get(2).data());
    assertEquals(List.of("id", "name", "input", "triggers"), List.copyOf(start.keySet()));
    assertEquals(List.of("id", "name", "result", "error", "interrupts"), List.copyOf(end.keySet()));
    assertEquals("double", start.get("name"));
    assertEquals(2, start.get("input"));
    assertEquals(start.get("id"), end.get("id"));
    assertEquals(4, end.get("result"));
    assertNull(end.get("error"));
    assertEquals(List.of(), end.get("interrupts"));
    JsonNode wire = json.valueToTree(end);
    assertEquals(4, wire.get("result").asInt());
    assertTrue(wire.get("error").isNull());
  }

  @Test
  void failedTaskEndCarriesTheError() {
    Task<Integer, Integer> broken = Task.of("broken", Integer.class, n -> Mono.error(new IllegalStateException("nope")));
    Entrypoint<Integer, Integer> failing = Entrypoint.named("f")
        .define(Integer.class, Integer.class, (n, context) -> broken.call(n));
    StepVerifier.create(failing.stream(1, RunConfig.none(), StreamMode.TASKS).map(StreamChunk::data))
        .expectNextCount(2)
        .assertNext(end -> assertEquals("nope", map(end).get("error")))
        .assertNext(end -> assertEquals("nope", map(end).get("error")))
        .expectErrorMessage("nope")
        .verify(Duration.ofSeconds(5));
  }

  @Test
  void checkpointsAndTheirJson() throws Exception {
    workflow.invoke(1, config).block();
    List<StreamChunk> checkpoints = of(workflow.stream(5, config, StreamMode.CHECKPOINTS).collectList().block(),
        StreamMode.CHECKPOINTS);
    assertEquals(2, checkpoints.size(), "the input and the loop checkpoint");
    Map<String, Object> input = map(checkpoints.get(0).data());
    Map<String, Object> loop = map(checkpoints.get(1).data());
    assertEquals(List.of("config", "parent_config", "values", "metadata", "next", "tasks"),
        List.copyOf(input.keySet()));
    assertEquals(2, input.get("values"), "the last completed run's value");
    assertEquals(List.of("main"), input.get("next"));
    assertEquals("input", map(input.get("metadata")).get("source"));
    assertEquals(10, loop.get("values"));
    assertEquals(List.of(), loop.get("next"));
    assertEquals(input.get("config"), loop.get("parent_config"));

    JsonNode wire = json.valueToTree(loop);
    JsonNode configurable = wire.get("config").get("configurable");
    assertEquals(config.threadId().orElseThrow(), configurable.get("thread_id").asText());
    assertEquals("", configurable.get("checkpoint_ns").asText());
    assertEquals(((RunConfig) loop.get("config")).checkpointId().orElseThrow(),
        configurable.get("checkpoint_id").asText());
    assertEquals("loop", wire.get("metadata").get("source").asText());
    assertEquals(10, wire.get("values").asInt());
  }

  @Test
  void debugWrapsCheckpointsAndTasks() {
    List<StreamChunk> debug = of(workflow.stream(3, config, StreamMode.DEBUG).collectList().block(), StreamMode.DEBUG);
    assertEquals(List.of("checkpoint", "task", "task", "task_result", "task_result", "checkpoint"),
        debug.stream().map(chunk -> map(chunk.data()).get("type")).toList());
    for (StreamChunk chunk : debug) {
      Map<String, Object> data = map(chunk.data());
      assertEquals(List.of("step", "timestamp", "type", "payload"), List.copyOf(data.keySet()));
      assertTrue(data.get("step") instanceof Integer);
      java.time.Instant.parse((String) data.get("timestamp"));
    }
  }

  @Test
  void customIsExactlyWhatWasWrittenInOrder() {
    Entrypoint<Integer, Integer> chatty = Entrypoint.named("chatty")
        .define(Integer.class, Integer.class, (n, context) -> context.writer().write(Map.of("progress", 0.5))
            .then(Mono.fromRunnable(() -> context.writer().emit(List.of(1, 2))))
            .then(context.writer().write(null))
            .thenReturn(n));
    StepVerifier.create(chatty.stream(1, RunConfig.none(), StreamMode.CUSTOM).map(chunk -> String.valueOf(chunk.data())))
        .expectNext("{progress=0.5}", "[1, 2]", "null")
        .verifyComplete();
  }

  @Test
  void interruptChunksInUpdatesAndValues() throws Exception {
    Entrypoint<String, String> asking = Entrypoint.named("asking").checkpointer(saver)
        .define(String.class, String.class, (s, context) -> context.interrupt(Map.of("q", s), String.class));
    List<StreamChunk> chunks = asking.stream("x", config, StreamMode.UPDATES, StreamMode.VALUES).collectList().block();
    assertEquals(2, chunks.size());
    for (StreamChunk chunk : chunks) {
      List<?> interrupts = (List<?>) map(chunk.data()).get("__interrupt__");
      Interrupt interrupt = (Interrupt) interrupts.get(0);
      assertEquals(Map.of("q", "x"), interrupt.value());
      JsonNode wire = json.valueToTree(chunk.data());
      assertEquals(interrupt.id(), wire.get("__interrupt__").get(0).get("id").asText());
      assertEquals("x", wire.get("__interrupt__").get(0).get("value").get("q").asText());
    }
    StepVerifier.create(asking.stream(Command.resume("y"), config, StreamMode.VALUES).map(StreamChunk::data))
        .expectNext("y").verifyComplete();
  }

  @Test
  void subgraphChunksOnlyWhenAskedForAndWithANamespace() {
    Task<Integer, Integer> inc = Task.of("inc", Integer.class, n -> Mono.just(n + 1));
    Entrypoint<Integer, Integer> child = Entrypoint.named("child")
        .define(Integer.class, Integer.class, (n, context) -> inc.call(n));
    Entrypoint<Integer, Integer> parent = Entrypoint.named("parent").checkpointer(saver)
        .define(Integer.class, Integer.class, (n, context) -> child.invoke(n).map(r -> r * 10));

    List<StreamChunk> rootOnly = parent.stream(1, config, StreamMode.UPDATES).collectList().block();
    assertEquals(List.of(Map.of("parent", 20)), rootOnly.stream().map(StreamChunk::data).toList());

    List<StreamChunk> all = parent.stream(1, RunConfig.thread(UUID.randomUUID().toString()),
        StreamOptions.of(StreamMode.UPDATES).withSubgraphs(true)).collectList().block();
    assertEquals(3, all.size());
    assertEquals(Map.of("inc", 2), all.get(0).data());
    assertEquals(Map.of("child", 2), all.get(1).data());
    assertEquals(Map.of("parent", 20), all.get(2).data());
    List<String> namespace = all.get(0).namespace();
    assertEquals(1, namespace.size());
    assertTrue(namespace.get(0).startsWith("child:"), namespace.toString());
    assertEquals(namespace, all.get(1).namespace());
    assertEquals(List.of(), all.get(2).namespace());
  }

  @Test
  void chunksAreEmittedAsTheyHappen() {
    Sinks.One<Integer> release = Sinks.one();
    Task<Integer, Integer> first = Task.of("first", Integer.class, n -> Mono.just(n));
    Task<Integer, Integer> second = Task.of("second", Integer.class, n -> release.asMono());
    Entrypoint<Integer, Integer> eager = Entrypoint.named("eager")
        .define(Integer.class, Integer.class, (n, context) -> first.call(n).flatMap(second::call));
    StepVerifier.create(eager.stream(1, RunConfig.none(), StreamMode.UPDATES).map(StreamChunk::data))
        .expectNext(Map.of("first", 1)) // arrives while `second` still waits
        .then(() -> release.tryEmitValue(2))
        .expectNext(Map.of("second", 2), Map.of("eager", 2))
        .verifyComplete();
  }

  @Test
  void parallelTasksAppearInCompletionOrder() {
    // called as 3, 1, 2; each finishes when the test opens its gate: 1, then 2, then 3 (no clock involved)
    Map<Integer, Sinks.One<Integer>> gates = Map.of(1, Sinks.one(), 2, Sinks.one(), 3, Sinks.one());
    Task<Integer, Integer> gated = Task.of("gated", Integer.class, n -> gates.get(n).asMono());
    Entrypoint<Integer, Integer> racing = Entrypoint.named("racing")
        .define(Integer.class, Integer.class, (n, context) -> Flux.just(3, 1, 2).flatMap(gated::call).reduce(Integer::sum));
    StepVerifier.create(racing.stream(0, RunConfig.none()).map(StreamChunk::data))
        .then(() -> gates.get(1).tryEmitValue(1))
        .expectNext(Map.of("gated", 1))
        .then(() -> gates.get(2).tryEmitValue(2))
        .expectNext(Map.of("gated", 2))
        .then(() -> gates.get(3).tryEmitValue(3))
        .expectNext(Map.of("gated", 3), Map.of("racing", 6))
        .expectComplete()
        .verify(Duration.ofSeconds(10));
  }

  @Test
  void streamsAreColdAndReusable() {
    AtomicInteger runs = new AtomicInteger();
    Entrypoint<Integer, Integer> counting = Entrypoint.named("counting")
        .define(Integer.class, Integer.class, (n, context) -> Mono.fromCallable(runs::incrementAndGet));
    Flux<StreamChunk> stream = counting.stream(1, RunConfig.none(), StreamMode.VALUES);
    Mono<Integer> invoke = counting.invoke(1, RunConfig.none());
    assertEquals(0, runs.get(), "nothing runs before subscription");
    stream.blockLast();
    stream.blockLast();
    invoke.block();
    assertEquals(3, runs.get());
  }

  @Test
  void messagesCarryTheTaskNameAndArriveAsWritten() {
    Task<String, String> model = Task.of("call_model", String.class, (String prompt, TaskContext context) ->
        Flux.just("Hel", "lo", "!").concatMap(token -> context.messages().write(Map.of("content", token))
                .thenReturn(token))
            .reduce(String::concat));
    Entrypoint<String, String> chat = Entrypoint.named("chat").checkpointer(saver)
        .define(String.class, String.class, (prompt, context) -> model.call(prompt));
    List<StreamChunk> chunks = chat.stream("hi", config, StreamMode.MESSAGES, StreamMode.UPDATES).collectList().block();
    List<StreamChunk> messages = of(chunks, StreamMode.MESSAGES);
    assertEquals(3, messages.size());
    List<?> first = (List<?>) messages.get(0).data();
    assertEquals(Map.of("content", "Hel"), first.get(0));
    assertEquals("call_model", map(first.get(1)).get("langgraph_node"));
    assertEquals(config.threadId().orElseThrow(), map(first.get(1)).get("thread_id"));
    assertEquals(StreamMode.MESSAGES, chunks.get(0).mode(), "tokens arrive before the task's update");
    assertEquals(Map.of("call_model", "Hello!"), of(chunks, StreamMode.UPDATES).get(0).data());
    assertEquals(List.of(), chat.stream("hi", RunConfig.thread(UUID.randomUUID().toString()), StreamMode.UPDATES)
        .filter(chunk -> chunk.mode() == StreamMode.MESSAGES).collectList().block(), "only when asked for");
  }

  @Test
  void everyModeAtOnce() {
    Set<StreamMode> seen = new java.util.HashSet<>();
    workflow.stream(4, config, StreamMode.VALUES, StreamMode.UPDATES, StreamMode.CUSTOM, StreamMode.TASKS,
        StreamMode.CHECKPOINTS, StreamMode.DEBUG, StreamMode.MESSAGES).doOnNext(chunk -> seen.add(chunk.mode()))
        .blockLast();
    assertEquals(Set.of(StreamMode.VALUES, StreamMode.UPDATES, StreamMode.TASKS, StreamMode.CHECKPOINTS,
        StreamMode.DEBUG), seen);
  }
}
