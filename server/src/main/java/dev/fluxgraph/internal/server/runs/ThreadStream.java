package dev.fluxgraph.internal.server.runs;

import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.internal.server.sse.Sse;
import dev.fluxgraph.internal.server.storage.RunStore;
import dev.fluxgraph.internal.server.storage.ThreadStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A thread's stream ({@code GET /threads/{id}/stream}): the events of the thread's runs, one run after the other in
 * the order they were created, each as its joinStream gives it ({@link RunLifecycle#events}: from this process, or
 * from the database when another process executes it), followed by a {@code metadata} event
 * {@code {"run_id", "status": "run_done"}} when it ended; then it waits for the next run, until the client leaves or
 * the thread is deleted. Event ids are {@code <run_id>:<seq>} ({@code <run_id>:done} for the end), so a client that
 * reconnects with {@code Last-Event-ID} goes on where it stopped. New runs are seen at once when they start in this
 * process, and within {@link #POLL} when they start in another.
 */
public final class ThreadStream {

  /** How often an idle thread stream looks for a run started in another process, and whether the thread is gone. */
  static final Duration POLL = SharedRuns.FOLLOW_POLL;
  /** The most runs of a thread a stream looks at (the newest): older ones are not replayed. */
  static final int RUNS = 1000;

  private final RunLifecycle lifecycle;
  private final ThreadStore threads;
  private final RunRegistry runs;
  /** The threads of runs registered in this process, as they are: wakes this process's idle thread streams. */
  private final Sinks.Many<String> started = Sinks.many().multicast().directBestEffort();

  ThreadStream(RunLifecycle lifecycle, ThreadStore threads, RunRegistry runs) {
    this.lifecycle = lifecycle;
    this.threads = threads;
    this.runs = runs;
  }

  /** Wakes the streams of the thread: a run was registered on it. */
  void started(String threadId) {
    synchronized (started) {
      started.tryEmitNext(threadId); // no listener, or a slow one: the poll is the backstop
    }
  }

  /** Where a thread's stream starts. */
  public enum Start {
    /**
     * With the runs pending or running when it is opened (from their first event), then every run created since
     * (even one that already ended).
     */
    NOW,
    /** With the thread's oldest kept run ({@code Last-Event-ID: -}). */
    FIRST,
    /** After one event of one run ({@code Last-Event-ID: <run_id>:<seq>}, or {@code :done} after the whole run). */
    AFTER
  }

  /**
   * The thread's stream from {@code start} ({@code runId} and {@code afterId} for {@link Start#AFTER}; a run no longer
   * there starts as {@link Start#NOW}). Cold; 404 when the thread does not exist.
   */
  Flux<Run.Event> events(String threadId, Start start, @Nullable String runId, long afterId) {
    return threads.require(threadId).thenMany(Flux.defer(() -> {
      Cursor cursor = new Cursor(start, runId, afterId);
      return Flux.defer(() -> next(threadId, cursor)).repeat(() -> !cursor.ended);
    }));
  }

  /** Which runs a stream has passed, and where it goes on. */
  private static final class Cursor {
    final Set<String> passed = new HashSet<>();
    Start start;
    final @Nullable String runId;
    final long afterId;
    /** When the stream was opened. */
    final Instant opened = Instant.now();
    boolean ended;

    Cursor(Start start, @Nullable String runId, long afterId) {
      this.start = start;
      this.runId = runId;
      this.afterId = afterId;
    }
  }

  /** The next run's events and its end; or, when there is none yet, nothing once a run starts or a poll passed. */
  private Flux<Run.Event> next(String threadId, Cursor cursor) {
    return runs.list(threadId, null, RUNS, 0).collectList().flatMapMany(newestFirst -> {
      List<RunStore.RunRecord> oldestFirst = new ArrayList<>(newestFirst);
      oldestFirst.sort(Comparator.comparing(RunStore.RunRecord::createdAt).thenComparing(RunStore.RunRecord::runId));
      long after = placeOnce(cursor, oldestFirst);
      RunStore.RunRecord run = oldestFirst.stream().filter(record -> !cursor.passed.contains(record.runId()))
          .findFirst().orElse(null);
      if (run == null) {
        return threads.get(threadId).hasElement().flatMapMany(exists -> {
          if (!exists) {
            cursor.ended = true;
            return Flux.empty();
          }
          return Flux.merge(started.asFlux().filter(threadId::equals), Flux.interval(POLL)).next()
              .thenMany(Flux.<Run.Event>empty());
        });
      }
      cursor.passed.add(run.runId());
      long from = run.runId().equals(cursor.runId) ? after : -1;
      String id = run.runId();
      return lifecycle.events(threadId, id, from, false)
          .flatMapMany(events -> events.map(event -> new Run.Event(event.id(), event.name(),
              Sse.withId(event.text(), id + ":" + event.id()))))
          .onErrorResume(HttpProblem.class, gone -> Flux.empty()) // deleted (rolled back) meanwhile
          .concatWith(Mono.fromSupplier(() -> new Run.Event(Long.MAX_VALUE, "metadata", Sse.frame("metadata",
              "{\"run_id\":\"" + id + "\",\"status\":\"run_done\"}", id + ":done"))));
    });
  }

  /**
   * On the first look, marks the runs the stream starts after as passed; emits where the cursor's run goes on (its
   * events after that id).
   */
  private static long placeOnce(Cursor cursor, List<RunStore.RunRecord> oldestFirst) {
    if (cursor.start == Start.AFTER) {
      int at = -1;
      for (int i = 0; i < oldestFirst.size(); i++) {
        if (oldestFirst.get(i).runId().equals(cursor.runId)) {
          at = i;
        }
      }
      if (at < 0) {
        cursor.start = Start.NOW; // the run is gone: go on with what runs now
      } else {
        for (int i = 0; i < at; i++) {
          cursor.passed.add(oldestFirst.get(i).runId());
        }
        if (cursor.afterId == Long.MAX_VALUE) {
          cursor.passed.add(Objects.requireNonNull(cursor.runId));
        }
        cursor.start = Start.FIRST;
        return cursor.afterId;
      }
    }
    if (cursor.start == Start.NOW) {
      oldestFirst.stream().filter(run -> run.finished() && run.createdAt().isBefore(cursor.opened))
          .forEach(run -> cursor.passed.add(run.runId()));
      cursor.start = Start.FIRST;
    }
    return cursor.afterId;
  }
}
