package dev.fluxgraph.store;

import dev.fluxgraph.testing.TestClock;
import java.time.Duration;

/** {@link InMemoryStore} against the store contract, with a clock the TTL test can move. */
class InMemoryStoreTest extends StoreContract {

  private final TestClock clock = new TestClock();
  private final InMemoryStore store = new InMemoryStore(clock);

  @Override
  protected Store store() {
    return store;
  }

  @Override
  protected void advanceClock(Duration duration) {
    clock.advance(duration);
  }
}
