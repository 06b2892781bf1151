package dev.fluxgraph.internal.server.storage;

import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Crons in memory, for a server that keeps nothing ({@code --in-memory}): one process, so nobody else fires them. */
public final class InMemoryCronStore implements CronStore {

  private final ConcurrentHashMap<String, CronRecord> crons = new ConcurrentHashMap<>();

  @Override
  public Mono<Void> create(CronRecord cron) {
    return Mono.fromRunnable(() -> crons.put(cron.cronId(), cron));
  }

  @Override
  public Mono<CronRecord> get(String cronId) {
    return Mono.fromCallable(() -> crons.get(cronId));
  }

  @Override
  public Flux<CronRecord> search(Query query, String sortBy, boolean ascending, int limit, int offset) {
    return Flux.defer(() -> {
      Comparator<CronRecord> order = byField(sortBy);
      if (!ascending) {
        order = order.reversed();
      }
      return Flux.fromStream(crons.values().stream().filter(cron -> matches(cron, query))
          .sorted(order.thenComparing(CronRecord::cronId)).skip(offset).limit(limit));
    });
  }

  /** The order of a sort field, crons without a value (a stateless cron's thread, a finished schedule) last. */
  private static Comparator<CronRecord> byField(String sortBy) {
    Function<CronRecord, @Nullable Comparable<?>> key = switch (sortBy) {
      case "cron_id" -> CronRecord::cronId;
      case "assistant_id" -> CronRecord::assistantId;
      case "thread_id" -> CronRecord::threadId;
      case "updated_at" -> CronRecord::updatedAt;
      case "next_run_date" -> CronRecord::nextRunAt;
      default -> CronRecord::createdAt;
    };
    return (a, b) -> {
      @SuppressWarnings({"unchecked", "rawtypes"})
      Comparable<Object> x = (Comparable) key.apply(a);
      Object y = key.apply(b);
      if (x == null || y == null) {
        return x == null ? (y == null ? 0 : 1) : -1;
      }
      return x.compareTo(y);
    };
  }

  @Override
  public Mono<Long> count(Query query) {
    return Mono.fromCallable(() -> crons.values().stream().filter(cron -> matches(cron, query)).count());
  }

  private static boolean matches(CronRecord cron, Query query) {
    return (query.assistantId() == null || query.assistantId().equals(cron.assistantId()))
        && (query.threadId() == null || query.threadId().equals(cron.threadId()))
        && (query.enabled() == null || query.enabled() == cron.enabled());
  }

  @Override
  public Mono<CronRecord> update(CronRecord cron) {
    return Mono.fromCallable(() -> crons.computeIfPresent(cron.cronId(), (id, old) -> new CronRecord(id,
        cron.assistantId(), cron.threadId(), cron.schedule(), cron.payload(), cron.metadata(), cron.endTime(),
        cron.nextRunAt(), cron.onRunCompleted(), cron.enabled(), old.createdAt(), cron.updatedAt())));
  }

  @Override
  public Mono<Boolean> delete(String cronId) {
    return Mono.fromCallable(() -> crons.remove(cronId) != null);
  }

  @Override
  public Mono<Void> deleteThread(String threadId) {
    return Mono.fromRunnable(() -> crons.values().removeIf(cron -> threadId.equals(cron.threadId())));
  }

  @Override
  public Flux<CronRecord> due(Instant now, int limit) {
    return Flux.defer(() -> {
      List<CronRecord> due = crons.values().stream()
          .filter(cron -> cron.enabled() && cron.nextRunAt() != null && !cron.nextRunAt().isAfter(now))
          .sorted(Comparator.comparing(CronRecord::nextRunAt)).limit(limit).toList();
      return Flux.fromIterable(due);
    });
  }

  @Override
  public Mono<Boolean> fire(CronRecord due, @Nullable Instant next, @Nullable TickRun run) {
    return Mono.fromCallable(() -> {
      boolean[] fired = {false};
      crons.computeIfPresent(due.cronId(), (id, cron) -> {
        if (!cron.enabled() || !Objects.equals(cron.nextRunAt(), due.nextRunAt())) {
          return cron;
        }
        fired[0] = true;
        return new CronRecord(id, cron.assistantId(), cron.threadId(), cron.schedule(), cron.payload(),
            cron.metadata(), cron.endTime(), next, cron.onRunCompleted(), cron.enabled(), cron.createdAt(),
            cron.updatedAt());
      });
      return fired[0];
    });
  }

  @Override
  public boolean recordsRuns() {
    return false;
  }
}
