package dev.fluxgraph.internal.server.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.fluxgraph.internal.server.storage.InMemoryRunStore;
import dev.fluxgraph.internal.server.storage.PostgresRunStore;
import dev.fluxgraph.internal.server.storage.PostgresThreadStore;
import dev.fluxgraph.internal.server.storage.PostgresWorkerStore;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.server.TestSql;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A worker's lease against a real PostgreSQL: renewed while it holds, and a lost one fences the worker. */
class WorkerIT {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private static EmbeddedPostgres postgres;
  private static PostgresSaver saver;
  private static PostgresWorkerStore workers;

  @BeforeAll
  static void database() throws IOException {
    postgres = EmbeddedPostgres.builder().start();
    saver = PostgresSaver.connect("r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/postgres");
    saver.setup().block(WAIT);
    new PostgresThreadStore(saver.connectionFactory()).setup()
        .then(new PostgresRunStore(saver.connectionFactory()).setup()).block(WAIT);
    workers = new PostgresWorkerStore(saver.connectionFactory());
  }

  @AfterAll
  static void stop() throws IOException {
    saver.close();
    postgres.close();
  }

  @Test
  void theHeartbeatRenewsTheLeaseWithTheDatabaseClock() throws InterruptedException {
    Worker worker = new Worker(workers, "renewing", Duration.ofSeconds(1), Duration.ofMillis(200));
    worker.start().block(WAIT);
    try {
      String id = worker.id();
      assertTrue(id.startsWith("renewing-"), id);
      assertTrue(worker.holds(id));
      assertFalse(worker.holds("renewing-other"));
      String first = sql("SELECT heartbeat_at FROM fluxgraph_workers WHERE worker_id = '" + id + "'");
      await(() -> !first.equals(sql("SELECT heartbeat_at FROM fluxgraph_workers WHERE worker_id = '" + id + "'")),
          "a heartbeat");
      assertEquals("t", sql("SELECT lease_expires_at > now() AND lease_expires_at <= now() + interval '1 second'"
          + " FROM fluxgraph_workers WHERE worker_id = '" + id + "'"));
      assertEquals(id, worker.id(), "the same id while the lease holds");
    } finally {
      worker.stop().block(WAIT);
    }
    assertFalse(worker.holds(worker.id()), "nothing is held after a stop");
    assertEquals(null, sql("SELECT worker_id FROM fluxgraph_workers WHERE worker_id = '" + worker.id() + "'"));
  }

  @Test
  void aLostLeaseCancelsItsRunsWithoutWritingThemAndRegistersAFreshId() throws InterruptedException {
    Worker worker = new Worker(workers, "fenced", Duration.ofSeconds(3), Duration.ofMillis(200));
    InMemoryRunStore store = new InMemoryRunStore();
    RunRegistry registry = new RunRegistry(store, worker);
    worker.onFenced(registry::fence);
    worker.start().block(WAIT);
    try {
      String lost = worker.id();
      Run run = registry.start("r1", "t1", "assistant", Map.of(), "reject", false).block(WAIT);
      assertEquals(lost, run.owner);
      await(() -> store.get("t1", "r1").block(WAIT) != null, "the run's record saved");
      // what a sweeper sees: the lease expired (say, the process was stopped); the worker learns it at its next renewal
      sql("UPDATE fluxgraph_workers SET lease_expires_at = now() - interval '1 millisecond' WHERE worker_id = '"
          + lost + "' RETURNING worker_id");
      await(() -> !worker.id().equals(lost) && worker.holds(worker.id()), "a fresh id registered");
      assertNotEquals(lost, worker.id());
      assertEquals(RunStatus.INTERRUPTED, run.status, "its run is cancelled here");
      assertFalse(worker.holds(lost));
      assertEquals("running", store.get("t1", "r1").block(WAIT).status(), "and nothing final was written for it");
      assertEquals(worker.id(), sql("SELECT worker_id FROM fluxgraph_workers WHERE worker_id = '" + worker.id() + "'"));
      Run next = registry.start("r2", "t2", "assistant", Map.of(), "reject", false).block(WAIT);
      assertEquals(worker.id(), next.owner, "new runs are owned by the fresh id");
    } finally {
      worker.stop().block(WAIT);
    }
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("not within " + WAIT + ": " + what);
      }
      Thread.sleep(20); // polls a condition; no timing is asserted by the pause itself
    }
  }

  private static @Nullable String sql(String query) {
    return TestSql.first(postgres, query);
  }
}
