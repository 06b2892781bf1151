package dev.fluxgraph.internal.server.storage;

import dev.fluxgraph.internal.server.HttpProblem;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Assistants: configured instances of served graphs, each with its versions. The graphs' own assistants
 * ({@code created_by: system}) are registered like any other, so search, sort and paging see one collection. An
 * assistant's row holds the version chosen as latest; patching adds a version and makes it the latest,
 * {@link #setLatest} chooses another. Every method is cold.
 */
public interface AssistantStore {

  /** The fields {@code POST /assistants/search} may sort by. */
  List<String> SORT_FIELDS = List.of("assistant_id", "graph_id", "name", "created_at", "updated_at");

  /**
   * An assistant, or one of its versions ({@code updatedAt} is then the version's creation).
   *
   * @param config   the run config defaults: {@code configurable}, {@code recursion_limit}, {@code tags}, ...
   * @param context  the context defaults of its runs
   */
  record AssistantRecord(String assistantId, String graphId, Map<String, Object> config, Map<String, Object> context,
                         Map<String, Object> metadata, String name, @Nullable String description, int version,
                         Instant createdAt, Instant updatedAt) {
    public AssistantRecord {
      Objects.requireNonNull(assistantId, "assistantId must not be null");
      Objects.requireNonNull(graphId, "graphId must not be null");
      config = Collections.unmodifiableMap(new LinkedHashMap<>(config)); // JSON: null values allowed
      context = Collections.unmodifiableMap(new LinkedHashMap<>(context));
      metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** Whether this is a graph's own assistant, registered by the server. */
    public boolean system() {
      return "system".equals(metadata.get("created_by"));
    }
  }

  /** What a patch changes: null fields are kept; {@code metadata} is merged over the current metadata. */
  record Patch(@Nullable String graphId, @Nullable Map<String, Object> config, @Nullable Map<String, Object> context,
               @Nullable Map<String, Object> metadata, @Nullable String name, @Nullable String description) {
  }

  /** Which assistants a search or count is about: each filter when not null, {@code name} a substring. */
  record Filter(@Nullable String graphId, @Nullable String name, Map<String, Object> metadata) {
  }

  /** Registers the graphs' own assistants that are not registered yet; the others stay as they are. */
  Mono<Void> registerSystem(List<AssistantRecord> assistants);

  /**
   * Creates the assistant as version 1; when one with that id exists, emits it if {@code returnExisting}, else
   * fails with 409.
   */
  Mono<AssistantRecord> create(AssistantRecord assistant, boolean returnExisting);

  /** The assistant, or empty. */
  Mono<AssistantRecord> get(String assistantId);

  /** Adds a version (the highest yet + 1) with the patch applied to the latest, and makes it the latest; or empty. */
  Mono<AssistantRecord> patch(String assistantId, Patch patch, Instant at);

  /** Deletes the assistant and its versions; whether it existed. */
  Mono<Boolean> delete(String assistantId);

  /** Makes {@code version} the latest; empty when there is no such assistant, 404 when it has no such version. */
  Mono<AssistantRecord> setLatest(String assistantId, int version, Instant at);

  /** The assistant's versions whose metadata holds {@code metadata}, newest version first. */
  Flux<AssistantRecord> versions(String assistantId, Map<String, Object> metadata, int limit, int offset);

  /** The assistants the filter matches, sorted by one of {@link #SORT_FIELDS}, then by id. */
  Flux<AssistantRecord> search(Filter filter, String sortBy, boolean ascending, int limit, int offset);

  /** How many assistants the filter matches. */
  Mono<Long> count(Filter filter);

  /** A 404 for an assistant that is not there (worded as the reference's, which clients match). */
  static HttpProblem notFound(String assistantId) {
    return new HttpProblem(404, "No assistant found for '" + assistantId + "': neither an assistant nor a served "
        + "graph has that id");
  }
}
