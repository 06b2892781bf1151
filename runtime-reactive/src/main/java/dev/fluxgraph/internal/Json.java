package dev.fluxgraph.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.fluxgraph.errors.SerializationException;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.TypeRef;
import java.io.IOException;
import java.lang.reflect.Type;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The one place where values become JSON and back. Default typing is never enabled: values are read into the
 * type the user declared. Canonical JSON (sorted map keys and properties) is used for task identity and cache keys.
 */
public final class Json {

  private static final ObjectMapper MAPPER = configure(JsonMapper.builder()).build();

  private static final ObjectWriter CANONICAL = configure(JsonMapper.builder())
      .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
      .build()
      .writer();

  private static final byte[] NULL_BYTES = {'n', 'u', 'l', 'l'};

  private Json() {
  }

  private static JsonMapper.Builder configure(JsonMapper.Builder builder) {
    SimpleModule fluxgraph = new SimpleModule("fluxgraph");
    fluxgraph.addSerializer(RunConfig.class, new RunConfigSerializer());
    return builder
        .addModule(new Jdk8Module())
        .addModule(new JavaTimeModule())
        .addModule(fluxgraph)
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE);
  }

  /** The shared mapper. Callers must not reconfigure it. */
  public static ObjectMapper mapper() {
    return MAPPER;
  }

  public static JavaType type(Type type) {
    return MAPPER.getTypeFactory().constructType(type);
  }

  public static JavaType type(TypeRef<?> ref) {
    return type(ref.type());
  }

  /** The value as a JSON tree; {@code what} names it in the error (e.g. "the result of task 'x'"). */
  public static JsonNode toTree(@Nullable Object value, Supplier<String> what) {
    if (value == null) {
      return NullNode.getInstance();
    }
    if (value instanceof JsonNode node) {
      return node;
    }
    // Fast paths for the scalars most tasks pass around; Jackson gives the same trees, only slower.
    if (value instanceof String text) {
      return TextNode.valueOf(text);
    }
    if (value instanceof Integer number) {
      return IntNode.valueOf(number);
    }
    if (value instanceof Long number) {
      return LongNode.valueOf(number);
    }
    if (value instanceof Boolean flag) {
      return BooleanNode.valueOf(flag);
    }
    try {
      return MAPPER.valueToTree(value);
    } catch (IllegalArgumentException e) {
      throw new SerializationException(what.get() + " is not JSON-serializable (" + value.getClass().getName()
          + "): " + rootMessage(e), e);
    }
  }

  /** Reads a tree into the declared type; {@code what} names the value in the error. */
  public static <T> @Nullable T fromTree(JsonNode node, JavaType type, Supplier<String> what) {
    if (node.isNull() || node.isMissingNode()) {
      return null;
    }
    try {
      return MAPPER.treeToValue(node, type);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw new SerializationException("cannot read " + what.get() + " as " + type.toCanonical() + ": "
          + rootMessage(e), e);
    }
  }

  /** Canonical JSON bytes (sorted keys); {@code what} names the value in the error. */
  public static byte[] canonicalBytes(@Nullable Object value, Supplier<String> what) {
    // Fast paths: byte for byte what the canonical writer produces for these scalars.
    if (value == null) {
      return NULL_BYTES.clone();
    }
    if (value instanceof String text) {
      byte[] quoted = JsonStringEncoder.getInstance().quoteAsUTF8(text);
      byte[] bytes = new byte[quoted.length + 2];
      bytes[0] = '"';
      System.arraycopy(quoted, 0, bytes, 1, quoted.length);
      bytes[bytes.length - 1] = '"';
      return bytes;
    }
    if (value instanceof Integer || value instanceof Long || value instanceof Boolean) {
      return value.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
    try {
      return CANONICAL.writeValueAsBytes(value instanceof JsonNode node ? MAPPER.treeToValue(node, Object.class)
          : value);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw new SerializationException(what.get() + " is not JSON-serializable ("
          + (value == null ? "null" : value.getClass().getName()) + "): " + rootMessage(e), e);
    }
  }

  /** Canonical JSON text of a value; the default cache key. */
  public static String canonicalString(@Nullable Object value) {
    return new String(canonicalBytes(value, () -> "the cache key input"), java.nio.charset.StandardCharsets.UTF_8);
  }

  /** Plain JSON data (maps, lists, strings, numbers) for a tree; what users see for untyped values. */
  public static @Nullable Object toPlain(JsonNode node) {
    return fromTree(node, type(Object.class), () -> "a JSON value");
  }

  private static String rootMessage(Throwable error) {
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage();
    if (message != null) {
      int newline = message.indexOf('\n');
      if (newline > 0) {
        message = message.substring(0, newline);
      }
    }
    return message == null ? root.getClass().getSimpleName() : message;
  }

  /** RunConfig on the wire looks like LangGraph's RunnableConfig. */
  private static final class RunConfigSerializer extends StdSerializer<RunConfig> {
    RunConfigSerializer() {
      super(RunConfig.class);
    }

    @Override
    public void serialize(RunConfig config, JsonGenerator gen, SerializerProvider provider) throws IOException {
      Map<String, Object> configurable = new LinkedHashMap<>();
      config.threadId().ifPresent(id -> configurable.put("thread_id", id));
      configurable.put("checkpoint_ns", config.checkpointNamespace());
      config.checkpointId().ifPresent(id -> configurable.put("checkpoint_id", id));
      Map<String, Object> wire = new LinkedHashMap<>();
      wire.put("configurable", configurable);
      if (!config.metadata().isEmpty()) {
        wire.put("metadata", config.metadata());
      }
      provider.defaultSerializeValue(wire, gen);
    }
  }
}
