package dev.fluxgraph.errors;

import org.jspecify.annotations.Nullable;

/** Base class of every exception the Fluxgraph runtime raises on purpose. */
public class FluxgraphException extends RuntimeException {

  public FluxgraphException(String message) {
    super(message);
  }

  public FluxgraphException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
