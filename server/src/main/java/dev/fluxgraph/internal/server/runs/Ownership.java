package dev.fluxgraph.internal.server.runs;

import org.jspecify.annotations.Nullable;

/**
 * Which runs this process may still write: in PostgreSQL those owned by its worker while its lease holds
 * ({@link Worker}); in memory all of them ({@link #NONE}).
 */
public interface Ownership {

  /** Without workers: runs have no owner and every write is allowed. */
  Ownership NONE = new Ownership() {
    @Override
    public @Nullable String owner() {
      return null;
    }

    @Override
    public boolean holds(@Nullable String owner) {
      return true;
    }
  };

  /** The owner a run starting now is recorded with; null without workers. */
  @Nullable String owner();

  /** Whether this process may still write the runs of {@code owner} (its lease holds, by this process's clock). */
  boolean holds(@Nullable String owner);
}
