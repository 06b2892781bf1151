package dev.fluxgraph.internal.server.runs;

import dev.fluxgraph.internal.server.Durations;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * A pass repeated after every jittered {@code period} on its own scheduler until disposed (the crons' look, the expired
 * threads' reaping). A failing pass is logged once per outage (a database that is away fails every pass), then quietly
 * until a pass succeeds again.
 */
final class Periodic {

  private Periodic() {
  }

  /** Starts the passes; {@code what} completes "could not ..." in the log line. */
  static Disposable every(Duration period, Scheduler scheduler, Supplier<Mono<?>> pass, Logger log, String what) {
    AtomicBoolean failing = new AtomicBoolean();
    return Mono.defer(() -> Mono.delay(Durations.jittered(period), scheduler))
        .then(Mono.defer(pass).doOnNext(done -> failing.set(false)).onErrorResume(error -> {
          if (!failing.getAndSet(true)) {
            log.warn("could not {} (trying again every {}): {}", what, Durations.format(period), error.toString());
          }
          return Mono.empty();
        }))
        .repeat()
        .subscribe();
  }
}
