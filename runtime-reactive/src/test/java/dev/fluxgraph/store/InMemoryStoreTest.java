package dev.fluxgraph.store;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** {@link InMemoryStore} against the store contract, with a clock the TTL test can move. */
class InMemoryStoreTest extends StoreContract {

  private final MovableClock clock = new MovableClock();
  private final InMemoryStore store = new InMemoryStore(clock);

  @Override
  protected Store store() {
    return store;
  }

  @Override
  protected void advanceClock(Duration duration) {
    clock.now = clock.now.plus(duration);
  }

  private static final class MovableClock extends Clock {
    private volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");
    private final Clock real = Clock.systemUTC();
    private final Instant start = real.instant();

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      // follows real time (so updates are ordered) plus whatever the test advanced
      return now.plus(Duration.between(start, real.instant()));
    }
  }
}
