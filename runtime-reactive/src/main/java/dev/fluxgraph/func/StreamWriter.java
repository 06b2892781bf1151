package dev.fluxgraph.func;

import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/** Sends {@code CUSTOM} chunks to the run's stream. Both methods are no-ops when nobody streams that mode. */
public interface StreamWriter {

  /**
   * Sends a chunk without waiting. If the subscriber falls more than 1024 chunks behind, the run fails with a
   * clear error instead of buffering without bound; use {@link #write} to wait for demand instead.
   */
  void emit(@Nullable Object chunk);

  /** Sends a chunk; the {@code Mono} completes once the subscriber had demand for it. Cold. */
  Mono<Void> write(@Nullable Object chunk);
}
