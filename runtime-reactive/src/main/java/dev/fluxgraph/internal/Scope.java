package dev.fluxgraph.internal;

import com.fasterxml.jackson.databind.JavaType;
import dev.fluxgraph.func.EntrypointContext;
import dev.fluxgraph.func.StreamWriter;
import dev.fluxgraph.instrument.RunObserver;
import dev.fluxgraph.instrument.ScopeObserver;
import dev.fluxgraph.instrument.TaskObserver;
import dev.fluxgraph.messages.Message;
import dev.fluxgraph.store.Store;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.TypeRef;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;
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
  private final String id;
  private final String name;
  private final List<String> namespace;
  private final EntrypointSpec owner;
  private final @Nullable Object previous;
  private final @Nullable TaskCall call;
  private final StreamWriter writer;
  private final StreamWriter messages;

  private final Map<OccurrenceKey, Integer> occurrences = new HashMap<>(16);
  private int interrupts;
  private volatile int remainingSteps = -1; // Graph API: set in a node's scope; -1: none (ask the caller)

  // Guarded by the run's lock (RunLoop#settle and friends).
  int activeChildren;
  int pausedChildren;
  boolean selfPaused;
  boolean reportedPaused;
  boolean closed;
  /** User code here stopped waiting for a paused call or interrupt (a timeout, say): see RunLoop#abandoned. */
  boolean frozen;
  private @Nullable Set<Throwable> failures; // errors of failed child calls, by identity

  Scope(RunLoop run, String id, String name, List<String> namespace, EntrypointSpec owner,
        @Nullable Object previous, @Nullable TaskCall call) {
    this.run = run;
    this.id = id;
    this.name = name;
    this.namespace = namespace;
    this.owner = owner;
    this.previous = previous;
    this.call = call;
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
   * before its siblings have even started. The end of a frozen scope's body is held back (RunLoop#holdsEnd): the
   * scope stays paused.
   */
  Mono<?> enter(ScopeBody body, @Nullable Object input) {
    return new Attempt(body, input);
  }

  /** One subscription = one execution of the body in this scope. */
  private final class Attempt extends Mono<Object> {
    private final ScopeBody body;
    private final @Nullable Object input;

    Attempt(ScopeBody body, @Nullable Object input) {
      this.body = body;
      this.input = input;
    }

    @Override
    public void subscribe(CoreSubscriber<? super Object> actual) {
      ScopeObserver observer = observer();
      if (noop(observer)) {
        subscribeBody(actual);
      } else {
        observer.inScope(() -> subscribeBody(actual));
      }
    }

    private void subscribeBody(CoreSubscriber<? super Object> actual) {
      AttemptSubscriber subscriber = new AttemptSubscriber(actual);
      run.busy(Scope.this);
      try {
        Mono<?> source;
        try {
          source = Objects.requireNonNull(body.run(input, Scope.this), "the body returned a null Mono");
        } catch (Throwable error) {
          source = Mono.error(error);
        }
        source.subscribe(subscriber);
      } finally {
        run.idle(Scope.this);
      }
    }
  }

  /** Puts the scope into the context; closes it on error or cancel; holds back the end of a frozen body. */
  private final class AttemptSubscriber implements CoreSubscriber<Object>, Subscription {
    private final CoreSubscriber<? super Object> actual;
    private final Context context;
    private @Nullable Subscription upstream;
    private boolean held;

    AttemptSubscriber(CoreSubscriber<? super Object> actual) {
      this.actual = actual;
      this.context = observer().contextOf(actual.currentContext().put(KEY, Scope.this));
    }

    @Override
    public Context currentContext() {
      return context;
    }

    @Override
    public void onSubscribe(Subscription subscription) {
      upstream = subscription;
      actual.onSubscribe(this);
    }

    @Override
    public void onNext(Object value) {
      if (held || (held = run.holdsEnd(Scope.this, null))) {
        return;
      }
      actual.onNext(value);
    }

    @Override
    public void onError(Throwable error) {
      if (held || (held = run.holdsEnd(Scope.this, error))) {
        return;
      }
      run.close(Scope.this);
      actual.onError(error);
    }

    @Override
    public void onComplete() {
      if (held || (held = run.holdsEnd(Scope.this, null))) {
        return;
      }
      actual.onComplete();
    }

    @Override
    public void request(long n) {
      Subscription subscription = Objects.requireNonNull(upstream);
      ScopeObserver observer = observer();
      if (noop(observer)) {
        subscription.request(n);
      } else {
        observer.inScope(() -> subscription.request(n));
      }
    }

    @Override
    public void cancel() {
      run.close(Scope.this); // first, so that what the cancel reaches inside knows the engine is ending the scope
      Objects.requireNonNull(upstream).cancel();
    }
  }

  /** Records that a child call failed with {@code error}; guarded by the run's lock. */
  void failedWith(Throwable error) {
    if (failures == null) {
      failures = Collections.newSetFromMap(new IdentityHashMap<>());
    }
    failures.add(error);
  }

  /** Whether {@code error} is the failure of a child call (not, say, a user timeout); guarded by the run's lock. */
  boolean childFailed(Throwable error) {
    return failures != null && failures.contains(error);
  }

  /** The call whose body runs in this scope, or null for the run's root scope. */
  @Nullable TaskCall call() {
    return call;
  }

  private static boolean noop(ScopeObserver observer) {
    return observer == RunObserver.NOOP || observer == TaskObserver.NOOP;
  }

  /** What code in this scope reports to: its call's observer, or the run's for the root scope. */
  ScopeObserver observer() {
    return call == null ? run.observer() : call.observer();
  }

  /** Whether this scope runs a graph's superstep loop (its calls are the graph's nodes). */
  boolean runsGraph() {
    return owner.graph() != null && (call == null || call.nested());
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
    ArrayDeque<String> ids = new ArrayDeque<>();
    for (Scope scope = this; scope != null; scope = scope.call == null ? null : scope.call.parent()) {
      ids.addFirst(scope.id);
    }
    return List.copyOf(ids);
  }

  EntrypointSpec owner() {
    return owner;
  }

  /** How many calls of this task with this input came before, in this scope execution. */
  synchronized int nextOccurrence(String taskName, String inputKey) {
    return occurrences.merge(new OccurrenceKey(taskName, inputKey), 1, Integer::sum) - 1;
  }

  /** (task name, input digest): both strings cache their hashes, so a lookup hashes nothing anew. */
  private record OccurrenceKey(String taskName, String inputKey) {
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
    Optional<Object> context = run.config().context();
    if (context.isEmpty() || type.isInstance(context.get())) {
      return context.map(type::cast);
    }
    JavaType declared = declaredContext();
    if (declared == null || declared.getRawClass() != type || !(context.get() instanceof Map<?, ?>)) {
      return Optional.empty();
    }
    // the graph declared this type (StateGraph.withContext): a plain context (e.g. a server run's JSON) is read as
    // it, as the reference coerces a run's context into its context_schema
    Object value = Json.fromTree(Json.toTree(context.get(), () -> "the run context"), declared,
        () -> "the run context as " + type.getSimpleName() + ", the type graph '" + owner.name() + "' declares");
    return Optional.ofNullable(value).map(type::cast);
  }

  /** The run context's type the nearest graph around this scope declares, or null. */
  private @Nullable JavaType declaredContext() {
    for (Scope scope = this; scope != null; scope = scope.call == null ? null : scope.call.parent()) {
      GraphDefinition graph = scope.owner.graph();
      if (graph != null && graph.schemas().contextType() != null) {
        return graph.schemas().contextType();
      }
    }
    return null;
  }

  @Override
  public void attribute(String key, String value) {
    Objects.requireNonNull(key, "key must not be null");
    Objects.requireNonNull(value, "value must not be null");
    observer().attribute(key, value);
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

  /** Graph API: this scope runs a node with {@code steps} supersteps left (see {@code remainingSteps()}). */
  void remainingSteps(int steps) {
    remainingSteps = steps;
  }

  @Override
  public OptionalInt remainingSteps() {
    for (Scope scope = this; scope != null; scope = scope.call == null || scope.call.nested() ? null
        : scope.call.parent()) {
      if (scope.remainingSteps >= 0) {
        return OptionalInt.of(scope.remainingSteps);
      }
    }
    return OptionalInt.empty();
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
      Object id = chunk instanceof Message message ? message.id() : chunk instanceof Map<?, ?> map ? map.get("id") : null;
      if (id != null) {
        run.messageStreamed(id); // a node writing the whole message later does not show it again
      }
      Map<String, Object> metadata = new LinkedHashMap<>();
      metadata.put("langgraph_node", name);
      metadata.put("langgraph_checkpoint_ns", String.join("|", namespace));
      run.config().threadId().ifPresent(thread -> metadata.put("thread_id", thread));
      return Arrays.asList(chunk, metadata);
    }
  }
}
