package dev.fluxgraph.func;

import java.util.Optional;

/**
 * The context of an entrypoint body: a {@link TaskContext} plus the thread's previous saved value.
 *
 * @param <P> the type of the saved value
 */
public interface EntrypointContext<P> extends TaskContext {

  /**
   * The saved value of the thread's last completed run: its return value, or {@link Final#save()} when it
   * returned a {@link Final}. Empty on a new thread, without a checkpointer, and in nested entrypoints.
   */
  Optional<P> previous();
}
