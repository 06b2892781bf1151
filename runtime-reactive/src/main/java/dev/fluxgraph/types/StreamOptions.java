package dev.fluxgraph.types;

import java.util.List;
import java.util.Objects;

/**
 * Which modes to stream and whether nested entrypoints' chunks are included. Immutable.
 *
 * @param modes     the modes, at least one, no duplicates
 * @param subgraphs whether chunks of nested entrypoints (namespace not empty) are emitted
 */
public record StreamOptions(List<StreamMode> modes, boolean subgraphs) {
  public StreamOptions {
    Objects.requireNonNull(modes, "modes must not be null");
    if (modes.isEmpty()) {
      throw new IllegalArgumentException("at least one stream mode is required");
    }
    if (modes.stream().distinct().count() != modes.size()) {
      throw new IllegalArgumentException("stream modes must not repeat: " + modes);
    }
    modes = List.copyOf(modes);
  }

  /** The given modes ({@link StreamMode#UPDATES} when none), without subgraphs. */
  public static StreamOptions of(StreamMode... modes) {
    Objects.requireNonNull(modes, "modes must not be null");
    return new StreamOptions(modes.length == 0 ? List.of(StreamMode.UPDATES) : List.of(modes), false);
  }

  /** A copy that does or does not include the chunks of nested entrypoints. */
  public StreamOptions withSubgraphs(boolean subgraphs) {
    return new StreamOptions(modes, subgraphs);
  }
}
