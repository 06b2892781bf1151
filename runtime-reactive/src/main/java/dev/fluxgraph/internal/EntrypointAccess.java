package dev.fluxgraph.internal;

import dev.fluxgraph.func.Entrypoint;
import java.util.Objects;

/**
 * Lets the Graph API build an {@link Entrypoint} around a graph's spec, and read the spec of an entrypoint used as a
 * node, without making either public API. {@code Entrypoint} registers the implementation when it is initialised.
 */
public final class EntrypointAccess {

  /** What {@code Entrypoint} provides. */
  public interface Bridge {
    <I, O> Entrypoint<I, O> create(EntrypointSpec spec);

    EntrypointSpec spec(Entrypoint<?, ?> entrypoint);
  }

  private static volatile Bridge bridge;

  private EntrypointAccess() {
  }

  public static void register(Bridge implementation) {
    bridge = Objects.requireNonNull(implementation, "implementation");
  }

  public static Bridge get() {
    Bridge current = bridge;
    if (current == null) {
      try { // initialising Entrypoint registers the bridge
        Class.forName(Entrypoint.class.getName(), true, Entrypoint.class.getClassLoader());
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException(e);
      }
      current = Objects.requireNonNull(bridge, "Entrypoint did not register its bridge");
    }
    return current;
  }
}
