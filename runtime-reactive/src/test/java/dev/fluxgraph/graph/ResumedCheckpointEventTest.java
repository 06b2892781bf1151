package dev.fluxgraph.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * A run that continues its thread's checkpoint as it is shows that checkpoint first in the {@code checkpoints} and
 * {@code debug} streams (the reference's first step emits the checkpoint it starts from); one that saves a
 * checkpoint first (an input, a fork) shows only the ones it saves.
 */
class ResumedCheckpointEventTest {

  private static final Duration VERIFY = Duration.ofSeconds(10);

  private final InMemorySaver saver = new InMemorySaver();

  private CompiledGraph<Map<String, Object>> graph() {
    return StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Map.of("a", 1)))
        .addNode("b", (state, context) -> Mono.just(Map.of("b", 2)))
        .addEdge(StateGraph.START, "a").addEdge("a", "b")
        .compile(CompileOptions.defaults().withCheckpointer(saver).withInterruptBefore("b").withName("resumed"));
  }

  private static List<String> checkpointIds(List<StreamChunk> chunks, StreamMode mode) {
    List<String> ids = new ArrayList<>();
    for (StreamChunk chunk : chunks) {
      if (chunk.mode() != mode) {
        continue;
      }
      Map<?, ?> data = (Map<?, ?>) chunk.data();
      if (mode == StreamMode.DEBUG) {
        if (!"checkpoint".equals(data.get("type"))) {
          continue;
        }
        data = (Map<?, ?>) data.get("payload");
      }
      ids.add(((RunConfig) data.get("config")).checkpointId().orElseThrow());
    }
    return ids;
  }

  private List<String> history(RunConfig config) {
    List<String> ids = new ArrayList<>(graph().getStateHistory(config).map(StateSnapshot::config)
        .map(c -> c.checkpointId().orElseThrow()).collectList().block(VERIFY));
    Collections.reverse(ids);
    return ids;
  }

  @Test
  void aContinuationShowsItsCheckpointFirstThenTheNewOnes() {
    RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
    List<String> first = checkpointIds(graph().stream(Map.of(), config, StreamMode.CHECKPOINTS).collectList()
        .block(VERIFY), StreamMode.CHECKPOINTS);
    assertEquals(history(config), first, "the input and the steps up to the breakpoint");

    List<StreamChunk> chunks = graph().stream(Command.proceed(), config, StreamMode.CHECKPOINTS, StreamMode.DEBUG)
        .collectList().block(VERIFY);
    List<String> all = history(config);
    assertEquals(4, all.size(), all::toString); // the input, before a, before b (paused), after b
    List<String> expected = all.subList(2, 4); // the paused checkpoint again, then the one after b
    assertEquals(expected, checkpointIds(chunks, StreamMode.CHECKPOINTS));
    assertEquals(expected, checkpointIds(chunks, StreamMode.DEBUG));
  }

  @Test
  void aRunWithInputShowsOnlyTheCheckpointsItSaves() {
    RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
    graph().invoke(Map.of(), config).block(VERIFY);
    graph().invoke(Command.proceed(), config).block(VERIFY);
    List<String> before = history(config);
    List<String> shown = checkpointIds(graph().stream(Map.of("x", 1), config, StreamMode.CHECKPOINTS)
        .collectList().block(VERIFY), StreamMode.CHECKPOINTS);
    List<String> after = history(config);
    assertEquals(after.subList(before.size(), after.size()), shown);
  }
}
