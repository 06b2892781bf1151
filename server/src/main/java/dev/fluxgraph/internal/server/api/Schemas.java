package dev.fluxgraph.internal.server.api;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON Schemas of the wire objects the thread, run, cron and store routes take and answer, as
 * {@code GET /openapi.json} shows them (the reference's names: Thread, ThreadState, Run, Cron, Item). The routes
 * declare them with their {@link Routes.Doc}s; the assistants' are in {@link AssistantRoutes}.
 */
final class Schemas {

  static final Map<String, Object> OBJECT = Map.of("type", "object");
  static final Map<String, Object> TEXT = Map.of("type", "string");
  static final Map<String, Object> INTEGER = Map.of("type", "integer");
  static final Map<String, Object> BOOLEAN = Map.of("type", "boolean");
  static final Map<String, Object> ANY = Map.of();
  static final Map<String, Object> TIME = Map.of("type", "string", "format", "date-time");
  static final Map<String, Object> TEXTS = Map.of("type", "array", "items", TEXT);
  static final Map<String, Object> LIMIT = Map.of("type", "integer", "minimum", 0, "default", 10);
  static final Map<String, Object> OFFSET = Map.of("type", "integer", "minimum", 0, "default", 0);
  static final Map<String, Object> SORT_ORDER = Map.of("type", "string", "enum", List.of("asc", "desc"));

  static final Map<String, Object> CHECKPOINT = object(Map.of("thread_id", TEXT, "checkpoint_ns", TEXT,
      "checkpoint_id", TEXT, "checkpoint_map", Map.of("type", List.of("object", "null"))), List.of());

  static final Map<String, Object> THREAD = object(fields("thread_id", TEXT, "created_at", TIME, "updated_at", TIME,
      "metadata", OBJECT, "status", Map.of("type", "string", "enum", ThreadRoutes.THREAD_STATUSES), "config", OBJECT,
      "values", ANY, "interrupts", OBJECT), List.of("thread_id", "created_at", "updated_at", "metadata", "status"));

  static final Map<String, Object> TASK = object(fields("id", TEXT, "name", TEXT, "error",
      Map.of("type", List.of("string", "null")), "interrupts", Map.of("type", "array"), "checkpoint",
      Map.of("anyOf", List.of(CHECKPOINT, Map.of("type", "null"))), "state", ANY, "result", ANY,
      "path", Map.of("type", "array")), List.of("id", "name"));

  static final Map<String, Object> THREAD_STATE = object(fields("values", ANY, "next", TEXTS,
      "tasks", Map.of("type", "array", "items", TASK), "metadata", OBJECT, "created_at",
      Map.of("type", List.of("string", "null"), "format", "date-time"), "checkpoint", CHECKPOINT,
      "parent_checkpoint", Map.of("anyOf", List.of(CHECKPOINT, Map.of("type", "null"))),
      "interrupts", Map.of("type", "array")), List.of("values", "next", "tasks", "metadata", "checkpoint"));

  static final Map<String, Object> THREADS = Map.of("type", "array", "items", THREAD);
  static final Map<String, Object> THREAD_STATES = Map.of("type", "array", "items", THREAD_STATE);

  /** A thread's time to live: minutes, or {@code {strategy: delete, ttl: minutes}}. */
  static final Map<String, Object> TTL = Map.of("anyOf", List.of(Map.of("type", "number"), object(Map.of("strategy",
      Map.of("type", "string", "enum", List.of("delete")), "ttl", Map.of("type", "number")), List.of())));
  static final Map<String, Object> THREAD_CREATE = object(fields("thread_id", TEXT, "metadata", OBJECT,
      "if_exists", Map.of("type", "string", "enum", List.of("raise", "do_nothing"), "default", "raise"),
      "ttl", TTL, "supersteps", Map.of("type", "array", "items", object(Map.of("updates",
          Map.of("type", "array", "items", object(Map.of("values", ANY, "as_node", TEXT), List.of()))), List.of()))),
      List.of());
  static final Map<String, Object> THREAD_PATCH = object(Map.of("metadata", OBJECT, "ttl", TTL), List.of());
  static final Map<String, Object> THREAD_SEARCH = object(fields("ids", TEXTS, "metadata", OBJECT, "status",
      Map.of("type", "string", "enum", ThreadRoutes.THREAD_STATUSES), "limit", LIMIT, "offset", OFFSET,
      "sort_by", Map.of("type", "string", "enum", List.of("thread_id", "status", "created_at", "updated_at")),
      "sort_order", SORT_ORDER, "select", TEXTS), List.of());
  static final Map<String, Object> THREAD_COUNT = object(Map.of("metadata", OBJECT, "status",
      Map.of("type", "string", "enum", ThreadRoutes.THREAD_STATUSES)), List.of());
  static final Map<String, Object> THREAD_PRUNE = object(Map.of("thread_ids", TEXTS, "strategy",
      Map.of("type", "string", "enum", List.of("delete", "keep_latest"), "default", "delete")),
      List.of("thread_ids"));
  static final Map<String, Object> PRUNED = object(Map.of("pruned_count", INTEGER), List.of("pruned_count"));

  static final Map<String, Object> CHECKPOINT_REQUEST = object(Map.of("checkpoint", CHECKPOINT, "subgraphs",
      BOOLEAN), List.of("checkpoint"));
  static final Map<String, Object> STATE_UPDATE = object(fields("values", ANY, "as_node", TEXT, "checkpoint",
      CHECKPOINT, "checkpoint_id", TEXT), List.of());
  static final Map<String, Object> STATE_UPDATED = object(Map.of("checkpoint", CHECKPOINT), List.of("checkpoint"));
  static final Map<String, Object> STATE_PATCH = object(Map.of("metadata", OBJECT, "checkpoint", CHECKPOINT,
      "checkpoint_id", TEXT), List.of("metadata"));
  static final Map<String, Object> HISTORY = object(fields("limit", LIMIT, "before", Map.of("anyOf", List.of(TEXT,
      OBJECT)), "metadata", OBJECT, "checkpoint", CHECKPOINT, "subgraphs", BOOLEAN), List.of());

  static final Map<String, Object> RUN = object(fields("run_id", TEXT, "thread_id", TEXT, "assistant_id", TEXT,
      "created_at", TIME, "updated_at", TIME, "status", Map.of("type", "string", "enum", RunRoutes.RUN_STATUSES),
      "metadata", OBJECT, "multitask_strategy", TEXT, "kwargs", OBJECT),
      List.of("run_id", "thread_id", "assistant_id", "status"));
  static final Map<String, Object> RUNS = Map.of("type", "array", "items", RUN);

  /** A run request: what {@link RunRequests} reads. */
  static final Map<String, Object> RUN_CREATE = object(fields("assistant_id", TEXT, "input", ANY,
      "command", object(Map.of("resume", ANY, "update", ANY, "goto", ANY), List.of()),
      "config", object(Map.of("configurable", OBJECT, "recursion_limit", INTEGER, "tags", TEXTS, "run_name", TEXT),
          List.of()),
      "context", OBJECT, "metadata", OBJECT,
      "stream_mode", Map.of("anyOf", List.of(TEXT, TEXTS)), "stream_subgraphs", BOOLEAN,
      "stream_resumable", BOOLEAN, "interrupt_before", Map.of("anyOf", List.of(TEXT, TEXTS)),
      "interrupt_after", Map.of("anyOf", List.of(TEXT, TEXTS)), "checkpoint", CHECKPOINT, "checkpoint_id", TEXT,
      "checkpoint_during", BOOLEAN, "durability", Map.of("type", "string", "enum", List.of("sync", "async", "exit")),
      "multitask_strategy", Map.of("type", "string", "enum", List.of("reject", "interrupt", "rollback", "enqueue")),
      "on_completion", Map.of("type", "string", "enum", List.of("delete", "keep")),
      "on_disconnect", Map.of("type", "string", "enum", List.of("cancel", "continue")),
      "if_not_exists", Map.of("type", "string", "enum", List.of("create", "reject")),
      "after_seconds", Map.of("type", "number", "minimum", 0), "webhook", Map.of("type", "string", "format", "uri")),
      List.of("assistant_id"));
  static final Map<String, Object> RUN_BATCH = Map.of("type", "array", "items", RUN_CREATE);
  static final Map<String, Object> RUN_CANCEL = object(Map.of("thread_id", TEXT, "run_ids", TEXTS, "status",
      Map.of("type", "string", "enum", List.of("pending", "running", "all"))), List.of());

  static final Map<String, Object> CRON = object(fields("cron_id", TEXT, "assistant_id", TEXT, "thread_id",
      Map.of("type", List.of("string", "null")), "on_run_completed", Map.of("type", List.of("string", "null")),
      "end_time", Map.of("type", List.of("string", "null"), "format", "date-time"), "schedule", TEXT,
      "created_at", TIME, "updated_at", TIME, "payload", OBJECT, "user_id", Map.of("type", "null"),
      "next_run_date", Map.of("type", List.of("string", "null"), "format", "date-time"), "metadata", OBJECT,
      "enabled", BOOLEAN), List.of("cron_id", "assistant_id", "schedule"));
  static final Map<String, Object> CRONS = Map.of("type", "array", "items", CRON);
  static final Map<String, Object> CRON_CREATE = withFields(RUN_CREATE, fields("schedule", TEXT, "end_time", TIME,
      "on_run_completed", Map.of("type", "string", "enum", List.of("delete", "keep")), "enabled", BOOLEAN),
      List.of("assistant_id", "schedule"));
  static final Map<String, Object> CRON_PATCH = object(fields("schedule", TEXT, "end_time", TIME, "input", ANY,
      "metadata", OBJECT, "config", OBJECT, "context", OBJECT, "webhook", TEXT, "interrupt_before", ANY,
      "interrupt_after", ANY, "on_run_completed", TEXT, "enabled", BOOLEAN), List.of());
  static final Map<String, Object> CRON_SEARCH = object(fields("assistant_id", TEXT, "thread_id", TEXT, "enabled",
      BOOLEAN, "limit", LIMIT, "offset", OFFSET, "sort_by", Map.of("type", "string", "enum", CronRoutes.SORT_FIELDS),
      "sort_order", SORT_ORDER, "select", TEXTS), List.of());
  static final Map<String, Object> CRON_COUNT = object(Map.of("assistant_id", TEXT, "thread_id", TEXT), List.of());

  static final Map<String, Object> ITEM = object(fields("namespace", TEXTS, "key", TEXT, "value", OBJECT,
      "created_at", TIME, "updated_at", TIME), List.of("namespace", "key", "value"));
  static final Map<String, Object> ITEM_PUT = object(fields("namespace", TEXTS, "key", TEXT, "value", OBJECT,
      "index", ANY, "ttl", Map.of("type", List.of("number", "null"))), List.of("namespace", "key", "value"));
  static final Map<String, Object> ITEM_DELETE = object(Map.of("namespace", TEXTS, "key", TEXT),
      List.of("namespace", "key"));
  static final Map<String, Object> ITEM_SEARCH = object(fields("namespace_prefix", TEXTS, "filter", OBJECT, "limit",
      LIMIT, "offset", OFFSET, "query", TEXT, "refresh_ttl", BOOLEAN), List.of());
  static final Map<String, Object> ITEMS = object(Map.of("items", Map.of("type", "array", "items", ITEM)),
      List.of("items"));
  static final Map<String, Object> NAMESPACE_SEARCH = object(fields("prefix", TEXTS, "suffix", TEXTS, "max_depth",
      INTEGER, "limit", LIMIT, "offset", OFFSET), List.of());
  static final Map<String, Object> NAMESPACES = object(Map.of("namespaces", Map.of("type", "array", "items",
      TEXTS)), List.of("namespaces"));

  static final Map<String, Object> GRAPH = object(Map.of("nodes", Map.of("type", "array"), "edges",
      Map.of("type", "array")), List.of("nodes", "edges"));
  static final Map<String, Object> GRAPH_SCHEMAS = object(fields("graph_id", TEXT, "input_schema", OBJECT,
      "output_schema", OBJECT, "state_schema", OBJECT), List.of("graph_id"));
  static final Map<String, Object> SUBGRAPHS = Map.of("type", "object", "additionalProperties", GRAPH_SCHEMAS);

  /** What a run's event stream carries, in words. */
  static final String RUN_EVENTS = "Server-sent events: metadata first ({run_id, attempt}), then one event per "
      + "chunk named after its stream mode (values, updates, messages, ...; <mode>|<namespace> for a subgraph's), "
      + "an error event on failure; ids are numbers, for Last-Event-ID; a heartbeat comment every 5 s.";

  private Schemas() {
  }

  /** An object of these properties, the {@code required} ones required, no other allowed. */
  static Map<String, Object> object(Map<String, Map<String, Object>> properties, List<String> required) {
    Map<String, Object> schema = new LinkedHashMap<>();
    schema.put("type", "object");
    schema.put("properties", properties);
    if (!required.isEmpty()) {
      schema.put("required", required);
    }
    return schema;
  }

  /** Properties in the order given (name, schema, name, schema, ...): {@link Map#of} takes at most ten. */
  @SuppressWarnings("unchecked")
  static Map<String, Map<String, Object>> fields(Object... pairs) {
    Map<String, Map<String, Object>> properties = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      properties.put((String) pairs[i], (Map<String, Object>) pairs[i + 1]);
    }
    return properties;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> withFields(Map<String, Object> base, Map<String, Map<String, Object>> more,
                                                List<String> required) {
    Map<String, Map<String, Object>> properties = new LinkedHashMap<>((Map<String, Map<String, Object>>)
        base.get("properties"));
    properties.putAll(more);
    return object(properties, required);
  }
}
