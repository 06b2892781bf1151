package dev.fluxgraph.internal;

import com.fasterxml.jackson.databind.JavaType;
import dev.fluxgraph.func.EntrypointContext;
import dev.fluxgraph.func.StreamWriter;
import dev.fluxgraph.store.Store;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.TypeRef;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

/**
 * One execution (one attempt) of an entrypoint body or a task body. It is the {@code TaskContext} user code sees,
 * it counts the task calls and interrupts made in it (which is what makes their ids stable on replay), and it
 * tracks whether everything started in it has finished or paused, so the run can end once all work is paused.
 * A retried attempt gets a fresh scope with the same id.
 */
public final class Scope implements EntrypointContext<Object> {

  private static final Object KEY = Scope.class;

  private final RunLoop run;
  private final @Nullable Scope parent;
  private final String id;
  private final String name;
  private final List<String> namespace;
  private final EntrypointSpec owner;
  private final @Nullable Object previous;
  private final Runnable onPaused;
  private final StreamWriter writer;
  private final StreamWriter messages;

  private final Map<String, Integer> occurrences = new HashMap<>(16);
  private int interrupts;

  // Guarded by the run's lock (RunLoop#settle and friends).
  int activeChildren;
  int pausedChildren;
  boolean selfPaused;
  boolean reportedPaused;
  boolean closed;

  Scope(RunLoop run, @Nullable Scope parent, String id, String name, List<String> namespace, EntrypointSpec owner,
        @Nullable Object previous, Runnable onPaused) {
    this.run = run;
    this.parent = parent;
    this.id = id;
    this.name = name;
    this.namespace = namespace;
    this.owner = owner;
    this.previous = previous;
    this.onPaused = onPaused;
    this.writer = new Writer(StreamMode.CUSTOM);
    this.messages = new Writer(StreamMode.MESSAGES);
  }

  /** The scope of the run this Reactor context belongs to, or null outside a run. */
  public static @Nullable Scope from(ContextView context) {
    return context.getOrDefault(KEY, null);
  }

  /**
   * Runs {@code body} with this scope in its Reactor context; closes the scope when the attempt fails or is
   * cancelled. While the body's publisher is being subscribed (when e.g. {@code Mono.zip} starts its tasks one
   * after the other) the scope counts as busy, so a task that pauses at once cannot make the scope look paused
   * before its siblings have even started.
   */
  Mono<?> enter(ScopeBody body, @Nullable Object input) {
    Mono<?> attempt = Mono.defer(() -> body.run(input, this))
        .contextWrite(context -> context.put(KEY, this))
        .doOnError(error -> run.close(this))
        .doOnCancel(() -> run.close(this));
    return new BusyWhileSubscribing<>(attempt, this);
  }

  /** Counts the scope as busy for the duration of the synchronous subscription of its body. */
  private static final class BusyWhileSubscribing<T> extends Mono<T> {
    private final Mono<T> source;
    private final Scope scope;

    BusyWhileSubscribing(Mono<T> source, Scope scope) {
      this.source = source;
      this.scope = scope;
    }

    @Override
    public void subscribe(reactor.core.CoreSubscriber<? super T> actual) {
      scope.run.busy(scope);
      try {
        source.subscribe(actual);
      } finally {
        scope.run.idle(scope);
      }
    }
  }

  RunLoop run() {
    return run;
  }

  String id() {
    return id;
  }

  String name() {
    return name;
  }

  List<String> namespace() {
    return namespace;
  }

  /** The ids of the scopes from the run's root scope down to this one (what a state view attributes work by). */
  List<String> path() {
    java.util.ArrayDeque<String> ids = new java.util.ArrayDeque<>();
    for (Scope scope = this; scope != null; scope = scope.parent) {
      ids.addFirst(scope.id);
    }
    return List.copyOf(ids);
  }

  EntrypointSpec owner() {
    return owner;
  }

  Runnable onPaused() {
    return onPaused;
  }

  /** How many calls of this task with this input came before, in this scope execution. */
  synchronized int nextOccurrence(String taskName, String inputKey) {
    return occurrences.merge(taskName + '\u0000' + inputKey, 1, Integer::sum) - 1;
  }

  synchronized int nextInterruptIndex() {
    return interrupts++;
  }

  @Override
  public RunConfig config() {
    return run.config();
  }

  @Override
  public StreamWriter writer() {
    return writer;
  }

  @Override
  public StreamWriter messages() {
    return messages;
  }

  @Override
  public Store store() {
    Store store = run.store();
    if (store == null) {
      throw new IllegalStateException("entrypoint '" + run.rootName()
          + "' has no store; configure one with Entrypoint.named(..).store(new InMemoryStore())");
    }
    return store;
  }

  @Override
  public <C> Optional<C> context(Class<C> type) {
    Objects.requireNonNull(type, "type must not be null");
    return run.config().context().filter(type::isInstance).map(type::cast);
  }

  @Override
  public <T> Mono<T> interrupt(Object value, Class<T> resumeType) {
    Objects.requireNonNull(resumeType, "resumeType must not be null");
    return run.interrupt(this, value, Json.type(resumeType));
  }

  @Override
  public <T> Mono<T> interrupt(Object value, TypeRef<T> resumeType) {
    Objects.requireNonNull(resumeType, "resumeType must not be null");
    return run.interrupt(this, value, Json.type(resumeType));
  }

  <T> Mono<T> interrupt(Object value, JavaType resumeType) {
    return run.interrupt(this, value, resumeType);
  }

  @Override
  public Optional<Object> previous() {
    return Optional.ofNullable(previous);
  }

  @Override
  public String toString() {
    return "Scope{" + name + " " + id + "}";
  }

  /** Writes chunks of one mode under this scope's namespace; MESSAGES chunks get their metadata here. */
  private final class Writer implements StreamWriter {
    private final StreamMode mode;

    Writer(StreamMode mode) {
      this.mode = mode;
    }

    @Override
    public void emit(@Nullable Object chunk) {
      if (run.output().wants(mode, namespace)) {
        run.output().emit(mode, namespace, data(chunk));
      }
    }

    @Override
    public Mono<Void> write(@Nullable Object chunk) {
      return Mono.defer(() -> run.output().wants(mode, namespace)
          ? run.output().write(mode, namespace, data(chunk)) : Mono.empty());
    }

    private @Nullable Object data(@Nullable Object chunk) {
      if (mode != StreamMode.MESSAGES) {
        return chunk;
      }
      Map<String, Object> metadata = new java.util.LinkedHashMap<>();
      metadata.put("langgraph_node", name);
      metadata.put("langgraph_checkpoint_ns", String.join("|", namespace));
      run.config().threadId().ifPresent(thread -> metadata.put("thread_id", thread));
      return java.util.Arrays.asList(chunk, metadata);
    }
  }
}
