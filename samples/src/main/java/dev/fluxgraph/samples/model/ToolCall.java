package dev.fluxgraph.samples.model;

import java.util.Map;
import java.util.Objects;

/** A function call requested by the model. */
public record ToolCall(String id, String name, Map<String, Object> args) {
  public ToolCall {
    Objects.requireNonNull(id, "id must not be null");
    Objects.requireNonNull(name, "name must not be null");
    args = Map.copyOf(args);
  }
}
