package dev.fluxgraph.types;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A pause requested by {@code interrupt(value, type)}. The id is unique per interrupt call site and stable
 * across replays, so it can be answered with {@link Command#resumeById}.
 *
 * @param id    stable id of this interrupt
 * @param value the value passed to {@code interrupt}; after a round trip through a checkpoint it is plain JSON
 *              data (maps, lists, strings, numbers, booleans)
 */
public record Interrupt(String id, @Nullable Object value) {
  public Interrupt {
    Objects.requireNonNull(id, "id must not be null");
  }
}
