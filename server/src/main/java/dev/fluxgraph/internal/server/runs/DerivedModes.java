package dev.fluxgraph.internal.server.runs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.messages.Message;
import dev.fluxgraph.types.FluxgraphJson;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.StreamOptions;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The stream modes the server makes from the runtime's chunks, as the reference servers do, for one run:
 *
 * <ul>
 *   <li>{@code messages} (the SDK's messages events): the first token chunk of a message gives
 *   {@code messages/metadata} ({@code {<id>: {"metadata": ...}}}), every token chunk {@code messages/partial} with
 *   the message so far (its content accumulated per message id), and each {@code values} chunk
 *   {@code messages/complete} with the messages of its {@code messages} key not completed before (those with an
 *   id), once each.</li>
 *   <li>{@code events} (LangChain's stream events, v2 shape {@code {event, name, run_id, tags, metadata, data,
 *   parent_ids}}): {@code on_chain_start}/{@code on_chain_end} for the run (its input, its final value) and for every
 *   task and node at any depth (from the {@code tasks} chunks: input, result), and
 *   {@code on_chat_model_start}/{@code on_chat_model_stream}/{@code on_chat_model_end} for each message a model
 *   client streams through {@code TaskContext.messages()}: start at its first chunk, a stream event per chunk, end
 *   (the accumulated message) when the task that wrote it ends, or with the run.</li>
 * </ul>
 *
 * A token chunk is whatever reaches {@code messages()} that is not a whole message (a {@code Message} record, or a
 * map of type {@code human}, {@code ai}, {@code system}, {@code tool}...: the messages a graph node returns, which the
 * runtime's {@code messages} mode shows too): LangChain's {@code AIMessageChunk} maps, or maps with no type.
 * Not thread-safe: one run's chunks arrive one at a time.
 */
final class DerivedModes {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();
  private static final Set<String> WHOLE_MESSAGES = Set.of("human", "ai", "system", "tool", "chat", "function",
      "remove");
  private static final List<String> ACCUMULATED_LISTS = List.of("tool_call_chunks", "tool_calls",
      "invalid_tool_calls");

  private final boolean messages;
  private final boolean events;
  private final Set<StreamMode> asked;
  private final String runId;
  private final String name;
  private final Map<String, Object> metadata;

  /** messages mode: the messages so far, by id, and the ids completed. */
  private final Map<String, ObjectNode> partial = new LinkedHashMap<>();
  private final Set<String> completed = new HashSet<>();
  /** events mode: the open tasks by namespace and name (their ids), the open chat models by message id. */
  private final Map<String, String> openTasks = new LinkedHashMap<>();
  private final Map<String, ChatModel> openModels = new LinkedHashMap<>();

  private record ChatModel(String runId, String task, ObjectNode message, List<String> parents,
                           Map<String, Object> metadata) {
  }

  private DerivedModes(boolean messages, boolean events, Set<StreamMode> asked, String runId, String name,
                       Map<String, Object> metadata) {
    this.messages = messages;
    this.events = events;
    this.asked = asked;
    this.runId = runId;
    this.name = name;
    this.metadata = metadata;
  }

  /**
   * The derived modes a run asks for ({@code stream_mode} of its request's body: {@code "messages"} and
   * {@code "events"}), for the run {@code runId}, its events carrying {@code metadata} (asked for only when one of
   * them is).
   */
  static DerivedModes of(RunRequest run, String runId, Supplier<Map<String, Object>> metadata) {
    Set<String> names = requested(run.body());
    // the runtime modes asked for: the run's, but values only when asked for by name (a run asking only for derived
    // modes streams values for them)
    Set<StreamMode> asked = new LinkedHashSet<>(run.options().modes());
    if (!run.wantsValues()) {
      asked.remove(StreamMode.VALUES);
    }
    boolean messages = names.contains("messages");
    boolean events = names.contains("events");
    // the metadata only when events carry it: a plain run pays for none of this
    return new DerivedModes(messages, events, asked, runId, run.graphId(),
        messages || events ? metadata.get() : Map.of());
  }

  /**
   * Whether the request asked for this chunk itself: its mode by name ({@code messages-tuple} for the runtime's
   * messages), and, in a subgraph, {@code stream_subgraphs}.
   */
  boolean asked(StreamChunk chunk, boolean subgraphs) {
    return asked.contains(chunk.mode()) && (chunk.namespace().isEmpty() || subgraphs);
  }

  /** The names in a request's {@code stream_mode} (a string or a list; anything else has been refused already). */
  private static Set<String> requested(JsonNode body) {
    JsonNode streamMode = body.path("stream_mode");
    Set<String> names = new LinkedHashSet<>();
    if (streamMode.isTextual()) {
      names.add(streamMode.asText());
    } else if (streamMode.isArray()) {
      streamMode.forEach(mode -> names.add(mode.asText()));
    }
    return names;
  }

  /** Whether the request asks for any mode made here. */
  boolean any() {
    return messages || events;
  }

  /**
   * The runtime options to stream with: {@code base} plus what the derived modes read ({@code values} and
   * {@code messages} for messages; {@code tasks}, {@code messages} and subgraphs for events).
   */
  StreamOptions options(StreamOptions base) {
    if (!any()) {
      return base;
    }
    Set<StreamMode> modes = new LinkedHashSet<>(base.modes());
    modes.add(StreamMode.VALUES);
    modes.add(StreamMode.MESSAGES);
    if (events) {
      modes.add(StreamMode.TASKS);
    }
    return new StreamOptions(List.copyOf(modes), base.subgraphs() || events);
  }

  /** The run began: {@code on_chain_start} of the run, with the request's input (or command). */
  void start(@Nullable JsonNode input, BiConsumer<String, String> publish) {
    if (events) {
      ObjectNode data = JSON.createObjectNode();
      data.set("input", input);
      publish.accept("events", event("on_chain_start", name, runId, List.of(), metadata, data));
    }
  }

  /**
   * One runtime chunk: publishes the derived events it gives. {@code subgraphs}: whether the request streams
   * subgraphs (a nested graph's values then complete its messages too).
   */
  void accept(StreamChunk chunk, boolean subgraphs, BiConsumer<String, String> publish) {
    if (chunk.mode() == StreamMode.MESSAGES && chunk.data() instanceof List<?> pair && pair.size() == 2) {
      token(chunk.namespace(), pair.get(0), pair.get(1), publish);
    } else if (chunk.mode() == StreamMode.VALUES && messages && (chunk.namespace().isEmpty() || subgraphs)) {
      complete(chunk.data(), publish);
    } else if (chunk.mode() == StreamMode.TASKS && events && chunk.data() instanceof Map<?, ?> task) {
      task(chunk.namespace(), task, publish);
    }
  }

  /** The run ended with {@code output}: the chat models still open end, then {@code on_chain_end} of the run. */
  void finish(@Nullable Object output, BiConsumer<String, String> publish) {
    if (events) {
      for (String id : List.copyOf(openModels.keySet())) {
        endModel(id, publish);
      }
      ObjectNode data = JSON.createObjectNode();
      data.set("output", JSON.valueToTree(output));
      publish.accept("events", event("on_chain_end", name, runId, List.of(), metadata, data));
    }
  }

  private void token(List<String> namespace, @Nullable Object chunk, @Nullable Object chunkMetadata,
                     BiConsumer<String, String> publish) {
    if (chunk == null || chunk instanceof Message) {
      return;
    }
    JsonNode tree = JSON.valueToTree(chunk);
    if (!tree.isObject() || WHOLE_MESSAGES.contains(tree.path("type").asText())) {
      return;
    }
    ObjectNode message = (ObjectNode) tree;
    String id = message.path("id").isTextual() ? message.get("id").asText() : null;
    JsonNode metadataTree = JSON.valueToTree(chunkMetadata);
    if (messages && id != null && !completed.contains(id)) {
      ObjectNode so = partial.get(id);
      if (so == null) {
        so = message.deepCopy();
        partial.put(id, so);
        ObjectNode data = JSON.createObjectNode();
        data.putObject(id).set("metadata", metadataTree);
        publish.accept("messages/metadata", data.toString());
      } else {
        concat(so, message);
      }
      publish.accept("messages/partial", JSON.createArrayNode().add(so).toString());
    }
    if (events) {
      String key = id != null ? id : "anonymous:" + namespace + ":" + metadataTree.path("langgraph_node").asText();
      ChatModel model = openModels.get(key);
      if (model == null) {
        String node = metadataTree.path("langgraph_node").asText();
        String task = openTasks.get(taskKey(namespace, node));
        List<String> parents = new ArrayList<>();
        parents.add(runId);
        if (task != null) {
          parents.add(task);
        }
        Map<String, Object> modelMetadata = new LinkedHashMap<>(metadata);
        if (metadataTree.isObject()) {
          metadataTree.properties().forEach(entry -> modelMetadata.put(entry.getKey(), entry.getValue()));
        }
        model = new ChatModel(UUID.nameUUIDFromBytes((runId + "|chat|" + key).getBytes(StandardCharsets.UTF_8))
            .toString(), task == null ? "" : task, message.deepCopy(), parents, modelMetadata);
        openModels.put(key, model);
        ObjectNode data = JSON.createObjectNode();
        data.putObject("input");
        publish.accept("events", event("on_chat_model_start", "chat_model", model.runId(), parents, modelMetadata,
            data));
      } else {
        concat(model.message(), message);
      }
      ObjectNode data = JSON.createObjectNode();
      data.set("chunk", message);
      publish.accept("events", event("on_chat_model_stream", "chat_model", model.runId(), model.parents(),
          model.metadata(), data));
    }
  }

  private void complete(@Nullable Object values, BiConsumer<String, String> publish) {
    JsonNode list = JSON.valueToTree(values).path("messages");
    if (!list.isArray()) {
      return;
    }
    ArrayNode done = JSON.createArrayNode();
    for (JsonNode message : list) {
      String id = message.path("id").isTextual() ? message.get("id").asText() : null;
      if (id != null && completed.add(id)) {
        partial.remove(id);
        done.add(message);
      }
    }
    if (!done.isEmpty()) {
      publish.accept("messages/complete", done.toString());
    }
  }

  private void task(List<String> namespace, Map<?, ?> task, BiConsumer<String, String> publish) {
    String id = String.valueOf(task.get("id"));
    String taskName = String.valueOf(task.get("name"));
    String key = taskKey(namespace, taskName);
    Map<String, Object> taskMetadata = new LinkedHashMap<>(metadata);
    taskMetadata.put("langgraph_node", taskName);
    taskMetadata.put("langgraph_checkpoint_ns", String.join("|", namespace));
    if (task.containsKey("triggers")) { // a start
      openTasks.put(key, id);
      taskMetadata.put("langgraph_triggers", task.get("triggers"));
      ObjectNode data = JSON.createObjectNode();
      data.set("input", JSON.valueToTree(task.get("input")));
      publish.accept("events", event("on_chain_start", taskName, id, List.of(runId), taskMetadata, data));
      return;
    }
    openTasks.remove(key);
    for (Map.Entry<String, ChatModel> model : List.copyOf(openModels.entrySet())) {
      if (model.getValue().task().equals(id)) {
        endModel(model.getKey(), publish);
      }
    }
    Object error = task.get("error");
    boolean paused = error == null && task.get("result") == null && task.get("interrupts") instanceof List<?> pending
        && !pending.isEmpty();
    if (paused) { // a paused task has not ended: it runs again on resume
      return;
    }
    ObjectNode data = JSON.createObjectNode();
    if (error != null) {
      data.put("error", String.valueOf(error));
    } else {
      data.set("output", JSON.valueToTree(task.get("result")));
    }
    publish.accept("events", event("on_chain_end", taskName, id, List.of(runId), taskMetadata, data));
  }

  private void endModel(String key, BiConsumer<String, String> publish) {
    ChatModel model = openModels.remove(key);
    ObjectNode data = JSON.createObjectNode();
    data.set("output", model.message());
    publish.accept("events", event("on_chat_model_end", "chat_model", model.runId(), model.parents(),
        model.metadata(), data));
  }

  private static String taskKey(List<String> namespace, String name) {
    return String.join("|", namespace) + "#" + name;
  }

  /**
   * {@code into} with {@code chunk} added, as LangChain adds message chunks: text content concatenated (list content
   * appended), tool call chunks appended, any other field of the chunk that is set replacing the one so far.
   */
  private static void concat(ObjectNode into, ObjectNode chunk) {
    chunk.properties().forEach(entry -> {
      String field = entry.getKey();
      JsonNode value = entry.getValue();
      JsonNode current = into.get(field);
      if (field.equals("content") && current != null && current.isTextual() && value.isTextual()) {
        into.put(field, current.asText() + value.asText());
      } else if ((field.equals("content") || ACCUMULATED_LISTS.contains(field)) && current != null
          && current.isArray() && value.isArray()) {
        ((ArrayNode) current).addAll((ArrayNode) value);
      } else if (!value.isNull() && !(value.isTextual() && value.asText().isEmpty() && current != null)) {
        into.set(field, value);
      }
    });
  }

  private static String event(String event, String name, String runId, List<String> parents,
                              Map<String, Object> metadata, ObjectNode data) {
    ObjectNode node = JSON.createObjectNode();
    node.put("event", event);
    node.put("name", name);
    node.put("run_id", runId);
    node.putArray("tags");
    node.set("metadata", JSON.valueToTree(metadata));
    node.set("data", data);
    ArrayNode parentIds = node.putArray("parent_ids");
    parents.forEach(parentIds::add);
    return node.toString();
  }
}
