package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.errors.InvalidGraphException;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** A reducer key's initial value, the reference's channel {@code default}: there from the first checkpoint on. */
class InitialValueTest {

  private static final Duration VERIFY = Duration.ofSeconds(10);

  record Notes(@Nullable List<String> items, @Nullable Integer count) {
  }

  private final InMemorySaver saver = new InMemorySaver();

  /** A node that records how many items it saw and appends one. */
  private CompiledGraph<Map<String, Object>> graph() {
    return StateGraph.ofMap()
        .reducer("items", Reducers.append(), List.of())
        .addNode("note", (state, context) -> Mono.just(Map.of("seen", ((List<?>) state.get("items")).size(),
            "items", List.of("n"))))
        .setEntryPoint("note")
        .compile(CompileOptions.defaults().withCheckpointer(saver).withName("notes"));
  }

  @Test
  void everyCheckpointShowsTheInitialValueUntilAWriteAndNodesReadIt() {
    RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
    Map<String, Object> result = graph().invoke(Map.of("other", 1), config).block(VERIFY);
    assertEquals(Map.of("other", 1, "items", List.of("n"), "seen", 0), result);

    List<StateSnapshot> history = new ArrayList<>(graph().getStateHistory(config).collectList().block(VERIFY));
    assertEquals(3, history.size(), history::toString);
    StateSnapshot input = history.get(2);
    assertEquals(List.of(StateGraph.START), input.next());
    assertEquals(Map.of("items", List.of()), input.values(), "the input checkpoint shows the key's initial value");
    assertEquals(Map.of("other", 1, "items", List.of()), history.get(1).values());
  }

  @Test
  void theInputCheckpointsStreamEventShowsIt() {
    RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
    List<StreamChunk> chunks = graph().stream(Map.of("items", List.of("a")), config, StreamMode.CHECKPOINTS)
        .collectList().block(VERIFY);
    @SuppressWarnings("unchecked")
    Map<String, Object> first = (Map<String, Object>) chunks.get(0).data();
    assertEquals(Map.of("items", List.of()), first.get("values"), first::toString);
    @SuppressWarnings("unchecked")
    Map<String, Object> second = (Map<String, Object>) chunks.get(1).data();
    assertEquals(Map.of("items", List.of("a")), second.get("values"), "the input appends to the initial value");
  }

  @Test
  void updateStateOnAFreshThreadReducesOntoTheInitialValue() {
    RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
    CompiledGraph<Map<String, Object>> graph = graph();
    graph.updateState(config, Map.of("items", List.of("x")), null).block(VERIFY);
    assertEquals(Map.of("items", List.of("x")), graph.getState(config).block(VERIFY).values());
  }

  @Test
  void anInputUpdateSavesAnInputCheckpointThatAContinuationApplies() {
    RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
    CompiledGraph<Map<String, Object>> graph = graph();
    graph.updateState(config, Map.of("items", List.of("a")), "__input__").block(VERIFY);
    StateSnapshot input = graph.getState(config).block(VERIFY);
    assertEquals(List.of(StateGraph.START), input.next());
    assertEquals(Map.of("items", List.of()), input.values(), "the input is pending, not applied");
    assertEquals("input", input.metadata().get("source"));
    assertEquals(-1, input.metadata().get("step"));

    graph.updateState(config, Map.of("items", List.of("b")), StateGraph.START).block(VERIFY);
    StateSnapshot started = graph.getState(config).block(VERIFY);
    assertEquals(List.of("note"), started.next());
    assertEquals(Map.of("items", List.of("b")), started.values());
    assertEquals(Map.of("items", List.of("b", "n"), "seen", 1),
        graph.invoke(dev.fluxgraph.types.Command.proceed(), config).block(VERIFY));

    RunConfig other = RunConfig.thread(UUID.randomUUID().toString());
    graph.updateState(other, Map.of("items", List.of("a")), "__input__").block(VERIFY);
    assertEquals(Map.of("items", List.of("a", "n"), "seen", 1),
        graph.invoke(dev.fluxgraph.types.Command.proceed(), other).block(VERIFY), "a continuation applies the input");
  }

  @Test
  void aRecordStateStartsWithIt() {
    CompiledGraph<Notes> graph = StateGraph.of(Notes.class)
        .reducer("items", Reducers.append(), List.of())
        .addNode("count", (state, context) -> Mono.just(Map.of("count", state.items().size())))
        .setEntryPoint("count")
        .compile();
    assertEquals(new Notes(List.of(), 0), graph.invoke(new Notes(null, null)).block(VERIFY));
  }

  @Test
  void aValueThatIsNotJsonOrAKeyTheStateLacksIsRefused() {
    InvalidGraphException notJson = assertThrows(InvalidGraphException.class,
        () -> StateGraph.ofMap().reducer("items", Reducers.append(), new Object()));
    assertTrue(notJson.getMessage().contains("initial value of 'items'"), notJson.getMessage());
    assertThrows(InvalidGraphException.class, () -> StateGraph.of(Notes.class).reducer("other", Reducers.append(),
        List.of()));
  }
}
