package dev.fluxgraph.postgres;

import dev.fluxgraph.store.Store;
import dev.fluxgraph.store.StoreContract;
import dev.fluxgraph.testing.TestClock;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** {@link PostgresStore} against the store contract, on the shared embedded PostgreSQL. */
class PostgresStoreIT extends StoreContract {

  private static PostgresStore connected;
  private final TestClock clock = new TestClock();
  private final PostgresStore store = connected.withClock(clock);

  @BeforeAll
  static void connect() {
    connected = PostgresStore.connect(EmbeddedPostgres.r2dbcUrl());
    connected.setup().block();
  }

  @AfterAll
  static void close() {
    connected.close();
  }

  @Override
  protected Store store() {
    return store;
  }

  @Override
  protected void advanceClock(Duration duration) {
    clock.advance(duration);
  }
}
