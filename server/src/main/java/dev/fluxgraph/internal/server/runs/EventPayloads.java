package dev.fluxgraph.internal.server.runs;

import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What an event's data holds beyond its chunk, as the reference servers shape it: a checkpoint (the
 * {@code checkpoints} events, and the {@code checkpoint} payloads of {@code debug} events) also carries its config and
 * its parent's as {@code checkpoint} / {@code parent_checkpoint} objects ({@code {thread_id, checkpoint_ns,
 * checkpoint_id, checkpoint_map}}), which the SDK's clients read instead of the configs; a task's start event
 * ({@code tasks}, and {@code debug}'s {@code task}) carries {@code interrupts} as a task's end does.
 */
final class EventPayloads {

  private EventPayloads() {
  }

  /** The data to send for a chunk. */
  static @Nullable Object of(StreamChunk chunk) {
    if (chunk.mode() == StreamMode.CHECKPOINTS && chunk.data() instanceof Map<?, ?> checkpoint) {
      return withCheckpoints(checkpoint);
    }
    if (chunk.mode() == StreamMode.DEBUG && chunk.data() instanceof Map<?, ?> event
        && "checkpoint".equals(event.get("type")) && event.get("payload") instanceof Map<?, ?> checkpoint) {
      Map<Object, Object> wire = new LinkedHashMap<>(event);
      wire.put("payload", withCheckpoints(checkpoint));
      return wire;
    }
    if (chunk.mode() == StreamMode.TASKS && chunk.data() instanceof Map<?, ?> task) {
      return withStartInterrupts(task);
    }
    if (chunk.mode() == StreamMode.DEBUG && chunk.data() instanceof Map<?, ?> event
        && "task".equals(event.get("type")) && event.get("payload") instanceof Map<?, ?> task) {
      Map<Object, Object> wire = new LinkedHashMap<>(event);
      wire.put("payload", withStartInterrupts(task));
      return wire;
    }
    return chunk.data();
  }

  /**
   * A task's start ({@code {id, name, input, triggers}}) with {@code interrupts}, which the reference's start events
   * carry too: empty, since a task that starts has raised none (a resumed one's earlier interrupts are answered).
   */
  private static Map<?, ?> withStartInterrupts(Map<?, ?> task) {
    if (!task.containsKey("triggers") || task.containsKey("interrupts")) {
      return task;
    }
    Map<Object, Object> wire = new LinkedHashMap<>(task);
    wire.put("interrupts", List.of());
    return wire;
  }

  private static Map<Object, Object> withCheckpoints(Map<?, ?> checkpoint) {
    Map<Object, Object> wire = new LinkedHashMap<>(checkpoint);
    wire.put("checkpoint", address(checkpoint.get("config")));
    wire.put("parent_checkpoint", address(checkpoint.get("parent_config")));
    return wire;
  }

  private static @Nullable Map<String, Object> address(@Nullable Object config) {
    if (!(config instanceof RunConfig run) || run.threadId().isEmpty()) {
      return null;
    }
    Map<String, Object> address = new LinkedHashMap<>();
    address.put("thread_id", run.threadId().get());
    address.put("checkpoint_ns", run.checkpointNamespace());
    address.put("checkpoint_id", run.checkpointId().orElse(null));
    address.put("checkpoint_map", null);
    return address;
  }
}
