package dev.fluxgraph.internal;

import dev.fluxgraph.errors.FluxgraphException;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.StreamOptions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Operators;

/**
 * Where a run's chunks go. {@link #none()} drops everything (invoke/run); {@link #stream} feeds a
 * {@code Flux.create} sink while honouring the subscriber's demand:
 * <ul>
 *   <li>{@link #write} hands a chunk over only when the subscriber has outstanding demand, otherwise its
 *       {@code Mono} completes once demand arrives (the engine uses it for its own chunks, so a slow subscriber
 *       slows the run instead of growing memory);</li>
 *   <li>{@link #emit} never waits; it may run ahead of demand by at most {@link #EMIT_BUFFER_LIMIT} chunks,
 *       beyond which the run fails with a clear error.</li>
 * </ul>
 */
public abstract class Output {

  /** How many chunks {@code StreamWriter.emit} may run ahead of the subscriber's demand. */
  public static final int EMIT_BUFFER_LIMIT = 1024;

  private static final Output NONE = new Output() {
    @Override
    public boolean wants(StreamMode mode, List<String> namespace) {
      return false;
    }

    @Override
    public Mono<Void> write(StreamMode mode, List<String> namespace, @Nullable Object data) {
      return Mono.empty();
    }

    @Override
    public void emit(StreamMode mode, List<String> namespace, @Nullable Object data) {
    }
  };

  /** An output that discards every chunk. */
  public static Output none() {
    return NONE;
  }

  /** An output feeding {@code sink} with the chunks the options ask for. */
  public static Output stream(FluxSink<StreamChunk> sink, StreamOptions options) {
    return new StreamOutput(sink, options);
  }

  /** Whether a chunk of this mode and namespace would be delivered; lets callers skip building its data. */
  public abstract boolean wants(StreamMode mode, List<String> namespace);

  /** Delivers a chunk once the subscriber has demand; completes immediately when the chunk is not wanted. */
  public abstract Mono<Void> write(StreamMode mode, List<String> namespace, @Nullable Object data);

  /** Delivers or buffers a chunk without waiting. */
  public abstract void emit(StreamMode mode, List<String> namespace, @Nullable Object data);

  /** Called when emitted chunks overflow the buffer; the run fails with the given error. */
  void onOverflow(Consumer<Throwable> handler) {
  }

  private static final class StreamOutput extends Output {
    private final FluxSink<StreamChunk> sink;
    private final Set<StreamMode> modes;
    private final boolean subgraphs;
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private long requested;
    private long sent;
    private boolean overflowed;
    private Consumer<Throwable> overflowHandler = error -> { };

    StreamOutput(FluxSink<StreamChunk> sink, StreamOptions options) {
      this.sink = sink;
      this.modes = EnumSet.copyOf(options.modes());
      this.subgraphs = options.subgraphs();
      sink.onRequest(this::request);
    }

    @Override
    void onOverflow(Consumer<Throwable> handler) {
      this.overflowHandler = handler;
    }

    @Override
    public boolean wants(StreamMode mode, List<String> namespace) {
      return modes.contains(mode) && (subgraphs || namespace.isEmpty());
    }

    @Override
    public Mono<Void> write(StreamMode mode, List<String> namespace, @Nullable Object data) {
      if (!wants(mode, namespace)) {
        return Mono.empty();
      }
      StreamChunk chunk = new StreamChunk(mode, namespace, data);
      return Mono.create(caller -> {
        boolean now;
        Waiter waiter = null;
        synchronized (this) {
          now = waiters.isEmpty() && sent < requested;
          if (now) {
            sent++;
          } else {
            waiter = new Waiter(chunk, caller);
            waiters.add(waiter);
          }
        }
        if (now) {
          sink.next(chunk);
          caller.success();
        } else {
          Waiter registered = waiter;
          caller.onCancel(() -> {
            synchronized (this) {
              waiters.remove(registered);
            }
          });
        }
      });
    }

    @Override
    public void emit(StreamMode mode, List<String> namespace, @Nullable Object data) {
      if (!wants(mode, namespace)) {
        return;
      }
      boolean overflow;
      synchronized (this) {
        if (overflowed) {
          return;
        }
        sent++;
        overflow = sent - requested > EMIT_BUFFER_LIMIT;
        overflowed = overflow;
      }
      if (overflow) {
        overflowHandler.accept(new FluxgraphException("the stream subscriber fell more than " + EMIT_BUFFER_LIMIT
            + " chunks behind StreamWriter.emit; request more, or use StreamWriter.write, which waits for demand"));
        return;
      }
      sink.next(new StreamChunk(mode, namespace, data));
    }

    private void request(long n) {
      List<Waiter> ready = new ArrayList<>();
      synchronized (this) {
        requested = Operators.addCap(requested, n);
        while (!waiters.isEmpty() && sent < requested) {
          ready.add(waiters.poll());
          sent++;
        }
      }
      for (Waiter waiter : ready) {
        sink.next(waiter.chunk);
        waiter.caller.success();
      }
    }

    private record Waiter(StreamChunk chunk, MonoSink<Void> caller) {
    }
  }
}
