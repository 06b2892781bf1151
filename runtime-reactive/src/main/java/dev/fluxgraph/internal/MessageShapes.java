package dev.fluxgraph.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.fluxgraph.messages.AiMessage;
import dev.fluxgraph.messages.HumanMessage;
import dev.fluxgraph.messages.Message;
import dev.fluxgraph.messages.RemoveMessage;
import dev.fluxgraph.messages.SystemMessage;
import dev.fluxgraph.messages.ToolCall;
import dev.fluxgraph.messages.ToolMessage;
import dev.fluxgraph.messages.UsageMetadata;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * How message-like values become messages, as LangChain's {@code convert_to_messages} coerces them: a
 * {@link Message}; a string (a human message); a map with a {@code role} or a {@code type}; a LangChain-serialized
 * map ({@code {"lc": 1, "type": "constructor", "id": [..., "HumanMessage"], "kwargs": {...}}}). The canonical form
 * is the plain JSON of the message records, which is LangChain's JSON.
 */
public final class MessageShapes {

  /** The types of messages a state holds (and the {@code messages} stream shows). */
  private static final Set<String> STATE_TYPES = Set.of("human", "ai", "system", "tool");

  /** LangChain's constructor names (the last element of a serialized {@code id}) and the type each stands for. */
  private static final Map<String, String> CONSTRUCTORS = Map.ofEntries(
      Map.entry("HumanMessage", "human"), Map.entry("HumanMessageChunk", "human"),
      Map.entry("AIMessage", "ai"), Map.entry("AIMessageChunk", "ai"),
      Map.entry("SystemMessage", "system"), Map.entry("SystemMessageChunk", "system"),
      Map.entry("ToolMessage", "tool"), Map.entry("ToolMessageChunk", "tool"),
      Map.entry("RemoveMessage", "remove"),
      Map.entry("ChatMessage", "chat"), Map.entry("ChatMessageChunk", "chat"),
      Map.entry("FunctionMessage", "function"), Map.entry("FunctionMessageChunk", "function"));

  private static final String KINDS = "'human' or 'user', 'ai' or 'assistant', 'system' or 'developer', 'tool', "
      + "'remove', 'chat', 'function'";

  private MessageShapes() {
  }

  /** The typed message a message-like value stands for; see {@link Message#of}. */
  public static Message toMessage(@Nullable Object messageLike) {
    Object coerced = coerce(messageLike);
    if (coerced instanceof Message message) {
      return message;
    }
    throw new IllegalArgumentException("not a message: " + describe(messageLike) + " (a message has a 'role' or a "
        + "'type': " + KINDS.replace(", 'chat', 'function'", "") + ")");
  }

  /**
   * The canonical plain JSON (LangChain's shape) of a message-like value; a map with neither {@code role} nor
   * {@code type} is kept as it is (a copy), and so are {@code chat} and {@code function} messages apart from their
   * type. The id is kept, or absent.
   *
   * @throws IllegalArgumentException naming the value when it is not message-like
   */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> toPlain(@Nullable Object messageLike) {
    Object coerced = coerce(messageLike);
    return coerced instanceof Message message ? plain(message) : (Map<String, Object>) coerced;
  }

  /** A message record, or the plain map of a message the records do not cover (kept as it is). */
  private static Object coerce(@Nullable Object messageLike) {
    if (messageLike instanceof Message message) {
      return message;
    }
    if (messageLike instanceof String text) {
      return HumanMessage.of(text);
    }
    if (!(messageLike instanceof Map<?, ?> map)) {
      throw new IllegalArgumentException("not a message: " + describe(messageLike) + "; a message is a Message "
          + "record, a string (a human message), or a map with a 'role' or a 'type' and a 'content'");
    }
    Map<String, Object> fields = stringKeys(map);
    if (isSerialized(fields)) {
      List<?> path = (List<?>) fields.get("id");
      String constructor = String.valueOf(path.get(path.size() - 1));
      String kind = CONSTRUCTORS.get(constructor);
      if (kind == null) {
        throw new IllegalArgumentException("not a message: a LangChain-serialized " + constructor + " (messages are "
            + CONSTRUCTORS.keySet().stream().sorted().toList() + ")");
      }
      fields = stringKeys((Map<?, ?>) fields.get("kwargs"));
      fields.remove("role");
      fields.put("type", kind);
    }
    Object role = fields.remove("role");
    Object type = fields.remove("type");
    Object kind = role != null ? role : type;
    if (kind == null) {
      return fields; // neither role nor type: not LangChain's, kept as it is
    }
    if (!(kind instanceof String name)) {
      throw new IllegalArgumentException("a message's " + (role != null ? "role" : "type") + " must be a string, got "
          + describe(kind) + " in " + describe(messageLike));
    }
    return switch (name) {
      case "human", "user", "HumanMessageChunk" -> human(fields, messageLike);
      case "ai", "assistant", "AIMessageChunk" -> ai(fields, messageLike);
      case "system", "developer", "SystemMessageChunk" -> system(fields, messageLike, name.equals("developer"));
      case "tool", "ToolMessageChunk" -> tool(fields, messageLike);
      case "remove" -> remove(fields, messageLike);
      case "chat", "function", "ChatMessageChunk", "FunctionMessageChunk" -> {
        fields.put("type", name.startsWith("Chat") ? "chat" : name.startsWith("Function") ? "function" : name);
        yield fields;
      }
      default -> throw new IllegalArgumentException("unknown message " + (role != null ? "role" : "type") + " '"
          + name + "' in " + describe(messageLike) + "; use one of " + KINDS);
    };
  }

  /** Whether a plain value is a message a state holds: a map whose {@code type} is human, ai, system or tool. */
  public static boolean isMessage(@Nullable Object plain) {
    return plain instanceof Map<?, ?> map && map.get("type") instanceof String type && STATE_TYPES.contains(type)
        && map.containsKey("content");
  }

  // ---------------------------------------------------------------- one type each

  private static HumanMessage human(Map<String, Object> fields, Object original) {
    Common common = common(fields, original);
    return new HumanMessage(common.content, common.id, common.name, common.rest(fields), common.responseMetadata);
  }

  private static SystemMessage system(Map<String, Object> fields, Object original, boolean developer) {
    Common common = common(fields, original);
    Map<String, Object> extra = common.rest(fields);
    if (developer) {
      extra.put("__openai_role__", "developer");
    }
    return new SystemMessage(common.content, common.id, common.name, extra, common.responseMetadata);
  }

  private static AiMessage ai(Map<String, Object> fields, Object original) {
    Common common = common(fields, original);
    List<ToolCall> toolCalls = toolCalls(fields.remove("tool_calls"), original);
    List<Map<String, Object>> invalid = new ArrayList<>();
    Object invalidCalls = fields.remove("invalid_tool_calls");
    if (invalidCalls instanceof List<?> list) {
      for (Object call : list) {
        if (call instanceof Map<?, ?> entry) {
          invalid.add(stringKeys(entry));
        }
      }
    }
    UsageMetadata usage = usage(fields.remove("usage_metadata"), original);
    fields.remove("tool_call_chunks"); // a chunk's partial tool calls; its tool_calls hold them parsed
    return new AiMessage(common.content, common.id, common.name, toolCalls, invalid, usage, common.rest(fields),
        common.responseMetadata);
  }

  private static ToolMessage tool(Map<String, Object> fields, Object original) {
    Common common = common(fields, original);
    Object toolCallId = fields.remove("tool_call_id");
    if (toolCallId == null) {
      throw new IllegalArgumentException("a tool message needs the 'tool_call_id' of the call it answers: "
          + describe(original));
    }
    Object status = fields.remove("status");
    Object artifact = fields.remove("artifact");
    return new ToolMessage(common.content, String.valueOf(toolCallId), common.id, common.name,
        status == null ? null : String.valueOf(status), artifact, common.rest(fields), common.responseMetadata);
  }

  private static RemoveMessage remove(Map<String, Object> fields, Object original) {
    Object id = fields.get("id");
    if (id == null || String.valueOf(id).isBlank()) {
      throw new IllegalArgumentException("a remove message needs the 'id' of the message to delete: "
          + describe(original));
    }
    return RemoveMessage.of(String.valueOf(id));
  }

  /** The fields every message has; what is left in {@code fields} afterwards goes to {@code additional_kwargs}. */
  private record Common(Object content, @Nullable String id, @Nullable String name,
                        Map<String, Object> additionalKwargs, Map<String, Object> responseMetadata) {
    Map<String, Object> rest(Map<String, Object> fields) {
      Map<String, Object> extra = new LinkedHashMap<>(fields);
      extra.putAll(additionalKwargs);
      return extra;
    }
  }

  private static Common common(Map<String, Object> fields, Object original) {
    if (!fields.containsKey("content")) {
      throw new IllegalArgumentException("a message map needs a 'content' (a string or a list of content blocks): "
          + describe(original));
    }
    Object content = fields.remove("content");
    if (content != null && !(content instanceof String) && !(content instanceof List<?>)) {
      throw new IllegalArgumentException("a message's content must be a string or a list of content blocks, got "
          + describe(content) + " in " + describe(original));
    }
    Object id = fields.remove("id");
    Object name = fields.remove("name");
    Map<String, Object> additional = mapField(fields.remove("additional_kwargs"), "additional_kwargs", original);
    Map<String, Object> metadata = mapField(fields.remove("response_metadata"), "response_metadata", original);
    fields.remove("example"); // LangChain before 1.0 had it on human and AI messages
    return new Common(content == null ? "" : content, id == null ? null : String.valueOf(id),
        name == null ? null : String.valueOf(name), additional, metadata);
  }

  /** LangChain tool calls, or OpenAI's ({@code {"id", "function": {"name", "arguments": "<json>"}}}) converted. */
  private static List<ToolCall> toolCalls(@Nullable Object value, Object original) {
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof List<?> list)) {
      throw new IllegalArgumentException("'tool_calls' must be a list, got " + describe(value) + " in "
          + describe(original));
    }
    List<ToolCall> calls = new ArrayList<>(list.size());
    for (Object element : list) {
      if (!(element instanceof Map<?, ?> call)) {
        throw new IllegalArgumentException("a tool call must be a map with a 'name' and 'args', got "
            + describe(element) + " in " + describe(original));
      }
      Object id = call.get("id");
      Object name;
      Object args;
      if (call.get("function") instanceof Map<?, ?> function) {
        name = function.get("name");
        args = function.get("arguments");
      } else {
        name = call.get("name");
        args = call.get("args");
      }
      if (!(name instanceof String tool)) {
        throw new IllegalArgumentException("a tool call needs the tool's 'name': " + describe(call) + " in "
            + describe(original));
      }
      calls.add(new ToolCall(tool, arguments(args, tool, original), id == null ? null : String.valueOf(id)));
    }
    return calls;
  }

  private static Map<String, Object> arguments(@Nullable Object args, String tool, Object original) {
    if (args == null) {
      return Map.of();
    }
    if (args instanceof String text) {
      if (text.isBlank()) {
        return Map.of();
      }
      try {
        args = Json.mapper().readValue(text, Object.class);
      } catch (JsonProcessingException e) {
        throw new IllegalArgumentException("the arguments of tool call '" + tool + "' are not JSON (" + text + ") in "
            + describe(original), e);
      }
    }
    if (!(args instanceof Map<?, ?> map)) {
      throw new IllegalArgumentException("the arguments of tool call '" + tool + "' must be an object, got "
          + describe(args) + " in " + describe(original));
    }
    return stringKeys(map);
  }

  private static @Nullable UsageMetadata usage(@Nullable Object value, Object original) {
    if (value == null) {
      return null;
    }
    if (!(value instanceof Map<?, ?> usage)) {
      throw new IllegalArgumentException("'usage_metadata' must be a map, got " + describe(value) + " in "
          + describe(original));
    }
    int input = count(usage.get("input_tokens"), "input_tokens", original);
    int output = count(usage.get("output_tokens"), "output_tokens", original);
    Object total = usage.get("total_tokens");
    return new UsageMetadata(input, output, total == null ? input + output : count(total, "total_tokens", original),
        usage.get("input_token_details") instanceof Map<?, ?> details ? stringKeys(details) : null,
        usage.get("output_token_details") instanceof Map<?, ?> details ? stringKeys(details) : null);
  }

  private static int count(@Nullable Object value, String field, Object original) {
    if (value == null) {
      return 0;
    }
    if (!(value instanceof Number number)) {
      throw new IllegalArgumentException("usage_metadata." + field + " must be a number, got " + describe(value)
          + " in " + describe(original));
    }
    return number.intValue();
  }

  // ---------------------------------------------------------------- plumbing

  private static boolean isSerialized(Map<String, Object> fields) {
    return fields.get("lc") instanceof Number version && version.intValue() == 1
        && "constructor".equals(fields.get("type")) && fields.get("id") instanceof List<?> path && !path.isEmpty()
        && fields.get("kwargs") instanceof Map<?, ?>;
  }

  private static Map<String, Object> mapField(@Nullable Object value, String field, Object original) {
    if (value == null) {
      return new LinkedHashMap<>();
    }
    if (!(value instanceof Map<?, ?> map)) {
      throw new IllegalArgumentException("'" + field + "' must be a map, got " + describe(value) + " in "
          + describe(original));
    }
    return stringKeys(map);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> plain(Message message) {
    return (Map<String, Object>) Json.toPlain(Json.toTree(message, () -> "a " + message.type() + " message"));
  }

  private static Map<String, Object> stringKeys(Map<?, ?> map) {
    Map<String, Object> copy = new LinkedHashMap<>();
    map.forEach((key, value) -> copy.put(String.valueOf(key), value));
    return copy;
  }

  static String describe(@Nullable Object value) {
    if (value == null) {
      return "null";
    }
    String text = String.valueOf(value);
    if (text.length() > 200) {
      text = text.substring(0, 200) + "...";
    }
    return value.getClass().getSimpleName() + " " + text;
  }
}
