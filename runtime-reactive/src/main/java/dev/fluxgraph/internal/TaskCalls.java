package dev.fluxgraph.internal;

import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.Scannable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * The entry from the public API into the task-call path: finds the calling scope in the Reactor context and
 * hands the call's outcome back to the caller.
 *
 * <p>Two things here keep a chain of calls ({@code Mono.just(x).flatMap(task::call).flatMap(task::call)...}) as
 * cheap per call as calls made side by side:
 * <ul>
 *   <li>The caller's context is read once per call and kept: in such a chain every call's subscriber sits on top of
 *       the previous calls' operators, so each context read walks the whole chain below it (Reactor's operators
 *       delegate {@code currentContext()} to their subscriber, and {@code then(Mono.empty())} reads it for every
 *       step). The call path below reads it from here in one step.</li>
 *   <li>The outcome is delivered on a trampoline. A call that completes synchronously would otherwise hand its
 *       value to the caller from deep inside its own subscription, so the next call of the chain starts on top of
 *       the previous one's stack frames (about fifty per call; a chain of 150 calls overflowed the default thread
 *       stack). An outcome that arrives on a thread already delivering an outcome of the same run is queued
 *       instead, and delivered by that outer delivery once it returns, on the same thread, in order. Until then
 *       the calling scope counts as busy, as it would while its continuation ran, so pause detection sees the same
 *       thing in both cases. Outcomes of other runs, and the first on a thread, are delivered at once.</li>
 * </ul>
 */
public final class TaskCalls {

  /** The trampoline of the delivery this thread is making; one of another run's, around it, is restored after. */
  private static final ThreadLocal<@Nullable Trampoline> DELIVERING = new ThreadLocal<>();

  private TaskCalls() {
  }

  /** A cold call of {@code spec}; errors with {@link IllegalStateException} outside a run. */
  public static <O> Mono<O> call(TaskSpec spec, @Nullable Object input) {
    return Call.of(spec, input);
  }

  /**
   * A subgraph node's call of its nested graph or entrypoint {@code spec} (named after the node), from the node's
   * body: its id derives from the node's task id alone ({@link GraphLoop#subgraphId}), so the nested run's checkpoint
   * namespace is known before it runs. Errors with {@link IllegalStateException} outside a run.
   */
  public static <O> Mono<O> callSubgraph(TaskSpec spec, @Nullable Object input) {
    return Call.of(spec, input, true);
  }

  /** The call as a {@code Mono}: one subscription is one call. */
  private static final class Call<O> extends Mono<O> {
    private final TaskSpec spec;
    private final @Nullable Object input;
    private final boolean subgraph;

    private Call(TaskSpec spec, @Nullable Object input, boolean subgraph) {
      this.spec = spec;
      this.input = input;
      this.subgraph = subgraph;
    }

    static <O> Mono<O> of(TaskSpec spec, @Nullable Object input) {
      return of(spec, input, false);
    }

    static <O> Mono<O> of(TaskSpec spec, @Nullable Object input, boolean subgraph) {
      return onAssembly(new Call<>(spec, input, subgraph));
    }

    @Override
    public void subscribe(CoreSubscriber<? super O> actual) {
      Context context = actual.currentContext();
      Scope parent = Scope.from(context);
      if (parent == null) {
        Operators.error(actual, new IllegalStateException("'" + spec.name() + "' was called outside a running "
            + "entrypoint; call it from an entrypoint or task body (or a publisher they subscribe to), and do not "
            + "detach it with subscribe()"));
        return;
      }
      Mono<O> call = subgraph ? TaskCall.call(parent, spec, input, GraphLoop.subgraphId(parent.id(), spec.name()))
          : TaskCall.call(parent, spec, input);
      call.subscribe(new Delivery<>(actual, context, parent));
    }
  }

  /** Passes the call's signals to the caller, the terminal one through the thread's trampoline. */
  private static final class Delivery<O> implements CoreSubscriber<O>, Subscription, Scannable {
    private final CoreSubscriber<? super O> actual;
    private final Context context;
    private final Scope parent;
    private @Nullable Subscription upstream;
    private boolean done;
    private volatile boolean cancelled;

    Delivery(CoreSubscriber<? super O> actual, Context context, Scope parent) {
      this.actual = actual;
      this.context = context;
      this.parent = parent;
    }

    @Override
    public Context currentContext() {
      return context;
    }

    @Override
    public void onSubscribe(Subscription subscription) {
      if (Operators.validate(upstream, subscription)) {
        upstream = subscription;
        actual.onSubscribe(this);
      }
    }

    // A Mono's value is its outcome: it is delivered with the completion, which then needs no delivery of its own.
    @Override
    public void onNext(O value) {
      if (done) {
        Operators.onNextDropped(value, context);
        return;
      }
      done = true;
      deliver(() -> {
        actual.onNext(value);
        actual.onComplete();
      });
    }

    @Override
    public void onError(Throwable error) {
      if (done) {
        Operators.onErrorDropped(error, context);
        return;
      }
      done = true;
      deliver(() -> actual.onError(error));
    }

    @Override
    public void onComplete() {
      if (done) {
        return;
      }
      done = true;
      deliver(actual::onComplete);
    }

    private void deliver(Runnable signal) {
      RunLoop run = parent.run();
      Trampoline current = DELIVERING.get();
      if (current != null && current.run == run) {
        run.busy(parent); // the caller's continuation is pending: the scope is not paused meanwhile
        current.queue.add(new Pending(this, signal, true));
        return;
      }
      Trampoline trampoline = new Trampoline(run);
      trampoline.queue.add(new Pending(this, signal, false));
      DELIVERING.set(trampoline);
      try {
        trampoline.drain();
      } finally {
        DELIVERING.set(current);
      }
    }

    @Override
    public void request(long n) {
      Subscription subscription = upstream;
      if (subscription != null) {
        subscription.request(n);
      }
    }

    @Override
    public void cancel() {
      cancelled = true;
      Subscription subscription = upstream;
      if (subscription != null) {
        subscription.cancel();
      }
    }

    @Override
    @SuppressWarnings("rawtypes") // Scannable declares the raw type
    public @Nullable Object scanUnsafe(Attr key) {
      if (key == Attr.PARENT) {
        return upstream;
      }
      if (key == Attr.ACTUAL) {
        return actual;
      }
      if (key == Attr.CANCELLED) {
        return cancelled;
      }
      if (key == Attr.TERMINATED) {
        return done;
      }
      if (key == Attr.RUN_STYLE) {
        return Attr.RunStyle.SYNC;
      }
      return null;
    }
  }

  /** An outcome waiting for the outer delivery on its thread to return. */
  private record Pending(Delivery<?> delivery, Runnable signal, boolean countedBusy) {
  }

  /** One thread's queue of outcomes of one run; only that thread touches it. */
  private static final class Trampoline {
    private final RunLoop run;
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();

    Trampoline(RunLoop run) {
      this.run = run;
    }

    /**
     * Delivers the queued outcomes (the first is the outer delivery's own), including those queued meanwhile. A signal that throws (a fatal error in the
     * caller's code) does not strand the ones after it: they are still delivered and their scopes released; the
     * first throwable is rethrown at the end.
     */
    void drain() {
      Throwable thrown = null;
      Pending next;
      while ((next = queue.poll()) != null) {
        Delivery<?> delivery = next.delivery();
        try {
          if (!delivery.cancelled) {
            next.signal().run();
          }
        } catch (Throwable error) {
          if (thrown == null) {
            thrown = error;
          } else {
            thrown.addSuppressed(error);
          }
        } finally {
          if (next.countedBusy()) {
            run.idle(delivery.parent);
          }
        }
      }
      if (thrown instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (thrown instanceof Error error) {
        throw error;
      }
      if (thrown != null) {
        throw new IllegalStateException(thrown);
      }
    }
  }
}
