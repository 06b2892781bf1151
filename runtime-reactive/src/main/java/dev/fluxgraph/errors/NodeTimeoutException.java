package dev.fluxgraph.errors;

import java.time.Duration;
import java.util.Objects;

/** One attempt of a task or entrypoint ran longer than its configured timeout. Retryable by default. */
public class NodeTimeoutException extends FluxgraphException {

  private final String node;
  private final Duration timeout;

  public NodeTimeoutException(String node, Duration timeout) {
    super("'" + node + "' timed out after " + timeout.toMillis() + " ms");
    this.node = Objects.requireNonNull(node, "node must not be null");
    this.timeout = timeout;
  }

  /** The name of the task or entrypoint that timed out. */
  public String node() {
    return node;
  }

  /** The per-attempt timeout that was exceeded. */
  public Duration timeout() {
    return timeout;
  }
}
