package dev.fluxgraph.types;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One item of a run's stream.
 *
 * @param mode      which stream mode produced it
 * @param namespace empty for the root run; {@code ["<name>:<id>", ...]} for nested entrypoints
 * @param data      the payload; its shape per mode is described in SEMANTICS.md §5
 */
public record StreamChunk(StreamMode mode, List<String> namespace, @Nullable Object data) {
  public StreamChunk {
    Objects.requireNonNull(mode, "mode must not be null");
    namespace = List.copyOf(Objects.requireNonNull(namespace, "namespace must not be null"));
  }
}
