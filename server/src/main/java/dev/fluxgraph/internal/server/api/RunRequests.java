package dev.fluxgraph.internal.server.api;

import static dev.fluxgraph.internal.server.api.Fields.MAP;
import static dev.fluxgraph.internal.server.api.Fields.oneOf;
import static dev.fluxgraph.internal.server.api.Fields.optionalMap;
import static dev.fluxgraph.internal.server.api.Fields.optionalObject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.graph.Send;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.internal.server.ServedGraphs;
import dev.fluxgraph.internal.server.runs.RunRequest;
import dev.fluxgraph.internal.server.runs.Webhooks;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.Durability;
import dev.fluxgraph.types.FluxgraphJson;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.StreamOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.jspecify.annotations.Nullable;

/**
 * The body of a run request (streamed, waited or background; on a thread or stateless) checked and parsed into a
 * {@link RunRequest}: the assistant, stream modes, command or input, context, metadata, durability, checkpoint,
 * delay and strategies. A bad field is a 422 naming it.
 */
final class RunRequests {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();

  private final ServedGraphs graphs;
  /** The durability of runs whose request names none; null: each graph's own. */
  private final @Nullable Durability defaultDurability;

  RunRequests(ServedGraphs graphs, @Nullable Durability defaultDurability) {
    this.defaultDurability = defaultDurability;
    this.graphs = graphs;
  }

  @SuppressWarnings("unchecked")
  RunRequest parse(JsonNode body, boolean stateless) {
    if (!body.path("assistant_id").isTextual()) {
      throw HttpProblem.invalid("assistant_id is required");
    }
    Map<String, Object> configurable;
    try {
      configurable = RunRequest.configurableOf(body);
    } catch (IllegalArgumentException e) {
      throw HttpProblem.invalid(e.getMessage());
    }
    // a graph factory's graph for these values: before the input, which is read as that graph's input type
    Entrypoint<Object, Object> graph =
        (Entrypoint<Object, Object>) graphs.byAssistant(body.get("assistant_id").asText(), configurable);
    List<StreamMode> modes = new ArrayList<>();
    JsonNode streamMode = body.path("stream_mode");
    List<String> names = new ArrayList<>();
    if (streamMode.isTextual()) {
      names.add(streamMode.asText());
    } else if (streamMode.isArray()) {
      streamMode.forEach(mode -> names.add(mode.asText()));
    } else if (!streamMode.isMissingNode() && !streamMode.isNull()) {
      throw HttpProblem.invalid("stream_mode must be a string or a list of strings");
    }
    if (names.isEmpty()) {
      names.add("values");
    }
    for (String name : names) {
      StreamMode mode;
      try {
        mode = StreamMode.fromWireName(name.equals("messages-tuple") ? "messages" : name);
      } catch (IllegalArgumentException e) {
        throw HttpProblem.invalid("invalid stream_mode: " + e.getMessage());
      }
      if (!modes.contains(mode)) {
        modes.add(mode);
      }
    }
    Command command = null;
    JsonNode commandNode = body.path("command");
    if (!commandNode.isMissingNode() && !commandNode.isNull() && !commandNode.isObject()) {
      throw HttpProblem.invalid("command must be an object with resume, goto and/or update");
    }
    if (commandNode.isObject() && commandNode.has("resume")) {
      JsonNode resume = commandNode.get("resume");
      Object value = JSON.convertValue(resume, Object.class);
      boolean byId = resume.isObject() && resume.size() > 0 && StreamSupport
          .stream(((Iterable<String>) resume::fieldNames).spliterator(), false).allMatch(RunRequests::looksLikeId);
      command = byId ? Command.resumeById(JSON.convertValue(resume, MAP)) : Command.resume(value);
    }
    JsonNode goTo = commandNode.path("goto");
    if (!goTo.isMissingNode() && !goTo.isNull()) {
      // a node name, a Send {"node": .., "input": ..}, or a list of them (one node name at most)
      List<JsonNode> targets = new ArrayList<>();
      if (goTo.isArray()) {
        goTo.forEach(targets::add);
      } else {
        targets.add(goTo);
      }
      String node = null;
      List<Send> sends = new ArrayList<>();
      for (JsonNode target : targets) {
        if (target.isTextual() && node == null) {
          node = target.asText();
        } else if (target.isTextual()) {
          throw HttpProblem.invalid("command.goto names more than one node; send one node name, or Sends");
        } else if (target.isObject() && target.path("node").isTextual()) {
          Object arg = target.hasNonNull("input") ? JSON.convertValue(target.get("input"), Object.class) : Map.of();
          sends.add(new Send(target.get("node").asText(), arg));
        } else {
          throw HttpProblem.invalid("command.goto must be a node name, a Send {\"node\": .., \"input\": ..}, or "
              + "a list of them");
        }
      }
      if (node != null) {
        command = (command == null ? Command.goTo(node) : command.withGoTo(node));
      }
      if (!sends.isEmpty()) {
        Send[] all = sends.toArray(Send[]::new);
        command = (command == null ? Command.goTo(all) : command.withGoTo(all));
      }
    }
    JsonNode update = commandNode.path("update");
    if (!update.isMissingNode() && !update.isNull()) {
      if (!update.isObject()) {
        throw HttpProblem.invalid("command.update must be an object of state keys");
      }
      Map<String, Object> values = JSON.convertValue(update, MAP);
      command = (command == null ? Command.update(values) : command.withUpdate(values));
    }
    Object input = null;
    if (command == null && body.hasNonNull("input")) {
      try {
        input = JSON.convertValue(body.get("input"), JSON.constructType(graph.inputType()));
      } catch (IllegalArgumentException e) {
        throw HttpProblem.invalid("input does not fit graph " + graphs.idOf(graph) + ": " + e.getMessage()
            .lines().findFirst().orElse(""));
      }
    }
    if (command == null && input == null) {
      command = Command.proceed();
    }
    JsonNode context = body.path("context");
    if (!context.isMissingNode() && !context.isNull() && !context.isObject()) {
      throw HttpProblem.invalid("context must be an object");
    }
    Map<String, Object> metadata = optionalMap(body, "metadata");
    Durability durability = defaultDurability;
    if (body.path("durability").isTextual()) {
      try {
        durability = Durability.valueOf(body.get("durability").asText()
            .toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw HttpProblem.invalid("durability must be sync, async or exit, was '" + body.get("durability").asText()
            + "'");
      }
    }
    optionalObject(body, "config");
    // checkpoint_id, or checkpoint: {checkpoint_id} (the JS client's checkpoint option), or the config's
    JsonNode checkpoint = body.path("checkpoint_id").isTextual() ? body.get("checkpoint_id")
        : body.path("checkpoint").path("checkpoint_id").isTextual() ? body.get("checkpoint").get("checkpoint_id")
        : body.path("config").path("configurable").path("checkpoint_id");
    JsonNode after = body.path("after_seconds");
    if (!after.isMissingNode() && !after.isNull() && (!after.isNumber() || after.asDouble() < 0
        || after.asDouble() > 86_400)) {
      throw HttpProblem.invalid("after_seconds must be a number between 0 and 86400");
    }
    String onCompletion = oneOf(body, "on_completion", stateless ? "delete" : "keep", "delete", "keep");
    String ifNotExists = oneOf(body, "if_not_exists", "reject", "reject", "create");
    String onDisconnect = oneOf(body, "on_disconnect", "continue", "continue", "cancel");
    String multitaskStrategy = oneOf(body, "multitask_strategy", "reject", "reject", "interrupt", "rollback",
        "enqueue");
    try {
      Webhooks.of(body);
    } catch (IllegalArgumentException e) {
      throw HttpProblem.invalid(e.getMessage());
    }
    for (String breakpoints : List.of("interrupt_before", "interrupt_after")) {
      // silently running without the breakpoints the caller asked for would be worse than refusing
      if (body.hasNonNull(breakpoints)) {
        throw HttpProblem.invalid(breakpoints + " per run is not supported; compile the graph with it "
            + "(CompileOptions.withInterruptBefore/After)");
      }
    }
    return new RunRequest(graph, graphs.idOf(graph), input, command,
        new StreamOptions(modes, body.path("stream_subgraphs").asBoolean(false)), modes.contains(StreamMode.VALUES),
        context.isObject() ? JSON.convertValue(context, MAP) : null,
        metadata, durability,
        checkpoint.isTextual() ? checkpoint.asText() : null,
        Duration.ofMillis((long) (after.asDouble(0) * 1000)),
        onCompletion.equals("delete"), multitaskStrategy, ifNotExists.equals("create"), onDisconnect.equals("cancel"),
        stateless, body);
  }

  private static boolean looksLikeId(String key) {
    return key.length() == 36 && key.charAt(8) == '-' && key.charAt(13) == '-';
  }
}
