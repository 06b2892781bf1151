package dev.fluxgraph.internal.server;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.internal.EntrypointAccess;
import dev.fluxgraph.internal.EntrypointSpec;
import dev.fluxgraph.store.Store;
import org.jspecify.annotations.Nullable;

/**
 * A graph served on the server's persistence: the same graph (body, policies, nodes) with the server's checkpointer
 * and store where it has none of its own. The graph itself is immutable and stays as it is.
 */
public final class GraphDefaults {

  private GraphDefaults() {
  }

  /**
   * {@code graph} with {@code checkpointer} when it has no checkpointer or has {@code replaced} (the saver the
   * server's one wraps, e.g. fenced by the workers' leases), and with {@code store} when it has none; {@code graph}
   * itself when nothing changes.
   */
  public static Entrypoint<?, ?> apply(Entrypoint<?, ?> graph, CheckpointSaver checkpointer,
                                       @Nullable CheckpointSaver replaced, Store store) {
    EntrypointSpec spec = EntrypointAccess.get().spec(graph);
    CheckpointSaver own = spec.checkpointer();
    CheckpointSaver saver = own == null || own == replaced ? checkpointer : own;
    Store kept = spec.store() == null ? store : spec.store();
    if (saver == own && kept == spec.store()) {
      return graph;
    }
    return EntrypointAccess.get().create(spec.withPersistence(saver, kept));
  }

  /**
   * {@code graph} saving through {@code fenced} when its checkpointer is {@code shared} (the server's own, which
   * {@code fenced} wraps), so that a run this process lost saves nothing there either; {@code graph} itself otherwise.
   */
  public static Entrypoint<?, ?> fence(Entrypoint<?, ?> graph, CheckpointSaver fenced, CheckpointSaver shared) {
    EntrypointSpec spec = EntrypointAccess.get().spec(graph);
    return spec.checkpointer() != shared ? graph
        : EntrypointAccess.get().create(spec.withPersistence(fenced, spec.store()));
  }
}
