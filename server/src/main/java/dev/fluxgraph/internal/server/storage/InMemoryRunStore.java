package dev.fluxgraph.internal.server.storage;

import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Run records in memory ({@code --in-memory} and tests); the oldest finished runs beyond a bound are forgotten. */
public final class InMemoryRunStore implements RunStore {

  /** How many finished runs are kept before the oldest are forgotten. */
  static final int FINISHED_RUNS_KEPT = 10_000;

  private final ConcurrentHashMap<String, RunRecord> runs = new ConcurrentHashMap<>();
  private final ArrayDeque<String> finished = new ArrayDeque<>(); // guarded by this

  @Override
  public Mono<Void> save(RunRecord run) {
    return Mono.fromRunnable(() -> {
      boolean[] newlyFinished = {false};
      runs.compute(run.runId(), (id, existing) -> {
        if (existing != null && (existing.finished() || existing.updatedAt().isAfter(run.updatedAt()))) {
          return existing;
        }
        newlyFinished[0] = run.finished();
        return run;
      });
      if (newlyFinished[0]) {
        synchronized (this) {
          finished.addLast(run.runId());
          while (finished.size() > FINISHED_RUNS_KEPT) {
            runs.remove(finished.removeFirst());
          }
        }
      }
    });
  }

  @Override
  public Mono<RunRecord> get(String threadId, String runId) {
    return Mono.fromSupplier(() -> {
      RunRecord run = runs.get(runId);
      return run != null && run.threadId().equals(threadId) ? run : null;
    });
  }

  @Override
  public Flux<RunRecord> list(String threadId, @Nullable String status, int limit, int offset) {
    return Flux.defer(() -> {
      List<RunRecord> found = runs.values().stream()
          .filter(run -> run.threadId().equals(threadId) && (status == null || run.status().equals(status)))
          .sorted(Comparator.comparing(RunRecord::createdAt).reversed())
          .skip(Math.max(0, offset)).limit(Math.max(0, limit)).toList();
      return Flux.fromIterable(found);
    });
  }

  @Override
  public Flux<RunRecord> withStatus(@Nullable String threadId, List<String> statuses) {
    return Flux.defer(() -> Flux.fromIterable(runs.values().stream()
        .filter(run -> (threadId == null || run.threadId().equals(threadId)) && statuses.contains(run.status()))
        .sorted(Comparator.comparing(RunRecord::createdAt)).toList()));
  }

  @Override
  public Mono<Boolean> delete(String threadId, String runId) {
    return get(threadId, runId).map(run -> runs.remove(runId, run)).defaultIfEmpty(false);
  }

  @Override
  public Mono<Void> deleteThread(String threadId) {
    return Mono.fromRunnable(() -> runs.values().removeIf(run -> run.threadId().equals(threadId)));
  }
}
