package dev.fluxgraph.errors;

import org.jspecify.annotations.Nullable;

/** A value could not be converted to or from JSON; the message names the task, thread or checkpoint involved. */
public class SerializationException extends FluxgraphException {

  public SerializationException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
