package dev.fluxgraph.internal.server.api;

import static dev.fluxgraph.internal.server.api.Fields.booleanField;
import static dev.fluxgraph.internal.server.api.Fields.onlyKnown;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.internal.server.runs.RunLifecycle;
import dev.fluxgraph.internal.server.storage.AssistantStore;
import dev.fluxgraph.internal.server.storage.CronStore;
import dev.fluxgraph.internal.server.storage.ThreadStore;
import dev.fluxgraph.store.SearchOptions;
import dev.fluxgraph.store.Store;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@code POST /internal/truncate}, the reference dev server's reset between test suites, served only when the server
 * was started with it ({@code --enable-truncate}; a 404 as for any unknown route otherwise). Body: booleans
 * {@code threads} (deletes every thread as {@code DELETE /threads/{id}} does: its runs, checkpoints and crons too),
 * {@code assistants} (those created through the API; the graphs' own stay), {@code store} (every item), and
 * {@code runs} and {@code checkpointer}, which are part of deleting the threads here and so are accepted only with
 * {@code threads}. Answers {@code {"ok": true}}.
 */
final class TruncateRoutes {

  /** How many records one page of the deletion reads. */
  private static final int PAGE = 1000;

  private final Http http;
  private final ThreadStore threads;
  private final RunLifecycle runs;
  private final CronStore crons;
  private final AssistantStore assistants;
  private final Store store;
  private volatile boolean enabled;

  TruncateRoutes(Http http, ThreadStore threads, RunLifecycle runs, CronStore crons, AssistantStore assistants,
                 Store store) {
    this.http = http;
    this.threads = threads;
    this.runs = runs;
    this.crons = crons;
    this.assistants = assistants;
    this.store = store;
  }

  /** Serves the route from now on. */
  void enable() {
    enabled = true;
  }

  void register(Routes routes) {
    // a route of its own rule: not in the OpenAPI document, and unknown (404) unless enabled
    routes.route(request -> enabled && request.method().equals("POST") && request.path().equals("/internal/truncate"),
        http.handle((request, body) -> Mono.defer(() -> truncate(body))));
  }

  private Mono<JsonNode> truncate(JsonNode body) {
    if (!body.isObject()) {
      throw HttpProblem.invalid("the body must be an object of booleans: threads, assistants, store, runs, "
          + "checkpointer");
    }
    onlyKnown(body, "threads", "assistants", "store", "runs", "checkpointer");
    boolean dropThreads = booleanField(body, "threads");
    for (String part : List.of("runs", "checkpointer")) {
      if (booleanField(body, part) && !dropThreads) {
        throw HttpProblem.invalid(part + " is truncated with the threads here: send threads: true as well");
      }
    }
    Mono<Void> work = Mono.empty();
    if (dropThreads) {
      work = work.then(deleteThreads());
    }
    if (booleanField(body, "assistants")) {
      work = work.then(deleteAssistants(0));
    }
    if (booleanField(body, "store")) {
      work = work.then(deleteItems());
    }
    ObjectNode ok = JsonNodeFactory.instance.objectNode().put("ok", true);
    return work.thenReturn(ok);
  }

  private Mono<Void> deleteThreads() {
    ThreadStore.Order order = new ThreadStore.Order(ThreadStore.Order.Field.THREAD_ID, true);
    return threads.search(Map.of(), null, List.of(), PAGE, 0, order)
        .map(ThreadStore.ThreadRecord::threadId).collectList()
        .flatMap(ids -> ids.isEmpty() ? Mono.empty()
            : Flux.fromIterable(ids).concatMap(id -> runs.deleteThread(id).then(crons.deleteThread(id)))
                .then(Mono.defer(this::deleteThreads)));
  }

  /** Deletes the assistants after the first {@code kept} (graphs' own ones, which stay), a page at a time. */
  private Mono<Void> deleteAssistants(int kept) {
    return assistants.search(new AssistantStore.Filter(null, null, Map.of()), "assistant_id", true, PAGE, kept)
        .collectList()
        .flatMap(page -> {
          if (page.isEmpty()) {
            return Mono.empty();
          }
          List<String> created = page.stream().filter(assistant -> !assistant.system())
              .map(AssistantStore.AssistantRecord::assistantId).toList();
          int system = page.size() - created.size();
          return Flux.fromIterable(created).concatMap(assistants::delete)
              .then(Mono.defer(() -> deleteAssistants(kept + system)));
        });
  }

  private Mono<Void> deleteItems() {
    return store.search(List.of(), SearchOptions.defaults().withLimit(PAGE)).collectList()
        .flatMap(items -> items.isEmpty() ? Mono.empty()
            : Flux.fromIterable(items).concatMap(item -> store.delete(item.namespace(), item.key()))
                .then(Mono.defer(this::deleteItems)));
  }
}
