package dev.fluxgraph.internal.server.api;

import static dev.fluxgraph.internal.server.api.Fields.MAP;
import static dev.fluxgraph.internal.server.api.Fields.booleanField;
import static dev.fluxgraph.internal.server.api.Fields.oneOf;
import static dev.fluxgraph.internal.server.api.Fields.optionalMap;
import static dev.fluxgraph.internal.server.api.Fields.optionalObject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.graph.Send;
import dev.fluxgraph.internal.EntrypointAccess;
import dev.fluxgraph.internal.GraphDefinition;
import dev.fluxgraph.internal.server.Assistants;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.internal.server.ServedAssistants;
import dev.fluxgraph.internal.server.ServedGraphs;
import dev.fluxgraph.internal.server.runs.RunRequest;
import dev.fluxgraph.internal.server.runs.Webhooks;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.Durability;
import dev.fluxgraph.types.FluxgraphJson;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.StreamOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.StreamSupport;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * The body of a run request (streamed, waited or background; on a thread or stateless) checked and parsed into a
 * {@link RunRequest}: the assistant, stream modes, command or input, config (configurable values, recursion limit,
 * tags, run name), breakpoints, context, metadata, durability, checkpoint, delay and strategies. A bad field is a 422
 * naming it.
 */
final class RunRequests {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();

  /** The fields of a run's {@code config} that Fluxgraph honours; any other is refused. */
  static final List<String> CONFIG_FIELDS = List.of("configurable", "recursion_limit", "tags", "run_name",
      "metadata");

  /**
   * The fields of a run request Fluxgraph honours ({@code stream_resumable}: every run's events are kept for a
   * joinStream, and on PostgreSQL a resumable run's are written as they come, for a client that resumes it on another
   * process after this one died;
   * {@code checkpoint_during}: the older name of {@code durability}, {@code false} being {@code exit}).
   */
  static final List<String> RUN_FIELDS = List.of("assistant_id", "input", "command", "config", "context", "metadata",
      "stream_mode", "stream_subgraphs", "stream_resumable", "interrupt_before", "interrupt_after", "checkpoint",
      "checkpoint_id", "checkpoint_during", "durability", "multitask_strategy", "on_completion", "on_disconnect",
      "if_not_exists", "after_seconds", "webhook");

  /** Fields of the reference's run requests that Fluxgraph refuses, and why. */
  static final Map<String, String> REFUSED_FIELDS = Map.of(
      "feedback_keys", "LangSmith feedback is not served here",
      "langsmith_tracer", "LangSmith tracing is not served here");

  private final ServedGraphs graphs;
  private final @Nullable ServedAssistants assistants;
  /** The durability of runs whose request names none; null: each graph's own. */
  private final @Nullable Durability defaultDurability;

  /**
   * Modes the server makes itself: {@code messages} (the SDK's {@code messages/*} events; the runtime's
   * {@code messages} chunks are {@code messages-tuple}) and {@code events}.
   */
  static final Set<String> DERIVED_MODES = Set.of("messages", "events");

  RunRequests(ServedGraphs graphs, @Nullable Durability defaultDurability) {
    this(graphs, null, defaultDurability);
  }

  /** With {@code assistants}: a new run's assistant is looked up and its defaults laid under the request. */
  RunRequests(ServedGraphs graphs, @Nullable ServedAssistants assistants, @Nullable Durability defaultDurability) {
    this.defaultDurability = defaultDurability;
    this.graphs = graphs;
    this.assistants = assistants;
  }

  /**
   * A new run's request: its assistant resolved (an assistant id, or a graph id for the graph's own assistant; 404
   * when unknown), its defaults merged under the request ({@link ServedAssistants#runBody}), then {@link #parse}d.
   * The merged body is what the run's record keeps, so a process claiming it needs no lookup.
   */
  Mono<RunRequest> parseNew(JsonNode body, boolean stateless) {
    return parseNew(body, stateless, false);
  }

  /**
   * Starts a new run with {@code start} from its request, made (as {@link #parseNew}) from its assistant as read
   * earlier when the run queue checks it at the run's record ({@link ServedAssistants#resolveForRun}): a new run then
   * costs no read before its record. When the record found that assistant changed meanwhile, the request is made again
   * from a fresh read (a few times, then a 409).
   */
  <T> Mono<T> startNew(JsonNode body, boolean stateless, Function<RunRequest, Mono<T>> start) {
    return Mono.defer(() -> parseNew(body, stateless, true).flatMap(start))
        .retryWhen(Retry.max(STALE_TRIES).filter(ServedAssistants.StaleAssistantException.class::isInstance)
            .doBeforeRetry(signal -> Objects.requireNonNull(assistants)
                .forget(((ServedAssistants.StaleAssistantException) signal.failure()).assistantId()))
            .onRetryExhaustedThrow((spec, signal) -> new HttpProblem(409, signal.failure().getMessage()
                + " again and again; try again")));
  }

  private static final int STALE_TRIES = 3;

  private Mono<RunRequest> parseNew(JsonNode body, boolean stateless, boolean cached) {
    return Mono.defer(() -> {
      if (!body.path("assistant_id").isTextual()) {
        throw HttpProblem.invalid("assistant_id is required (an assistant id or a graph id)");
      }
      if (body.has("graph_id")) {
        throw HttpProblem.invalid("graph_id is not a field of a run request; name the assistant (or the graph) with "
            + "assistant_id");
      }
      for (String field : (Iterable<String>) body::fieldNames) {
        String refusal = REFUSED_FIELDS.get(field);
        if (refusal != null && !body.get(field).isNull()) {
          throw HttpProblem.invalid(field + " is not supported: " + refusal);
        }
        if (refusal == null && !RUN_FIELDS.contains(field)) {
          throw HttpProblem.invalid("unknown field " + field + " of a run request; the fields: " + RUN_FIELDS);
        }
      }
      if (assistants == null) {
        return Mono.just(parse(body, stateless));
      }
      String named = body.get("assistant_id").asText();
      if (!cached) {
        return assistants.resolve(named)
            .map(assistant -> parse(ServedAssistants.runBody(body, assistant), stateless, null));
      }
      return assistants.resolveForRun(named).map(resolved -> parse(
          ServedAssistants.runBody(body, resolved.assistant()), stateless, resolved.checkedAt()));
    });
  }

  /**
   * A run's request as recorded: {@code graph_id}, when there, is the graph of the assistant {@code assistant_id}
   * names (set by {@link #parseNew}); without it {@code assistant_id} names a graph or a graph's own assistant.
   */
  RunRequest parse(JsonNode body, boolean stateless) {
    return parse(body, stateless, null);
  }

  @SuppressWarnings("unchecked")
  private RunRequest parse(JsonNode body, boolean stateless, @Nullable Instant assistantAt) {
    if (!body.path("assistant_id").isTextual()) {
      throw HttpProblem.invalid("assistant_id is required");
    }
    Map<String, Object> configurable;
    try {
      configurable = RunRequest.configurableOf(body);
    } catch (IllegalArgumentException e) {
      throw HttpProblem.invalid(e.getMessage());
    }
    String named = body.get("assistant_id").asText();
    String assistantGraph = body.path("graph_id").isTextual() ? body.get("graph_id").asText() : null;
    // a graph factory's graph for these values: before the input, which is read as that graph's input type
    Entrypoint<Object, Object> graph = (Entrypoint<Object, Object>) graphs.byAssistant(
        assistantGraph != null ? assistantGraph : named, configurable);
    String graphId = graphs.idOf(graph);
    String assistantId = assistantGraph != null ? named : Assistants.idOf(graphId);
    if (!assistantId.equals(Assistants.idOf(graphId))) {
      graphs.rememberAssistant(assistantId, graphId);
    }
    JsonNode config = optionalObject(body, "config");
    RunRequest.Settings settings = settings(config, "config");
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
      if (DERIVED_MODES.contains(name)) {
        continue; // the server's own modes, made from the runtime's chunks when the run executes
      }
      StreamMode mode;
      try {
        mode = StreamMode.fromWireName(name.equals("messages-tuple") ? "messages" : name);
      } catch (IllegalArgumentException e) {
        throw HttpProblem.invalid("invalid stream_mode: " + e.getMessage() + ", messages-tuple or events");
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
    if (config != null && config.hasNonNull("metadata")) { // config.metadata under the run's own
      Map<String, Object> merged = new LinkedHashMap<>(optionalMap(config, "metadata"));
      merged.putAll(metadata);
      metadata = merged;
    }
    Durability durability = defaultDurability;
    JsonNode during = body.path("checkpoint_during");
    if (!during.isMissingNode() && !during.isNull()) {
      if (!during.isBoolean()) {
        throw HttpProblem.invalid("checkpoint_during must be a boolean");
      }
      durability = during.booleanValue() ? Durability.ASYNC : Durability.EXIT;
    }
    if (!body.path("durability").isMissingNode() && !body.path("durability").isNull()
        && !body.path("durability").isTextual()) {
      throw HttpProblem.invalid("durability must be sync, async or exit, was " + body.get("durability"));
    }
    if (body.path("durability").isTextual()) {
      try {
        durability = Durability.valueOf(body.get("durability").asText()
            .toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw HttpProblem.invalid("durability must be sync, async or exit, was '" + body.get("durability").asText()
            + "'");
      }
    }
    // checkpoint_id, or checkpoint: {checkpoint_id} (the JS client's checkpoint option), or the config's
    JsonNode checkpointNs = body.path("checkpoint").path("checkpoint_ns");
    if (!checkpointNs.isMissingNode() && !checkpointNs.isNull()
        && !(checkpointNs.isTextual() && checkpointNs.asText().isEmpty())) {
      throw HttpProblem.invalid("checkpoint.checkpoint_ns must be empty: a run starts from one of the thread's "
          + "checkpoints, not from a nested graph's state, was " + checkpointNs);
    }
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
    settings = new RunRequest.Settings(settings.recursionLimit(), settings.tags(), settings.runName(),
        breakpoints(body, "interrupt_before", graph, graphId), breakpoints(body, "interrupt_after", graph, graphId));
    return new RunRequest(graph, graphId, input, command,
        // only derived modes asked for: the run streams values for them (published only through them)
        new StreamOptions(modes.isEmpty() ? List.of(StreamMode.VALUES) : modes,
            booleanField(body, "stream_subgraphs")), modes.contains(StreamMode.VALUES),
        context.isObject() ? JSON.convertValue(context, MAP) : null,
        metadata, durability,
        checkpoint.isTextual() ? checkpoint.asText() : null,
        Duration.ofMillis((long) (after.asDouble(0) * 1000)),
        onCompletion.equals("delete"), multitaskStrategy, ifNotExists.equals("create"), onDisconnect.equals("cancel"),
        stateless, body, assistantId, settings, assistantAt);
  }

  /**
   * The settings of a run's (or an assistant's) {@code config}: {@code recursion_limit} (an integer, at least 1),
   * {@code tags} (strings), {@code run_name} (a string); {@code configurable} and {@code metadata} must be objects.
   * Any other field is refused with a 422 naming it ({@code where} is how the config is named).
   */
  static RunRequest.Settings settings(@Nullable JsonNode config, String where) {
    if (config == null) {
      return RunRequest.Settings.NONE;
    }
    for (String field : (Iterable<String>) config::fieldNames) {
      if (!CONFIG_FIELDS.contains(field)) {
        throw HttpProblem.invalid(where + "." + field + " is not supported: Fluxgraph honours " + where + "."
            + String.join(", " + where + ".", CONFIG_FIELDS));
      }
    }
    for (String object : List.of("configurable", "metadata")) {
      JsonNode value = config.path(object);
      if (!value.isMissingNode() && !value.isNull() && !value.isObject()) {
        throw HttpProblem.invalid(where + "." + object + " must be an object");
      }
    }
    Integer limit = null;
    JsonNode recursion = config.path("recursion_limit");
    if (!recursion.isMissingNode() && !recursion.isNull()) {
      if (!recursion.isIntegralNumber() || !recursion.canConvertToInt() || recursion.asInt() < 1) {
        throw HttpProblem.invalid(where + ".recursion_limit must be an integer of at least 1, was " + recursion);
      }
      limit = recursion.asInt();
    }
    List<String> tags = new ArrayList<>();
    JsonNode tagNode = config.path("tags");
    if (!tagNode.isMissingNode() && !tagNode.isNull()) {
      if (!tagNode.isArray()) {
        throw HttpProblem.invalid(where + ".tags must be a list of strings");
      }
      for (JsonNode tag : tagNode) {
        if (!tag.isTextual() || tag.asText().isBlank()) {
          throw HttpProblem.invalid(where + ".tags must be a list of non-blank strings, had " + tag);
        }
        tags.add(tag.asText());
      }
    }
    JsonNode name = config.path("run_name");
    if (!name.isMissingNode() && !name.isNull() && (!name.isTextual() || name.asText().isBlank())) {
      throw HttpProblem.invalid(where + ".run_name must be a non-blank string");
    }
    return new RunRequest.Settings(limit, List.copyOf(tags), name.isTextual() ? name.asText() : null, null, null);
  }

  /**
   * A run's {@code interrupt_before} or {@code interrupt_after}: {@code "*"} or a list of node names; null when
   * absent. 422 for an entrypoint (it has no nodes) and for anything but names. A name that is no node of the graph
   * (e.g. a subgraph's node: nested graphs keep their own breakpoints) is accepted and never pauses the run, as the
   * reference does: LangGraph checks breakpoint names when a graph is compiled, not per run.
   */
  private static @Nullable List<String> breakpoints(JsonNode body, String field, Entrypoint<?, ?> graph,
                                                   String graphId) {
    JsonNode value = body.path(field);
    if (value.isMissingNode() || value.isNull()) {
      return null;
    }
    List<String> nodes = new ArrayList<>();
    if (value.isTextual() && value.asText().equals("*")) {
      nodes.add("*");
    } else if (value.isArray()) {
      for (JsonNode node : value) {
        if (!node.isTextual()) {
          throw HttpProblem.invalid(field + " must be \"*\" or a list of node names, had " + node);
        }
        nodes.add(node.asText());
      }
    } else {
      throw HttpProblem.invalid(field + " must be \"*\" or a list of node names, was " + value);
    }
    GraphDefinition definition = EntrypointAccess.get().spec(graph).graph();
    if (definition == null) {
      throw HttpProblem.invalid(field + " applies to a graph's nodes; " + graphId + " is an entrypoint, which has "
          + "none (pause it with interrupt(..))");
    }
    return List.copyOf(nodes);
  }

  private static boolean looksLikeId(String key) {
    return key.length() == 36 && key.charAt(8) == '-' && key.charAt(13) == '-';
  }
}
