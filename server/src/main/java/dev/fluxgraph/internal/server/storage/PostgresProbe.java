package dev.fluxgraph.internal.server.storage;

import dev.fluxgraph.postgres.Sql;
import io.r2dbc.spi.ConnectionFactory;
import reactor.core.publisher.Mono;

/** What a health check asks the database: whether it answers, and how many runs wait in the queue. */
public final class PostgresProbe {

  private final ConnectionFactory factory;

  public PostgresProbe(ConnectionFactory factory) {
    this.factory = factory;
  }

  /** The runs queued and not yet claimed by any server process; errors when the database does not answer. Cold. */
  public Mono<Long> pendingRuns() {
    return Sql.query(factory, "SELECT count(*) AS pending FROM fluxgraph_runs WHERE status = 'pending'",
        statement -> { }, row -> row.get("pending", Long.class)).next().defaultIfEmpty(0L);
  }
}
