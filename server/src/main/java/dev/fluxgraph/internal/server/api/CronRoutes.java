package dev.fluxgraph.internal.server.api;

import static dev.fluxgraph.internal.server.api.Fields.onlyKnown;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.internal.server.Assistants;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.internal.server.runs.CronSchedule;
import dev.fluxgraph.internal.server.runs.RunRequest;
import dev.fluxgraph.internal.server.storage.CronStore;
import dev.fluxgraph.internal.server.storage.CronStore.CronRecord;
import dev.fluxgraph.internal.server.storage.ThreadStore;
import dev.fluxgraph.types.FluxgraphJson;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * Crons: runs recurring on a schedule, on a thread ({@code POST /threads/{id}/runs/crons}) or each on a new thread
 * ({@code POST /runs/crons}); searched, counted, read, updated ({@code PATCH}) and deleted under
 * {@code /runs/crons}. A cron's run request is checked as a run's would be when the cron is created or changed, and
 * its schedule by {@link CronSchedule}; the ticks fire in {@code CronScheduler}.
 */
final class CronRoutes {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();
  /** The run fields a cron takes, kept in its payload for each tick's run. */
  private static final Set<String> RUN_FIELDS = Set.of("assistant_id", "input", "config", "context", "metadata",
      "interrupt_before", "interrupt_after", "webhook", "multitask_strategy", "if_not_exists", "checkpoint_during",
      "durability", "stream_mode", "stream_subgraphs", "stream_resumable");
  private static final Set<String> CRON_FIELDS = Set.of("schedule", "end_time", "on_run_completed", "enabled");
  /** What a PATCH may change. */
  private static final Set<String> PATCH_FIELDS = Set.of("schedule", "end_time", "input", "metadata", "config",
      "context", "webhook", "interrupt_before", "interrupt_after", "on_run_completed", "enabled");
  static final List<String> SORT_FIELDS = List.of("cron_id", "assistant_id", "thread_id", "created_at", "updated_at",
      "next_run_date");
  private static final List<String> SELECT_FIELDS = List.of("cron_id", "assistant_id", "thread_id", "on_run_completed",
      "end_time", "schedule", "created_at", "updated_at", "user_id", "payload", "next_run_date", "metadata", "enabled",
      "now");

  /**
   * Parses a new run's body the way a run request is parsed, its assistant's defaults merged in
   * ({@link RunRequests#parseNew}): {@code (body, stateless)}.
   */
  interface RunParser {
    Mono<RunRequest> parse(JsonNode body, boolean stateless);
  }

  private static final String TAG = "Crons";

  private final Http http;
  private final CronStore crons;
  private final ThreadStore threads;
  private final RunParser requests;
  private final Clock clock;

  CronRoutes(Http http, CronStore crons, ThreadStore threads, RunParser requests, Clock clock) {
    this.http = http;
    this.crons = crons;
    this.threads = threads;
    this.requests = requests;
    this.clock = clock;
  }

  void register(Routes routes) {
    routes
        .post("/runs/crons", Routes.Doc.of(TAG, "Create Cron").body(Schemas.CRON_CREATE).answer(Schemas.CRON),
            http.handle((request, body) -> create(body, null)))
        .post("/threads/{tid}/runs/crons", Routes.Doc.of(TAG, "Create Thread Cron").body(Schemas.CRON_CREATE)
            .answer(Schemas.CRON), http.handle((request, body) -> threads.require(request.param("tid"))
            .then(create(body, request.param("tid")))))
        .post("/runs/crons/search", Routes.Doc.of(TAG, "Search Crons").body(Schemas.CRON_SEARCH)
            .answer(Schemas.CRONS), http.handle((request, body) -> search(body)))
        .post("/runs/crons/count", Routes.Doc.of(TAG, "Count Crons").body(Schemas.CRON_COUNT)
            .answer(Schemas.INTEGER), http.handle((request, body) -> count(body)))
        .get("/runs/crons/{cid}", Routes.Doc.of(TAG, "Get Cron").answer(Schemas.CRON),
            http.handle((request, body) -> require(request.param("cid")).map(CronRoutes::cron)))
        .patch("/runs/crons/{cid}", Routes.Doc.of(TAG, "Patch Cron").body(Schemas.CRON_PATCH).answer(Schemas.CRON),
            http.handle((request, body) -> update(request.param("cid"), body)))
        .delete("/runs/crons/{cid}", Routes.Doc.of(TAG, "Delete Cron").answer(null),
            (request, response) -> http.guarded(request, response, body ->
            crons.delete(request.param("cid")).flatMap(existed -> existed ? response.status(204).send()
                : Mono.error(HttpProblem.notFound("cron " + request.param("cid"))))));
  }

  private Mono<JsonNode> create(JsonNode body, @Nullable String threadId) {
    return Mono.defer(() -> {
      for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
        String name = names.next();
        if (!RUN_FIELDS.contains(name) && !CRON_FIELDS.contains(name)) {
          throw HttpProblem.invalid("unknown field " + name + " for a cron (known: schedule, end_time, "
              + "on_run_completed, enabled and the run fields " + String.join(", ", RUN_FIELDS.stream().sorted()
              .toList()) + ")");
        }
      }
      String schedule = schedule(body.path("schedule"));
      Instant endTime = endTime(body.path("end_time"));
      String onRunCompleted = Fields.optionalText(body, "on_run_completed");
      if (onRunCompleted != null && threadId != null) {
        throw HttpProblem.invalid("on_run_completed is for stateless crons (each run on a new thread); a thread's "
            + "cron keeps its thread");
      }
      if (onRunCompleted != null && !onRunCompleted.equals("delete") && !onRunCompleted.equals("keep")) {
        throw HttpProblem.invalid("on_run_completed must be delete or keep, was '" + onRunCompleted + "'");
      }
      boolean enabled = !body.hasNonNull("enabled") || enabled(body.get("enabled"));
      ObjectNode payload = JSON.createObjectNode();
      body.properties().forEach(field -> {
        if (RUN_FIELDS.contains(field.getKey()) && !field.getKey().equals("assistant_id")) {
          payload.set(field.getKey(), field.getValue());
        }
      });
      Instant now = clock.instant();
      CronRecord cron = new CronRecord(UUID.randomUUID().toString(), "", threadId, schedule, payload,
          Fields.optionalMap(body, "metadata"), endTime, CronSchedule.parse(schedule).nextAfter(now, endTime),
          threadId == null ? Objects.requireNonNullElse(onRunCompleted, "delete") : null, enabled, now, now);
      return checked(cron, Fields.optionalText(body, "assistant_id")).flatMap(assistantId -> {
        CronRecord created = withAssistant(cron, assistantId);
        return crons.create(created).thenReturn((JsonNode) cron(created));
      });
    });
  }

  /**
   * Checks the cron's run request as its ticks' runs will be parsed, with the assistant's defaults (422 or 404 naming
   * the problem); emits the id of the assistant it runs.
   */
  private Mono<String> checked(CronRecord cron, @Nullable String assistantId) {
    if (assistantId == null) {
      throw HttpProblem.invalid("assistant_id is required");
    }
    ObjectNode body = cron.payload().deepCopy();
    body.put("assistant_id", assistantId);
    if (cron.threadId() == null) {
      body.put("on_completion", Objects.requireNonNullElse(cron.onRunCompleted(), "delete"));
    }
    return requests.parse(body, cron.threadId() == null).map(run -> {
      String strategy = run.multitaskStrategy();
      if (!strategy.equals("reject") && !strategy.equals("enqueue")) {
        throw HttpProblem.invalid("multitask_strategy " + strategy + " is not supported for crons: a tick on a busy "
            + "thread is skipped (reject) or waits its turn (enqueue)");
      }
      return run.assistantId();
    });
  }

  private static CronRecord withAssistant(CronRecord cron, String assistantId) {
    return new CronRecord(cron.cronId(), assistantId, cron.threadId(), cron.schedule(), cron.payload(),
        cron.metadata(), cron.endTime(), cron.nextRunAt(), cron.onRunCompleted(), cron.enabled(), cron.createdAt(),
        cron.updatedAt());
  }

  private Mono<CronRecord> require(String cronId) {
    return crons.get(cronId).switchIfEmpty(Mono.error(() -> HttpProblem.notFound("cron " + cronId)));
  }

  private Mono<JsonNode> update(String cronId, JsonNode body) {
    return Mono.defer(() -> {
      onlyKnown(body, PATCH_FIELDS.stream().sorted().toArray(String[]::new));
      return require(cronId).flatMap(old -> {
        String schedule = body.has("schedule") ? schedule(body.get("schedule")) : old.schedule();
        Instant endTime = body.has("end_time") ? endTime(body.get("end_time")) : old.endTime();
        boolean enabled = body.has("enabled") ? enabled(body.get("enabled")) : old.enabled();
        String onRunCompleted = old.onRunCompleted();
        if (body.has("on_run_completed")) {
          if (old.threadId() != null) {
            throw HttpProblem.invalid("on_run_completed is for stateless crons; cron " + cronId + " runs on thread "
                + old.threadId());
          }
          onRunCompleted = Fields.oneOf(body, "on_run_completed", "delete", "delete", "keep");
        }
        ObjectNode payload = old.payload().deepCopy();
        for (String field : List.of("input", "metadata", "config", "context", "webhook", "interrupt_before",
            "interrupt_after")) {
          if (body.has(field)) {
            payload.set(field, body.get(field));
          }
        }
        Instant now = clock.instant();
        // the next run follows the new schedule from now; unchanged, it stays (a cron enabled again starts from now)
        boolean replan = body.has("schedule") || body.has("end_time") || enabled && !old.enabled();
        Instant next = replan ? CronSchedule.parse(schedule).nextAfter(now, endTime) : old.nextRunAt();
        Map<String, Object> metadata = body.has("metadata") ? Fields.optionalMap(body, "metadata") : old.metadata();
        CronRecord changed = new CronRecord(cronId, old.assistantId(), old.threadId(), schedule, payload, metadata,
            endTime, next, onRunCompleted, enabled, old.createdAt(), now);
        return checked(changed, old.assistantId()).then(crons.update(changed))
            .switchIfEmpty(Mono.error(() -> HttpProblem.notFound("cron " + cronId)))
            .map(CronRoutes::cron);
      });
    });
  }

  private Mono<JsonNode> search(JsonNode body) {
    return Mono.defer(() -> {
      onlyKnown(body, "assistant_id", "thread_id", "enabled", "limit", "offset", "sort_by", "sort_order", "select");
      CronStore.Query query = query(body);
      String sortBy = Fields.oneOf(body, "sort_by", "created_at", SORT_FIELDS.toArray(String[]::new));
      boolean ascending = Fields.oneOf(body, "sort_order", "desc", "asc", "desc").equals("asc");
      int limit = Fields.nonNegative(body, "limit", 10);
      if (limit < 1 || limit > 1000) {
        throw HttpProblem.invalid("limit must be between 1 and 1000, was " + limit);
      }
      List<String> select = select(body.path("select"));
      return crons.search(query, sortBy, ascending, limit, Fields.nonNegative(body, "offset", 0))
          .map(cron -> selected(cron(cron), select)).collectList().map(found -> {
            ArrayNode array = JSON.createArrayNode();
            found.forEach(array::add);
            return array;
          });
    });
  }

  private Mono<JsonNode> count(JsonNode body) {
    return Mono.defer(() -> {
      onlyKnown(body, "assistant_id", "thread_id");
      return crons.count(query(body)).map(LongNode::valueOf);
    });
  }

  private static CronStore.Query query(JsonNode body) {
    String assistantId = Fields.optionalText(body, "assistant_id");
    JsonNode enabled = body.path("enabled");
    if (!enabled.isMissingNode() && !enabled.isNull() && !enabled.isBoolean()) {
      throw HttpProblem.invalid("enabled must be a boolean");
    }
    return new CronStore.Query(assistantId == null ? null : assistantIdOf(assistantId),
        Fields.optionalText(body, "thread_id"), enabled.isBoolean() ? enabled.booleanValue() : null);
  }

  /** An assistant id as given, or the assistant id of a graph id (accepted wherever an assistant id is). */
  private static String assistantIdOf(String id) {
    try {
      UUID.fromString(id);
      return id;
    } catch (IllegalArgumentException notUuid) {
      return Assistants.idOf(id);
    }
  }

  private static List<String> select(JsonNode select) {
    List<String> fields = new ArrayList<>();
    if (select.isMissingNode() || select.isNull()) {
      return fields;
    }
    if (!select.isArray()) {
      throw HttpProblem.invalid("select must be a list of field names");
    }
    for (JsonNode field : select) {
      if (!field.isTextual() || !SELECT_FIELDS.contains(field.asText())) {
        throw HttpProblem.invalid("select: unknown cron field " + field + " (known: " + String.join(", ",
            SELECT_FIELDS) + ")");
      }
      fields.add(field.asText());
    }
    return fields;
  }

  private JsonNode selected(ObjectNode cron, List<String> select) {
    if (select.isEmpty()) {
      return cron;
    }
    ObjectNode picked = JSON.createObjectNode();
    for (String field : select) {
      if (field.equals("now")) {
        picked.put("now", clock.instant().toString());
      } else {
        picked.set(field, cron.get(field));
      }
    }
    return picked;
  }

  /** The wire Cron. */
  private static ObjectNode cron(CronRecord cron) {
    ObjectNode node = JSON.createObjectNode();
    node.put("cron_id", cron.cronId());
    node.put("assistant_id", cron.assistantId());
    node.put("thread_id", cron.threadId());
    node.put("on_run_completed", cron.onRunCompleted());
    node.put("end_time", cron.endTime() == null ? null : cron.endTime().toString());
    node.put("schedule", cron.schedule());
    node.put("created_at", cron.createdAt().toString());
    node.put("updated_at", cron.updatedAt().toString());
    node.set("payload", cron.payload());
    node.putNull("user_id");
    node.put("next_run_date", cron.nextRunAt() == null ? null : cron.nextRunAt().toString());
    node.set("metadata", JSON.valueToTree(cron.metadata()));
    node.put("enabled", cron.enabled());
    return node;
  }

  private static String schedule(JsonNode schedule) {
    if (!schedule.isTextual()) {
      throw HttpProblem.invalid(schedule.isMissingNode() || schedule.isNull() ? "schedule is required"
          : "schedule must be a string (a cron expression)");
    }
    try {
      CronSchedule.parse(schedule.asText());
    } catch (IllegalArgumentException e) {
      throw HttpProblem.invalid(e.getMessage());
    }
    return schedule.asText();
  }

  private static @Nullable Instant endTime(JsonNode endTime) {
    if (endTime.isMissingNode() || endTime.isNull()) {
      return null;
    }
    try {
      return OffsetDateTime.parse(endTime.asText()).toInstant();
    } catch (DateTimeParseException e) {
      throw HttpProblem.invalid("end_time must be an ISO-8601 date-time with an offset (e.g. "
          + "2030-01-01T00:00:00Z), was " + endTime);
    }
  }

  private static boolean enabled(JsonNode enabled) {
    if (!enabled.isBoolean()) {
      throw HttpProblem.invalid("enabled must be a boolean");
    }
    return enabled.booleanValue();
  }
}
