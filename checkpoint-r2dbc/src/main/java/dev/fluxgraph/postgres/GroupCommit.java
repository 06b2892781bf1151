package dev.fluxgraph.postgres;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import reactor.core.publisher.Mono;

/**
 * Coalesces requests from any number of concurrent callers into batches: at most {@code maxConcurrent} batches
 * run at a time, and each takes everything queued so far (up to {@code maxBatch}). An idle database therefore sees
 * a request at once, a busy one sees few large statements instead of many small ones, and no timer is involved.
 * The executor completes every request of its batch (successfully or not); an error of the batch's {@code Mono}
 * fails the requests it left open.
 *
 * Used by the saver's reads and writes, and by other stores on the same database (e.g. the server's run records).
 *
 * @param <R> the request type
 */
public final class GroupCommit<R extends GroupCommit.Request> {

  /** A queued request; completed exactly once by the batch that carries it. */
  public interface Request {
    void fail(Throwable error);
  }

  private final int maxBatch;
  private final int maxConcurrent;
  private final Function<List<R>, Mono<Void>> executor;
  private final Queue<R> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger inFlight = new AtomicInteger();

  public GroupCommit(int maxBatch, int maxConcurrent, Function<List<R>, Mono<Void>> executor) {
    this.maxBatch = maxBatch;
    this.maxConcurrent = maxConcurrent;
    this.executor = executor;
  }

  /**
   * The batch split into rounds in which no key appears twice, in order: a request goes into the first round after
   * the last one that has its key (PostgreSQL refuses to change a row twice in one statement, and a key's requests
   * keep their order).
   */
  public static <T> List<List<T>> rounds(List<T> batch, Function<T, String> key) {
    List<List<T>> rounds = new ArrayList<>();
    for (T request : batch) {
      String mine = key.apply(request);
      List<T> round = null;
      for (int i = rounds.size() - 1; i >= 0; i--) { // after the last round that has this key
        if (rounds.get(i).stream().anyMatch(other -> key.apply(other).equals(mine))) {
          break;
        }
        round = rounds.get(i);
      }
      if (round == null) {
        round = new ArrayList<>();
        rounds.add(round);
      }
      round.add(request);
    }
    return rounds;
  }

  public void submit(R request) {
    queue.add(request);
    drain();
  }

  private void drain() {
    while (!queue.isEmpty()) {
      int running = inFlight.get();
      if (running >= maxConcurrent) {
        return;
      }
      if (!inFlight.compareAndSet(running, running + 1)) {
        continue;
      }
      List<R> batch = new ArrayList<>();
      R next;
      while (batch.size() < maxBatch && (next = queue.poll()) != null) {
        batch.add(next);
      }
      if (batch.isEmpty()) {
        inFlight.decrementAndGet();
        continue;
      }
      Mono.defer(() -> executor.apply(batch))
          .doFinally(signal -> {
            inFlight.decrementAndGet();
            drain();
          })
          .subscribe(null, error -> batch.forEach(request -> request.fail(error)));
    }
  }
}
