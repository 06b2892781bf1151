package dev.fluxgraph.samples.model;

import java.util.Map;

/** A tool the model may call: its name, description and JSON-schema parameters. */
public record ToolSpec(String name, String description, Map<String, Object> parameters) {
}
