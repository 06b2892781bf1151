package dev.fluxgraph.internal.server.storage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.types.FluxgraphJson;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Assistants in this process's memory ({@code --in-memory}); every operation under one lock. */
public final class InMemoryAssistantStore implements AssistantStore {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();

  /** An assistant: its latest version, every version, the highest version number given. */
  private static final class Entry {
    AssistantRecord latest;
    final List<AssistantRecord> versions = new ArrayList<>();
    int highest;

    Entry(AssistantRecord first) {
      this.latest = first;
      this.versions.add(first);
      this.highest = first.version();
    }
  }

  private final Map<String, Entry> assistants = new LinkedHashMap<>();

  @Override
  public Mono<Void> registerSystem(List<AssistantRecord> system) {
    return Mono.fromRunnable(() -> {
      synchronized (assistants) {
        system.forEach(assistant -> assistants.computeIfAbsent(assistant.assistantId(), id -> new Entry(assistant)));
      }
    });
  }

  @Override
  public Mono<AssistantRecord> create(AssistantRecord assistant, boolean returnExisting) {
    return Mono.fromCallable(() -> {
      synchronized (assistants) {
        Entry existing = assistants.get(assistant.assistantId());
        if (existing != null) {
          if (returnExisting) {
            return existing.latest;
          }
          throw new HttpProblem(409, "assistant " + assistant.assistantId() + " already exists");
        }
        assistants.put(assistant.assistantId(), new Entry(assistant));
        return assistant;
      }
    });
  }

  @Override
  public Mono<AssistantRecord> get(String assistantId) {
    return Mono.fromCallable(() -> {
      synchronized (assistants) {
        Entry entry = assistants.get(assistantId);
        return entry == null ? null : entry.latest;
      }
    });
  }

  @Override
  public Mono<AssistantRecord> patch(String assistantId, Patch patch, Instant at) {
    return Mono.fromCallable(() -> {
      synchronized (assistants) {
        Entry entry = assistants.get(assistantId);
        if (entry == null) {
          return null;
        }
        AssistantRecord current = entry.latest;
        Map<String, Object> metadata = new LinkedHashMap<>(current.metadata());
        if (patch.metadata() != null) {
          metadata.putAll(patch.metadata());
        }
        int version = entry.highest + 1;
        AssistantRecord next = new AssistantRecord(assistantId, or(patch.graphId(), current.graphId()),
            or(patch.config(), current.config()), or(patch.context(), current.context()), metadata,
            or(patch.name(), current.name()), patch.description() != null ? patch.description()
            : current.description(), version, current.createdAt(), at);
        entry.versions.add(next);
        entry.highest = version;
        entry.latest = next;
        return next;
      }
    });
  }

  private static <T> T or(@Nullable T value, T fallback) {
    return value != null ? value : fallback;
  }

  @Override
  public Mono<Boolean> delete(String assistantId) {
    return Mono.fromCallable(() -> {
      synchronized (assistants) {
        return assistants.remove(assistantId) != null;
      }
    });
  }

  @Override
  public Mono<AssistantRecord> setLatest(String assistantId, int version, Instant at) {
    return Mono.fromCallable(() -> {
      synchronized (assistants) {
        Entry entry = assistants.get(assistantId);
        if (entry == null) {
          return null;
        }
        AssistantRecord chosen = entry.versions.stream().filter(v -> v.version() == version).findFirst()
            .orElseThrow(() -> HttpProblem.notFound("version " + version + " of assistant " + assistantId));
        entry.latest = new AssistantRecord(assistantId, chosen.graphId(), chosen.config(), chosen.context(),
            chosen.metadata(), chosen.name(), chosen.description(), version, entry.latest.createdAt(), at);
        return entry.latest;
      }
    });
  }

  @Override
  public Flux<AssistantRecord> versions(String assistantId, Map<String, Object> metadata, int limit, int offset) {
    return Flux.defer(() -> {
      List<AssistantRecord> found;
      synchronized (assistants) {
        Entry entry = assistants.get(assistantId);
        found = entry == null ? List.of() : new ArrayList<>(entry.versions);
      }
      return Flux.fromIterable(found.stream().filter(v -> contains(v.metadata(), metadata))
          .sorted(Comparator.comparingInt(AssistantRecord::version).reversed()).skip(offset).limit(limit).toList());
    });
  }

  @Override
  public Flux<AssistantRecord> search(Filter filter, String sortBy, boolean ascending, int limit, int offset) {
    Comparator<AssistantRecord> order = switch (sortBy) {
      case "assistant_id" -> Comparator.comparing(AssistantRecord::assistantId);
      case "graph_id" -> Comparator.comparing(AssistantRecord::graphId);
      case "name" -> Comparator.comparing(AssistantRecord::name);
      case "updated_at" -> Comparator.comparing(AssistantRecord::updatedAt);
      case "created_at" -> Comparator.comparing(AssistantRecord::createdAt);
      default -> throw new IllegalArgumentException("sort_by must be one of " + SORT_FIELDS + ", was '" + sortBy + "'");
    };
    Comparator<AssistantRecord> sorted = (ascending ? order : order.reversed())
        .thenComparing(AssistantRecord::assistantId);
    return Flux.defer(() -> Flux.fromIterable(matching(filter).stream().sorted(sorted).skip(offset).limit(limit)
        .toList()));
  }

  @Override
  public Mono<Long> count(Filter filter) {
    return Mono.fromCallable(() -> (long) matching(filter).size());
  }

  private List<AssistantRecord> matching(Filter filter) {
    List<AssistantRecord> all;
    synchronized (assistants) {
      all = assistants.values().stream().map(entry -> entry.latest).toList();
    }
    String name = filter.name() == null ? null : filter.name().toLowerCase(Locale.ROOT);
    return all.stream()
        .filter(a -> filter.graphId() == null || filter.graphId().equals(a.graphId()))
        .filter(a -> name == null || a.name().toLowerCase(Locale.ROOT).contains(name))
        .filter(a -> contains(a.metadata(), filter.metadata()))
        .toList();
  }

  /** Whether every entry of {@code filter} is in {@code metadata}, compared as JSON (PostgreSQL's {@code @>}). */
  private static boolean contains(Map<String, Object> metadata, Map<String, Object> filter) {
    if (filter.isEmpty()) {
      return true;
    }
    JsonNode have = JSON.valueToTree(metadata);
    JsonNode want = JSON.valueToTree(filter);
    return contains(have, want);
  }

  private static boolean contains(JsonNode have, JsonNode want) {
    if (want.isObject()) {
      if (!have.isObject()) {
        return false;
      }
      for (Map.Entry<String, JsonNode> field : want.properties()) {
        JsonNode value = have.get(field.getKey());
        if (value == null || !contains(value, field.getValue())) {
          return false;
        }
      }
      return true;
    }
    if (want.isNumber() && have.isNumber()) {
      return want.decimalValue().compareTo(have.decimalValue()) == 0;
    }
    return want.equals(have);
  }
}
