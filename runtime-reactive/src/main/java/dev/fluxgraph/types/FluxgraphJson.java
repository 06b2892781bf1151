package dev.fluxgraph.types;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.internal.Json;

/**
 * The Jackson configuration Fluxgraph uses for checkpoints and the wire. Serializing a {@link StreamChunk}'s
 * data or a {@link StateSnapshot} with it gives the JSON shapes described in SEMANTICS.md (e.g. a
 * {@link RunConfig} becomes {@code {"configurable": {"thread_id": ..., "checkpoint_ns": "", "checkpoint_id": ...}}}).
 */
public final class FluxgraphJson {

  private FluxgraphJson() {
  }

  /** A copy of the project's mapper; configure it freely. */
  public static ObjectMapper mapper() {
    return Json.mapper().copy();
  }
}
