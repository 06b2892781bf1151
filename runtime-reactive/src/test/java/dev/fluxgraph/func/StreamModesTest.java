package dev.fluxgraph.func;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.cache.InMemoryCache;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.FluxgraphException;
import dev.fluxgraph.types.CachePolicy;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.FluxgraphJson;
import dev.fluxgraph.types.Interrupt;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.StreamOptions;
import dev.fluxgraph.types.TypeRef;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** The data shapes of every stream mode (SEMANTICS.md §5), as Java objects and as JSON, plus stream behaviour. */
class StreamModesTest {

  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final TypeRef<Map<String, Integer>> INT_MAP = new TypeRef<>() { };
  private static final Set<String> TASK_START_KEYS = Set.of("id", "name", "input", "triggers");
  private static final Set<String> TASK_END_KEYS = Set.of("id", "name", "result", "error", "interrupts");
  private static final Set<String> CHECKPOINT_KEYS = Set.of("config", "parent_config", "values", "metadata", "next",
      "tasks");
  private static final Set<String> DEBUG_KEYS = Set.of("step", "timestamp", "type", "payload");

  private final InMemorySaver checkpointer = new InMemorySaver();
  private final String threadId = "thread-" + UUID.randomUUID();
  private final RunConfig config = RunConfig.thread(threadId);
  private final ObjectMapper json = FluxgraphJson.mapper();
  private final AtomicInteger bodyRuns = new AtomicInteger();
  private final AtomicInteger addOneRuns = new AtomicInteger();

  private final Task<Integer, Integer> addOne = Task.of("add_one", Integer.class, x -> Mono.fromSupplier(() -> {
    addOneRuns.incrementAndGet();
    return x + 1;
  }));
  private final Task<Integer, Integer> addTwo = Task.of("add_two", Integer.class, x -> Mono.just(x + 2));

  /** The reference's streaming example: custom "hello", add_one, custom "world", add_two, returns 5. */
  private Entrypoint<Map<String, Integer>, Integer> main() {
    return Entrypoint.named("main").checkpointer(checkpointer)
        .define(INT_MAP, TypeRef.of(Integer.class), (inputs, context) -> Mono.defer(() -> {
          bodyRuns.incrementAndGet();
          return context.writer().write("hello")
              .then(addOne.call(inputs.get("number")))
              .then(Mono.fromRunnable(() -> context.writer().emit("world")))
              .then(addTwo.call(inputs.get("number")))
              .thenReturn(5);
        }));
  }

  private static Map<?, ?> mapOf(StreamChunk chunk) {
    return assertInstanceOf(Map.class, chunk.data(), () -> "data of " + chunk);
  }

  private static List<StreamChunk> ofMode(List<StreamChunk> chunks, StreamMode mode) {
    return chunks.stream().filter(chunk -> chunk.mode() == mode).toList();
  }

  private List<StreamChunk> collect(Flux<StreamChunk> stream) {
    List<StreamChunk> chunks = new ArrayList<>();
    StepVerifier.create(stream)
        .recordWith(() -> chunks)
        .thenConsumeWhile(chunk -> true)
        .expectComplete()
        .verify(WAIT);
    return chunks;
  }

  private JsonNode toJson(Object value) {
    return json.valueToTree(value);
  }

  // ------------------------------------------------------------------ UPDATES, VALUES, CUSTOM

  @Test
  void updatesAreTaskResultsThenTheEntrypointValue() {
    StepVerifier.create(main().stream(Map.of("number", 1), config, StreamMode.UPDATES))
        .expectNext(new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("add_one", 2)))
        .expectNext(new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("add_two", 3)))
        .expectNext(new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("main", 5)))
        .expectComplete()
        .verify(WAIT);
  }

  @Test
  void noModesMeansUpdates() {
    List<StreamChunk> chunks = collect(main().stream(Map.of("number", 1), config));
    assertEquals(List.of(Map.of("add_one", 2), Map.of("add_two", 3), Map.of("main", 5)),
        chunks.stream().map(StreamChunk::data).toList());
    assertTrue(chunks.stream().allMatch(chunk -> chunk.mode() == StreamMode.UPDATES));
  }

  @Test
  void valuesIsTheReturnValueOnce() {
    StepVerifier.create(main().stream(Map.of("number", 1), config, StreamMode.VALUES))
        .expectNext(new StreamChunk(StreamMode.VALUES, List.of(), 5))
        .expectComplete()
        .verify(WAIT);
  }

  @Test
  void customIsExactlyWhatTheWriterGotInOrder() {
    record Progress(String stage, int percent) { }
    Progress half = new Progress("half", 50);
    Task<Integer, Integer> worker = Task.of("worker", Integer.class, (x, context) ->
        context.writer().write(Map.of("from", "task")).thenReturn(x));
    Entrypoint<Integer, Integer> entrypoint = Entrypoint.named("main")
        .define(Integer.class, Integer.class, (x, context) -> Mono.defer(() -> {
          context.writer().emit("first");
          context.writer().emit(half);
          return worker.call(x).flatMap(result -> context.writer().write(List.of(1, 2, 3)).thenReturn(result));
        }));

    StepVerifier.create(entrypoint.stream(1, RunConfig.none(), StreamMode.CUSTOM))
        .expectNext(new StreamChunk(StreamMode.CUSTOM, List.of(), "first"))
        .assertNext(chunk -> {
          assertEquals(StreamMode.CUSTOM, chunk.mode());
          assertEquals(half, chunk.data(), "custom data is the object itself, not a JSON copy");
        })
        .expectNext(new StreamChunk(StreamMode.CUSTOM, List.of(), Map.of("from", "task")))
        .expectNext(new StreamChunk(StreamMode.CUSTOM, List.of(), List.of(1, 2, 3)))
        .expectComplete()
        .verify(WAIT);
  }

  @Test
  void updatesAndValuesOnPauseCarryTheInterrupts() {
    Entrypoint<String, String> ask = Entrypoint.named("ask").checkpointer(checkpointer)
        .define(String.class, String.class, (question, context) -> context.interrupt(question, String.class));

    List<StreamChunk> chunks = collect(ask.stream("what is your name?", config,
        StreamMode.UPDATES, StreamMode.VALUES));
    assertEquals(2, chunks.size(), chunks::toString);
    String id = null;
    for (StreamMode mode : List.of(StreamMode.UPDATES, StreamMode.VALUES)) {
      List<StreamChunk> ofMode = ofMode(chunks, mode);
      assertEquals(1, ofMode.size(), () -> mode + ": " + chunks);
      Map<?, ?> data = mapOf(ofMode.get(0));
      assertEquals(Set.of("__interrupt__"), data.keySet());
      List<?> interrupts = assertInstanceOf(List.class, data.get("__interrupt__"));
      assertEquals(1, interrupts.size());
      Interrupt interrupt = assertInstanceOf(Interrupt.class, interrupts.get(0));
      assertEquals("what is your name?", interrupt.value());
      id = interrupt.id();

      JsonNode tree = toJson(ofMode.get(0).data());
      assertEquals(1, tree.size());
      JsonNode wire = tree.get("__interrupt__");
      assertTrue(wire.isArray());
      assertEquals(id, wire.get(0).get("id").asText());
      assertEquals("what is your name?", wire.get(0).get("value").asText());
    }
    assertNotNull(id);
  }

  @Test
  void parallelInterruptsAreAllReportedInOnePauseChunk() {
    Task<String, String> ask = Task.of("ask", String.class,
        (question, context) -> context.interrupt(question, String.class));
    Entrypoint<String, String> both = Entrypoint.named("both").checkpointer(checkpointer)
        .define(String.class, String.class, (x, context) ->
            Mono.zip(ask.call("first?"), ask.call("second?")).map(t -> t.getT1() + t.getT2()));

    List<StreamChunk> chunks = collect(both.stream("go", config, StreamMode.UPDATES));
    assertEquals(1, chunks.size(), chunks::toString);
    List<?> interrupts = assertInstanceOf(List.class, mapOf(chunks.get(0)).get("__interrupt__"));
    Set<Object> values = interrupts.stream().map(i -> assertInstanceOf(Interrupt.class, i).value())
        .collect(Collectors.toSet());
    assertEquals(Set.of("first?", "second?"), values);
    assertEquals(2, interrupts.stream().map(i -> ((Interrupt) i).id()).distinct().count());
  }

  @Test
  void cacheHitAddsMetadataCachedTrueAlsoOnTheWire() {
    Task<Integer, Integer> slowAdd = Task.<Integer, Integer>of("slow_add", Integer.class, x -> Mono.just(x * 2))
        .withCache(CachePolicy.forever());
    Entrypoint<Integer, Integer> entrypoint = Entrypoint.named("main").cache(new InMemoryCache())
        .define(Integer.class, Integer.class, (x, context) -> slowAdd.call(x).then(slowAdd.call(x)));

    List<StreamChunk> chunks = collect(entrypoint.stream(5, RunConfig.none(), StreamMode.UPDATES));
    assertEquals(List.of(Map.of("slow_add", 10), Map.of("slow_add", 10, "__metadata__", Map.of("cached", true)),
        Map.of("main", 10)), chunks.stream().map(StreamChunk::data).toList());
    JsonNode cached = toJson(chunks.get(1).data());
    assertEquals(10, cached.get("slow_add").asInt());
    assertTrue(cached.get("__metadata__").get("cached").asBoolean());
    assertEquals(2, cached.size());
  }

  @Test
  void messagesAreMessageChunkAndMetadataPairs() {
    Task<String, String> model = Task.of("model", String.class, (prompt, context) -> Mono.defer(() -> {
      context.messages().emit("Hel");
      context.messages().emit("lo");
      return Mono.just("Hello");
    }));
    Entrypoint<String, String> entrypoint = Entrypoint.named("chat").checkpointer(checkpointer)
        .define(String.class, String.class, (prompt, context) -> model.call(prompt));

    List<StreamChunk> chunks = collect(entrypoint.stream("hi", config, StreamMode.MESSAGES));
    assertEquals(2, chunks.size(), chunks::toString);
    List<String> tokens = new ArrayList<>();
    for (StreamChunk chunk : chunks) {
      assertEquals(StreamMode.MESSAGES, chunk.mode());
      assertEquals(List.of(), chunk.namespace());
      List<?> pair = assertInstanceOf(List.class, chunk.data());
      assertEquals(2, pair.size(), "[messageChunk, metadata]");
      tokens.add(String.valueOf(pair.get(0)));
      Map<?, ?> metadata = assertInstanceOf(Map.class, pair.get(1));
      assertEquals("model", metadata.get("langgraph_node"));
      JsonNode wire = toJson(chunk.data());
      assertTrue(wire.isArray());
      assertEquals(2, wire.size());
    }
    assertEquals(List.of("Hel", "lo"), tokens);
  }

  // ------------------------------------------------------------------ TASKS

  @Test
  void tasksHaveStartAndEndShapes() throws Exception {
    List<StreamChunk> chunks = collect(main().stream(Map.of("number", 1), config, StreamMode.TASKS));
    assertFalse(chunks.isEmpty());
    List<Map<?, ?>> events = new ArrayList<>();
    for (StreamChunk chunk : chunks) {
      assertEquals(StreamMode.TASKS, chunk.mode());
      assertEquals(List.of(), chunk.namespace());
      Map<?, ?> data = mapOf(chunk);
      assertTrue(data.keySet().equals(TASK_START_KEYS) || data.keySet().equals(TASK_END_KEYS),
          () -> "unexpected keys " + data.keySet());
      events.add(data);
    }
    Map<?, ?> addOneStart = find(events, "add_one", TASK_START_KEYS);
    Map<?, ?> addOneEnd = find(events, "add_one", TASK_END_KEYS);
    Map<?, ?> addTwoStart = find(events, "add_two", TASK_START_KEYS);
    Map<?, ?> addTwoEnd = find(events, "add_two", TASK_END_KEYS);
    assertEquals(1, addOneStart.get("input"));
    assertInstanceOf(List.class, addOneStart.get("triggers"));
    assertEquals(addOneStart.get("id"), addOneEnd.get("id"));
    assertEquals(2, addOneEnd.get("result"));
    assertNull(addOneEnd.get("error"));
    assertEquals(List.of(), addOneEnd.get("interrupts"));
    assertEquals(3, addTwoEnd.get("result"));
    assertTrue(events.indexOf(addOneStart) < events.indexOf(addOneEnd));
    assertTrue(events.indexOf(addOneEnd) < events.indexOf(addTwoStart), "sequential tasks in program order");
    assertTrue(events.indexOf(addTwoStart) < events.indexOf(addTwoEnd));

    JsonNode start = toJson(addOneStart);
    assertEquals(TASK_START_KEYS, fieldNames(start));
    assertEquals("add_one", start.get("name").asText());
    assertEquals(1, start.get("input").asInt());
    assertTrue(start.get("triggers").isArray());
    JsonNode end = toJson(addOneEnd);
    assertEquals(TASK_END_KEYS, fieldNames(end));
    assertEquals(json.readTree("{\"id\":\"" + addOneStart.get("id") + "\",\"name\":\"add_one\",\"result\":2,"
        + "\"error\":null,\"interrupts\":[]}"), end);
  }

  @Test
  void taskEndCarriesErrorAndInterrupts() {
    Task<Integer, Integer> failing = Task.of("failing", Integer.class,
        x -> Mono.error(new IllegalStateException("boom " + x)));
    Entrypoint<Integer, Integer> failingRun = Entrypoint.named("main").checkpointer(checkpointer)
        .define(Integer.class, Integer.class, (x, context) -> failing.call(x));
    List<StreamChunk> chunks = new ArrayList<>();
    StepVerifier.create(failingRun.stream(7, config, StreamMode.TASKS))
        .recordWith(() -> chunks)
        .thenConsumeWhile(chunk -> true)
        .expectErrorSatisfies(error -> assertEquals("boom 7", error.getMessage()))
        .verify(WAIT);
    List<Map<?, ?>> events = chunks.stream().<Map<?, ?>>map(StreamModesTest::mapOf).toList();
    Map<?, ?> end = find(events, "failing", TASK_END_KEYS);
    assertNull(end.get("result"));
    assertTrue(String.valueOf(end.get("error")).contains("boom 7"), () -> "error: " + end.get("error"));

    Task<String, String> asking = Task.of("asking", String.class,
        (question, context) -> context.interrupt(question, String.class));
    Entrypoint<String, String> askingRun = Entrypoint.named("ask").checkpointer(checkpointer)
        .define(String.class, String.class, (question, context) -> asking.call(question));
    List<Map<?, ?>> askEvents = collect(askingRun.stream("why?", RunConfig.thread(threadId + "-ask"),
        StreamMode.TASKS)).stream().<Map<?, ?>>map(StreamModesTest::mapOf).toList();
    Map<?, ?> paused = find(askEvents, "asking", TASK_END_KEYS);
    List<?> interrupts = assertInstanceOf(List.class, paused.get("interrupts"));
    assertEquals(1, interrupts.size());
    assertEquals("why?", assertInstanceOf(Interrupt.class, interrupts.get(0)).value());
    assertNull(paused.get("error"));
    JsonNode wire = toJson(paused);
    assertEquals("why?", wire.get("interrupts").get(0).get("value").asText());
    assertFalse(wire.get("interrupts").get(0).get("id").asText().isBlank());
  }

  private static Map<?, ?> find(List<Map<?, ?>> events, String name, Set<String> keys) {
    return events.stream().filter(event -> name.equals(event.get("name")) && event.keySet().equals(keys))
        .findFirst().orElseThrow(() -> new AssertionError("no " + keys + " event for " + name + " in " + events));
  }

  private static Set<String> fieldNames(JsonNode node) {
    Set<String> names = new HashSet<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  // ------------------------------------------------------------------ CHECKPOINTS

  @Test
  void checkpointsHaveTheSixKeysAndSerializeLikeLangGraph() {
    List<StreamChunk> chunks = collect(main().stream(Map.of("number", 1), config, StreamMode.CHECKPOINTS));
    assertTrue(chunks.size() >= 2, () -> "input and loop checkpoints: " + chunks);
    List<JsonNode> wire = new ArrayList<>();
    for (StreamChunk chunk : chunks) {
      assertEquals(StreamMode.CHECKPOINTS, chunk.mode());
      assertEquals(List.of(), chunk.namespace());
      assertEquals(CHECKPOINT_KEYS, mapOf(chunk).keySet());
      JsonNode node = toJson(chunk.data());
      assertEquals(CHECKPOINT_KEYS, fieldNames(node));
      JsonNode configurable = node.get("config").get("configurable");
      assertEquals(threadId, configurable.get("thread_id").asText());
      assertEquals("", configurable.get("checkpoint_ns").asText());
      assertFalse(configurable.get("checkpoint_id").asText().isBlank());
      assertTrue(node.get("metadata").has("source"));
      assertTrue(node.get("metadata").has("step"));
      assertTrue(node.get("next").isArray());
      assertTrue(node.get("tasks").isArray());
      wire.add(node);
    }
    JsonNode first = wire.get(0);
    JsonNode last = wire.get(wire.size() - 1);
    assertEquals("input", first.get("metadata").get("source").asText());
    assertTrue(first.get("parent_config").isNull(), "first checkpoint of a new thread has no parent");
    assertTrue(first.get("values").isNull(), "no run completed yet");
    assertEquals("[\"main\"]", first.get("next").toString());
    assertEquals("loop", last.get("metadata").get("source").asText());
    assertEquals(5, last.get("values").asInt());
    assertEquals(0, last.get("next").size());
    assertEquals(wire.get(wire.size() - 2).get("config"), last.get("parent_config"));
    assertTrue(last.get("metadata").get("step").asInt() > first.get("metadata").get("step").asInt());

    // the streamed loop checkpoint is the thread's latest state
    StepVerifier.create(main().getState(config))
        .assertNext(state -> assertEquals(last.get("config").get("configurable").get("checkpoint_id").asText(),
            state.config().checkpointId().orElseThrow()))
        .expectComplete()
        .verify(WAIT);

    // step numbers keep counting across runs on the thread
    List<StreamChunk> second = collect(main().stream(Map.of("number", 1), config, StreamMode.CHECKPOINTS));
    JsonNode secondInput = toJson(second.get(0).data());
    assertEquals("input", secondInput.get("metadata").get("source").asText());
    assertTrue(secondInput.get("metadata").get("step").asInt() > last.get("metadata").get("step").asInt());
    assertEquals(last.get("config"), secondInput.get("parent_config"));
    assertEquals(5, secondInput.get("values").asInt(), "the last completed run's value");
  }

  @Test
  void runConfigSerializesAsConfigurable() throws Exception {
    JsonNode node = json.valueToTree(RunConfig.thread("t-1").withCheckpointId("cp-1"));
    assertEquals(json.readTree("{\"configurable\":{\"thread_id\":\"t-1\",\"checkpoint_ns\":\"\","
        + "\"checkpoint_id\":\"cp-1\"}}"), node);
    assertEquals("\"updates\"", json.writeValueAsString(StreamMode.UPDATES));
  }

  // ------------------------------------------------------------------ DEBUG

  @Test
  void debugWrapsCheckpointAndTaskEvents() {
    List<StreamChunk> chunks = collect(main().stream(Map.of("number", 1), config, StreamMode.DEBUG));
    Set<String> types = new HashSet<>();
    for (StreamChunk chunk : chunks) {
      assertEquals(StreamMode.DEBUG, chunk.mode());
      Map<?, ?> data = mapOf(chunk);
      assertEquals(DEBUG_KEYS, data.keySet());
      assertInstanceOf(Number.class, data.get("step"));
      String type = String.valueOf(data.get("type"));
      types.add(type);
      Map<?, ?> payload = assertInstanceOf(Map.class, data.get("payload"));
      switch (type) {
        case "checkpoint" -> assertEquals(CHECKPOINT_KEYS, payload.keySet());
        case "task" -> assertEquals(TASK_START_KEYS, payload.keySet());
        case "task_result" -> assertEquals(TASK_END_KEYS, payload.keySet());
        default -> throw new AssertionError("unexpected debug type " + type);
      }
      JsonNode wire = toJson(data);
      assertEquals(DEBUG_KEYS, fieldNames(wire));
      assertTrue(wire.get("step").isNumber());
      Instant.parse(wire.get("timestamp").asText()); // an ISO-8601 instant
      assertEquals(type, wire.get("type").asText());
      assertTrue(wire.get("payload").isObject());
    }
    assertEquals(Set.of("checkpoint", "task", "task_result"), types);
  }

  // ------------------------------------------------------------------ several modes

  @Test
  void multiModeStreamInterleavesInProgramOrder() {
    List<StreamChunk> chunks = collect(main().stream(Map.of("number", 1), config,
        StreamOptions.of(StreamMode.UPDATES, StreamMode.CUSTOM, StreamMode.VALUES)));
    List<StreamChunk> customAndUpdates = chunks.stream()
        .filter(chunk -> chunk.mode() == StreamMode.CUSTOM || chunk.mode() == StreamMode.UPDATES).toList();
    assertEquals(List.of(
        new StreamChunk(StreamMode.CUSTOM, List.of(), "hello"),
        new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("add_one", 2)),
        new StreamChunk(StreamMode.CUSTOM, List.of(), "world"),
        new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("add_two", 3)),
        new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("main", 5))), customAndUpdates);
    List<StreamChunk> values = ofMode(chunks, StreamMode.VALUES);
    assertEquals(List.of(new StreamChunk(StreamMode.VALUES, List.of(), 5)), values);
    assertTrue(chunks.indexOf(values.get(0)) > chunks.indexOf(customAndUpdates.get(3)),
        "the value comes after the last task's update");
    assertEquals(6, chunks.size());
  }

  @Test
  void everyModeAtOnceGivesEachModesChunks() {
    List<StreamChunk> chunks = collect(main().stream(Map.of("number", 1), config, StreamMode.values()));
    Set<StreamMode> seen = chunks.stream().map(StreamChunk::mode).collect(Collectors.toSet());
    assertEquals(Set.of(StreamMode.VALUES, StreamMode.UPDATES, StreamMode.CUSTOM, StreamMode.TASKS,
        StreamMode.CHECKPOINTS, StreamMode.DEBUG), seen, "no MESSAGES chunks without a model");
    assertEquals(3, ofMode(chunks, StreamMode.UPDATES).size());
    assertEquals(2, ofMode(chunks, StreamMode.CUSTOM).size());
  }

  // ------------------------------------------------------------------ subgraphs

  private final Task<Integer, Integer> prep = Task.of("prep", Integer.class, x -> Mono.just(x + 1));
  private final Task<Integer, Integer> doubler = Task.of("double", Integer.class, x -> Mono.just(x * 2));
  private final Entrypoint<Integer, Integer> child = Entrypoint.named("child")
      .define(Integer.class, Integer.class, (x, context) -> Mono.defer(() -> {
        context.writer().emit("from child");
        return doubler.call(x);
      }));

  private Entrypoint<Integer, Integer> parent() {
    return Entrypoint.named("parent").checkpointer(checkpointer)
        .define(Integer.class, Integer.class, (x, context) -> prep.call(x).flatMap(child::invoke));
  }

  @Test
  void withoutSubgraphsOnlyRootChunksAreEmitted() {
    List<StreamChunk> chunks = collect(parent().stream(1, config, StreamMode.UPDATES, StreamMode.CUSTOM));
    assertTrue(chunks.stream().allMatch(chunk -> chunk.namespace().isEmpty()), chunks::toString);
    assertTrue(chunks.stream().noneMatch(chunk -> chunk.mode() == StreamMode.CUSTOM), chunks::toString);
    assertTrue(chunks.stream().noneMatch(chunk -> mapOf(chunk).containsKey("double")), chunks::toString);
    assertEquals(Map.of("prep", 2), chunks.get(0).data());
    assertEquals(Map.of("parent", 4), chunks.get(chunks.size() - 1).data());
  }

  @Test
  void withSubgraphsChildChunksCarryTheChildNamespace() {
    List<StreamChunk> chunks = collect(parent().stream(1, config,
        StreamOptions.of(StreamMode.UPDATES, StreamMode.CUSTOM).withSubgraphs(true)));
    List<StreamChunk> root = chunks.stream().filter(chunk -> chunk.namespace().isEmpty()).toList();
    List<StreamChunk> nested = chunks.stream().filter(chunk -> !chunk.namespace().isEmpty()).toList();
    assertEquals(Map.of("prep", 2), root.get(0).data());
    assertEquals(Map.of("parent", 4), root.get(root.size() - 1).data());
    assertTrue(root.stream().noneMatch(chunk -> chunk.mode() == StreamMode.CUSTOM));

    assertFalse(nested.isEmpty(), chunks::toString);
    List<String> namespace = nested.get(0).namespace();
    assertEquals(1, namespace.size());
    assertTrue(namespace.get(0).matches("child:.+"), namespace::toString);
    assertTrue(nested.stream().allMatch(chunk -> chunk.namespace().equals(namespace)), chunks::toString);
    assertTrue(nested.contains(new StreamChunk(StreamMode.CUSTOM, namespace, "from child")), chunks::toString);
    assertTrue(nested.contains(new StreamChunk(StreamMode.UPDATES, namespace, Map.of("double", 4))),
        chunks::toString);
    // the child runs between prep and the parent's final update
    int firstNested = chunks.indexOf(nested.get(0));
    assertTrue(chunks.indexOf(root.get(0)) < firstNested);
    assertTrue(chunks.indexOf(nested.get(nested.size() - 1)) < chunks.indexOf(root.get(root.size() - 1)));
  }

  @Test
  void grandchildNamespaceHasTwoSegments() {
    Entrypoint<Integer, Integer> middle = Entrypoint.named("middle")
        .define(Integer.class, Integer.class, (x, context) -> child.invoke(x));
    Entrypoint<Integer, Integer> top = Entrypoint.named("top").checkpointer(checkpointer)
        .define(Integer.class, Integer.class, (x, context) -> middle.invoke(x));

    List<StreamChunk> chunks = collect(top.stream(3, config,
        StreamOptions.of(StreamMode.UPDATES, StreamMode.CUSTOM).withSubgraphs(true)));
    StreamChunk fromChild = chunks.stream().filter(chunk -> chunk.mode() == StreamMode.CUSTOM).findFirst()
        .orElseThrow(() -> new AssertionError("no custom chunk in " + chunks));
    assertEquals(2, fromChild.namespace().size(), fromChild::toString);
    assertTrue(fromChild.namespace().get(0).matches("middle:.+"), fromChild::toString);
    assertTrue(fromChild.namespace().get(1).matches("child:.+"), fromChild::toString);
    assertEquals(Map.of("top", 6), chunks.get(chunks.size() - 1).data());
    assertEquals(List.of(), chunks.get(chunks.size() - 1).namespace());
  }

  // ------------------------------------------------------------------ eager emission

  @Test
  void parallelTaskChunkArrivesWhileItsSiblingIsStillRunning() {
    Sinks.One<Integer> gate = Sinks.one();
    Task<Integer, Integer> fast = Task.of("fast", Integer.class, x -> Mono.just(x * 10));
    Task<Integer, Integer> slow = Task.of("slow", Integer.class, x -> gate.asMono().map(g -> g + x));
    Entrypoint<Integer, Integer> entrypoint = Entrypoint.named("main")
        .define(Integer.class, Integer.class, (x, context) ->
            Mono.zip(fast.call(x), slow.call(x)).map(both -> both.getT1() + both.getT2()));

    StepVerifier.create(entrypoint.stream(1, RunConfig.none(), StreamMode.UPDATES))
        .expectNext(new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("fast", 10)))
        .then(() -> gate.tryEmitValue(100)) // slow can finish only once we saw fast's chunk
        .expectNext(new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("slow", 101)))
        .expectNext(new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("main", 111)))
        .expectComplete()
        .verify(WAIT);
  }

  @Test
  void sequentialTaskChunkArrivesBeforeTheNextTaskFinishes() {
    Sinks.One<String> gate = Sinks.one();
    Task<String, String> first = Task.of("first", String.class, x -> Mono.just(x + "1"));
    Task<String, String> second = Task.of("second", String.class,
        x -> gate.asMono().publishOn(Schedulers.boundedElastic()).map(g -> x + g));
    Entrypoint<String, String> entrypoint = Entrypoint.named("main").checkpointer(checkpointer)
        .define(String.class, String.class, (x, context) -> first.call(x).flatMap(second::call));

    StepVerifier.create(entrypoint.stream("a", config, StreamMode.UPDATES))
        .expectNext(new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("first", "a1")))
        .then(() -> gate.tryEmitValue("2"))
        .expectNext(new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("second", "a12")))
        .expectNext(new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("main", "a12")))
        .expectComplete()
        .verify(WAIT);
  }

  @Test
  void streamFailsAfterTheChunksEmittedSoFar() {
    Task<Integer, Integer> ok = Task.of("ok", Integer.class, x -> Mono.just(x));
    Task<Integer, Integer> bad = Task.of("bad", Integer.class, x -> Mono.error(new IllegalStateException("bad task")));
    Entrypoint<Integer, Integer> entrypoint = Entrypoint.named("main")
        .define(Integer.class, Integer.class, (x, context) -> ok.call(x).flatMap(bad::call));

    StepVerifier.create(entrypoint.stream(1, RunConfig.none(), StreamMode.UPDATES))
        .expectNext(new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("ok", 1)))
        .expectErrorSatisfies(error -> {
          assertInstanceOf(IllegalStateException.class, error);
          assertEquals("bad task", error.getMessage());
        })
        .verify(WAIT);
  }

  // ------------------------------------------------------------------ cancellation and backpressure

  @Test
  void cancellingTheStreamCancelsRunningTasksAndLeavesTheThreadResumable() {
    AtomicInteger firstRuns = new AtomicInteger();
    AtomicInteger secondAttempts = new AtomicInteger();
    AtomicBoolean cancelled = new AtomicBoolean();
    Task<String, String> first = Task.of("first", String.class, x -> Mono.fromSupplier(() -> {
      firstRuns.incrementAndGet();
      return x + "1";
    }));
    Task<String, String> second = Task.of("second", String.class, x -> Mono.defer(() ->
        secondAttempts.incrementAndGet() == 1
            ? Mono.<String>never().doOnCancel(() -> cancelled.set(true))
            : Mono.just(x + "2")));
    Entrypoint<String, String> entrypoint = Entrypoint.named("main").checkpointer(checkpointer)
        .define(String.class, String.class, (x, context) -> first.call(x).flatMap(second::call));

    StepVerifier.create(entrypoint.stream("a", config, StreamMode.UPDATES))
        .expectNext(new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("first", "a1")))
        .thenCancel()
        .verify(WAIT);
    assertTrue(cancelled.get(), "the running task body is cancelled");

    StepVerifier.create(entrypoint.stream(Command.proceed(), config, StreamMode.UPDATES))
        .expectNext(new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("second", "a12")))
        .expectNext(new StreamChunk(StreamMode.UPDATES, List.of(), Map.of("main", "a12")))
        .expectComplete()
        .verify(WAIT);
    assertEquals(1, firstRuns.get(), "the finished task replays");
    assertEquals(2, secondAttempts.get(), "the cancelled task runs again");
  }

  @Test
  void writeWaitsForDemand() {
    AtomicInteger written = new AtomicInteger();
    Entrypoint<Integer, String> entrypoint = Entrypoint.named("main")
        .define(Integer.class, String.class, (n, context) -> Flux.range(1, n)
            .concatMap(i -> context.writer().write("w" + i).doOnSuccess(done -> written.incrementAndGet()))
            .then(Mono.just("done")));

    StepVerifier.create(entrypoint.stream(3, RunConfig.none(), StreamMode.CUSTOM), 0)
        .expectSubscription()
        .thenAwait() // let the (synchronously started) run reach its first write
        .then(() -> assertEquals(0, written.get(), "no demand: the first write has not completed"))
        .thenRequest(1)
        .expectNext(new StreamChunk(StreamMode.CUSTOM, List.of(), "w1"))
        .then(() -> assertEquals(1, written.get(), "one request: one write completed"))
        .thenRequest(10)
        .expectNext(new StreamChunk(StreamMode.CUSTOM, List.of(), "w2"))
        .expectNext(new StreamChunk(StreamMode.CUSTOM, List.of(), "w3"))
        .expectComplete()
        .verify(WAIT);
    assertEquals(3, written.get());
  }

  @Test
  void emitFarAheadOfDemandFailsTheRunWithAClearError() {
    Entrypoint<Integer, String> entrypoint = Entrypoint.named("main")
        .define(Integer.class, String.class, (n, context) -> Mono.fromSupplier(() -> {
          for (int i = 0; i < n; i++) {
            context.writer().emit(i);
          }
          return "done";
        }));

    StepVerifier.create(entrypoint.stream(5000, RunConfig.none(), StreamMode.CUSTOM), 0)
        .expectSubscription()
        .thenAwait() // tasks right after expectSubscription would run inside onSubscribe, before the run starts
        .thenRequest(Long.MAX_VALUE)
        .recordWith(ArrayList::new)
        .thenConsumeWhile(chunk -> chunk.mode() == StreamMode.CUSTOM)
        .consumeRecordedWith(chunks -> assertTrue(chunks.size() < 5000, "the run stopped emitting"))
        .expectErrorSatisfies(error -> {
          assertInstanceOf(FluxgraphException.class, error);
          assertTrue(error.getMessage().contains("1024"), error.getMessage());
        })
        .verify(WAIT);
  }

  // ------------------------------------------------------------------ cold

  @Test
  void streamIsColdAndEverySubscriptionIsARun() {
    Flux<StreamChunk> stream = main().stream(Map.of("number", 1), config, StreamMode.UPDATES);
    assertEquals(0, bodyRuns.get(), "nothing runs before subscription");
    StepVerifier.create(main().getStateHistory(config)).expectComplete().verify(WAIT);

    StepVerifier.create(stream).expectNextCount(3).expectComplete().verify(WAIT);
    assertEquals(1, bodyRuns.get());
    assertEquals(1, addOneRuns.get());
    StepVerifier.create(stream).expectNextCount(3).expectComplete().verify(WAIT);
    assertEquals(2, bodyRuns.get(), "subscribing twice runs twice");
    assertEquals(2, addOneRuns.get(), "a new input starts a new run whose tasks run again");
  }

  @Test
  void runAndInvokeAreColdToo() {
    Mono<Integer> invoked = main().invoke(Map.of("number", 1), config);
    Mono<?> ran = main().run(Map.of("number", 1), config);
    assertEquals(0, bodyRuns.get());
    StepVerifier.create(main().getStateHistory(config)).expectComplete().verify(WAIT);
    StepVerifier.create(invoked).expectNext(5).expectComplete().verify(WAIT);
    StepVerifier.create(ran).expectNextCount(1).expectComplete().verify(WAIT);
    StepVerifier.create(invoked).expectNext(5).expectComplete().verify(WAIT);
    assertEquals(3, bodyRuns.get());
  }
}
