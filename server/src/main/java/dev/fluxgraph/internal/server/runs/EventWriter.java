package dev.fluxgraph.internal.server.runs;

import dev.fluxgraph.internal.server.storage.PostgresEventStore;
import dev.fluxgraph.postgres.Sql;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.scheduler.Schedulers;

/**
 * Writes one run's events to PostgreSQL without delaying the run, for joiners in other processes and after a restart:
 * the events published while a write is in flight go out together as the next round (one row of the store), so a
 * run's events are committed in order, and the rounds of all runs share the store's group commits.
 *
 * <p>A writer is <em>prompt</em> or <em>deferred</em>. Prompt (background and resumable runs, runs claimed from the
 * queue, whose requester may be anywhere, and any run once somebody elsewhere follows it, see {@link #prompt}): the
 * first round waits up to {@link #LINGER} for more events (a short run's events then go out as one round, when it
 * ends), so a joiner elsewhere sees events at most that much later. Deferred (a run streamed or waited for by its
 * client here, which nobody elsewhere follows): events wait for the run's final save ({@link #rest}), or go out as a
 * round once more than {@link #FINAL_EVENTS} or {@link #FINAL_CHARS} are waiting, so a short run's events cost no
 * statement of their own and a long one's memory stays bounded. A process that dies loses a deferred run's unwritten
 * events: its taker numbers its own after the kept ones, and nobody was reading them elsewhere (a joiner there would
 * have made the writer prompt). {@link #flushed} tells when the events published so far are committed, sending the
 * queued ones at once: the run's final status is saved only after its events.
 */
final class EventWriter {

  private static final Logger LOG = LoggerFactory.getLogger(EventWriter.class);

  private final PostgresEventStore store;
  private final String runId;
  private final String threadId;
  private List<PostgresEventStore.StoredEvent> queued = new ArrayList<>(); // guarded by this
  private boolean writing; // guarded by this
  private long lastQueued = -1; // guarded by this
  private long lastWritten = -1; // guarded by this
  private final List<Waiter> waiters = new ArrayList<>(); // guarded by this
  private @Nullable Disposable lingering; // guarded by this: the first round's timer
  private long queuedChars; // guarded by this
  private boolean prompt; // guarded by this

  /** How long the first event waits for others before it is written. */
  static final Duration LINGER = Duration.ofMillis(20);
  /**
   * At most this many events (of at most {@link #FINAL_CHARS} characters together) go with the run's final save
   * (see {@link #rest}); more go out as a round of their own first. With the save's batch of at most 256 runs, the
   * statement stays under PostgreSQL's 65,535 bind parameters.
   */
  static final int FINAL_EVENTS = 32;
  static final int FINAL_CHARS = 32 * 1024;

  private record Waiter(long seq, MonoSink<Void> sink) {
  }

  /** A writer, prompt or deferred (see the class doc). */
  EventWriter(PostgresEventStore store, String runId, String threadId, boolean prompt) {
    this.store = store;
    this.runId = runId;
    this.threadId = threadId;
    this.prompt = prompt;
  }

  /** Queues the event; it goes out with the next round, or when the run ends (see the class doc). */
  void write(long seq, String name, String json) {
    boolean now;
    synchronized (this) {
      queued.add(new PostgresEventStore.StoredEvent(seq, name, json));
      lastQueued = Math.max(lastQueued, seq);
      queuedChars += name.length() + json.length();
      if (writing || lingering != null) {
        return;
      }
      now = !prompt && overFinal();
      if (prompt) {
        lingering = Schedulers.parallel().schedule(this::sendQueued, LINGER.toMillis(), TimeUnit.MILLISECONDS);
      }
    }
    if (now) {
      sendQueued();
    }
  }

  /**
   * Makes the writer prompt from now on (somebody in another process follows the run, or its client may resume it
   * there), sending what is queued at once. Idempotent.
   */
  void prompt() {
    synchronized (this) {
      if (prompt) {
        return;
      }
      prompt = true;
    }
    sendQueued();
  }

  /** Whether more events wait than go with the run's final save (see {@link #rest}). Called holding the lock. */
  private boolean overFinal() {
    return queued.size() > FINAL_EVENTS || queuedChars > FINAL_CHARS;
  }

  /** Sends the queued events as a round, unless a round is in flight (which sends them when it is done). */
  private void sendQueued() {
    List<PostgresEventStore.StoredEvent> round;
    synchronized (this) {
      if (lingering != null) {
        lingering.dispose();
        lingering = null;
      }
      if (writing || queued.isEmpty()) {
        return;
      }
      writing = true;
      round = queued;
      queued = new ArrayList<>();
      queuedChars = 0;
    }
    send(round);
  }

  private void send(List<PostgresEventStore.StoredEvent> round) {
    long last = round.get(round.size() - 1).seq();
    // appends are idempotent (a round is stored as the same rows, and a stored row is left alone): a connection lost
    // mid-statement costs a retry
    store.append(runId, threadId, round).retryWhen(Sql.transientRetry())
        .onErrorResume(error -> {
          // the run goes on; joiners elsewhere miss these events (they still see the run's end)
          LOG.warn("could not keep {} event(s) of run {} for joiners in other processes: {}", round.size(), runId,
              error.toString());
          return Mono.empty();
        })
        .subscribe(null, null, () -> written(last));
  }

  private void written(long last) {
    List<PostgresEventStore.StoredEvent> next = null;
    List<Waiter> done = new ArrayList<>();
    synchronized (this) {
      lastWritten = Math.max(lastWritten, last);
      waiters.removeIf(waiter -> waiter.seq() <= lastWritten && done.add(waiter));
      boolean due = prompt || !waiters.isEmpty() || overFinal();
      if (queued.isEmpty() || !due) { // a deferred writer's events wait for the run's end
        writing = false;
      } else {
        next = queued;
        queued = new ArrayList<>();
        queuedChars = 0;
      }
    }
    done.forEach(waiter -> waiter.sink().success());
    if (next != null) {
      send(next);
    }
  }

  /**
   * The events not written yet, for the run's final save to keep in its own statement (once no round is in flight, so
   * they commit after the earlier ones): a finished run's last events then cost no statement of their own. They count
   * as written from now on. When they are too many for that, they go out as a round first and this emits what is
   * left after it. Cold.
   */
  Mono<List<PostgresEventStore.StoredEvent>> rest() {
    return Mono.defer(() -> {
      List<PostgresEventStore.StoredEvent> taken = null;
      synchronized (this) {
        if (!writing && !overFinal()) {
          if (lingering != null) {
            lingering.dispose();
            lingering = null;
          }
          taken = queued;
          queued = new ArrayList<>();
          queuedChars = 0;
          lastWritten = Math.max(lastWritten, lastQueued);
        }
      }
      return taken != null ? Mono.just(taken) : flushed().then(rest());
    });
  }

  /**
   * Completes once every event queued before this call is committed (or given up on after an error), sending the
   * queued ones now. Cold.
   */
  Mono<Void> flushed() {
    return Mono.create(sink -> {
      boolean now;
      synchronized (this) {
        now = lastQueued <= lastWritten;
        if (!now) {
          waiters.add(new Waiter(lastQueued, sink));
        }
      }
      if (now) {
        sink.success();
      } else {
        sendQueued();
      }
    });
  }
}
