package dev.fluxgraph.internal;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.cache.Cache;
import dev.fluxgraph.checkpoint.Checkpoint;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.CheckpointTuple;
import dev.fluxgraph.checkpoint.PendingWrite;
import dev.fluxgraph.errors.EmptyInputException;
import dev.fluxgraph.errors.InvalidCommandException;
import dev.fluxgraph.func.Final;
import dev.fluxgraph.instrument.CheckpointWrite;
import dev.fluxgraph.instrument.RunObserver;
import dev.fluxgraph.instrument.RunOutcome;
import dev.fluxgraph.store.Store;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.Durability;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.Interrupt;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamMode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.util.context.ContextView;

/**
 * One run of an entrypoint on a thread: the engine. {@link #run} resolves where the run starts (new input, a
 * resume, a continuation, a fork), saves the checkpoint it starts from, executes the body in the root
 * {@link Scope} under the entrypoint's timeout and retry policies, and ends in exactly one of three ways:
 * <ul>
 *   <li><b>completed</b>: writes are flushed, a loop checkpoint is saved, the final chunks are emitted;</li>
 *   <li><b>paused</b>: every scope is either finished or paused on interrupts, so the body is cancelled, writes
 *       are flushed and the interrupts are reported;</li>
 *   <li><b>failed</b>: the error is recorded, writes are flushed, the error is propagated.</li>
 * </ul>
 * Task calls go through {@link TaskCall}; the checkpoint layout lives in {@link CheckpointFormat}.
 */
public final class RunLoop {

  private static final Object PAUSED = new Object();

  private final EntrypointSpec spec;
  private final RunConfig config;
  private final Output output;
  private final Durability durability;
  private final Scheduler scheduler;
  private final @Nullable CheckpointSaver saver;
  private final RunObserver observer; // RunObserver.NOOP unless an instrumentation is installed
  private volatile boolean pausedRun; // the run ended as paused (for the observer's outcome)
  private final Object lock = new Object();
  private final Sinks.One<Object> halted = Sinks.one();
  private final Map<String, RaisedInterrupts> raised = new LinkedHashMap<>(); // guarded by lock
  private final Set<Object> streamedMessages = ConcurrentHashMap.newKeySet(); // ids the messages stream showed
  private boolean stopping; // guarded by lock: the root scope paused, so no task starts any more
  private final Set<Runnable> detached = new HashSet<>(); // guarded by lock: cancels of calls running detached
  private WriteLog writes;
  private volatile @Nullable Scope rootScope; // the current attempt's
  private volatile @Nullable String rootTaskId; // the root call's id (a graph's is not one of its tasks)
  private volatile boolean resumedInPlace; // the run continues its thread's checkpoint as it is, saving none first
  private volatile @Nullable Object stoppedAt; // Graph API: the breakpoint a root run stopped at
  /** Graph API: what a root graph run returns if it pauses at breakpoints of nested graphs only. */
  private volatile @Nullable Supplier<@Nullable Object> pausedState;
  private volatile @Nullable Throwable failure;

  private RunLoop(EntrypointSpec spec, RunConfig config, Output output, ContextView context) {
    this.spec = spec;
    this.config = config;
    this.output = output;
    this.durability = config.durability().orElse(spec.durability());
    this.scheduler = spec.scheduler().get();
    this.saver = spec.checkpointer();
    this.observer = Objects.requireNonNull(spec.instrumentation().runStarted(spec.name(), config, context),
        "the instrumentation returned a null RunObserver");
  }

  /**
   * The cold run: {@code input} is a new input, a {@link Command}, or null (same as {@link Command#proceed()}).
   * Chunks go to {@code output}. Completes with the value or the interrupts; errors with the body's failure.
   */
  public static Mono<GraphOutput<Object>> run(EntrypointSpec spec, @Nullable Object input, RunConfig config,
                                              Output output) {
    return Mono.deferContextual(context -> {
      RunLoop loop = new RunLoop(spec, config, output, context);
      Mono<GraphOutput<Object>> run = loop.prepare(input).flatMap(loop::execute);
      return loop.observer == RunObserver.NOOP ? run : loop.observed(run);
    });
  }

  /** The run, reporting how it ended to the observer: once, whichever of success, error or cancel comes. */
  private Mono<GraphOutput<Object>> observed(Mono<GraphOutput<Object>> run) {
    AtomicBoolean ended = new AtomicBoolean();
    return run
        .doOnSuccess(result -> {
          if (ended.compareAndSet(false, true)) {
            observer.runEnded(pausedRun ? RunOutcome.INTERRUPTED : RunOutcome.COMPLETED, null);
          }
        })
        .doOnError(error -> {
          if (ended.compareAndSet(false, true)) {
            observer.runEnded(RunOutcome.ERROR, error);
          }
        })
        .doFinally(signal -> { // after the cancel reached the tasks, so that they end before the run
          if (signal == SignalType.CANCEL && ended.compareAndSet(false, true)) {
            observer.runEnded(RunOutcome.CANCELLED, null);
          }
        });
  }

  // ---------------------------------------------------------------- where the run starts

  /** Where a run starts: the checkpoint its writes attach to, what must be saved first, input and previous. */
  private record Start(Checkpoint base, List<Checkpoint> toSave, List<PendingWrite> known, List<PendingWrite> added,
                       @Nullable Object input, @Nullable Object previous, @Nullable JsonNode completedValue) {
  }

  private Mono<Start> prepare(@Nullable Object input) {
    if (saver != null && config.threadId().isEmpty()) {
      return Mono.error(new IllegalArgumentException("entrypoint '" + spec.name() + "' has a checkpointer, so the "
          + "RunConfig needs a thread id: use RunConfig.thread(\"<id>\")"));
    }
    if (input instanceof Command command) {
      return resume(command);
    }
    if (input == null) {
      return resume(Command.proceed());
    }
    if (spec.graph() != null) {
      GraphLoop.checkInput(spec, input); // refused before anything is saved
    }
    JsonNode inputJson = Json.toTree(input, () -> "the input of entrypoint '" + spec.name() + "'");
    if (saver == null) {
      Checkpoint detached = CheckpointFormat.input("", null, inputJson, config.metadata(), spec.clock());
      return Mono.just(new Start(detached, List.of(), List.of(), List.of(), input, null, null));
    }
    String threadId = config.threadId().orElseThrow();
    return load(threadId, config.checkpointId().orElse(null))
        .map(Optional::of)
        .defaultIfEmpty(Optional.empty())
        .map(parent -> {
          Checkpoint parentCheckpoint = parent.map(CheckpointTuple::checkpoint).orElse(null);
          Checkpoint checkpoint = CheckpointFormat.input(threadId, parentCheckpoint, inputJson, config.metadata(),
              spec.clock());
          return new Start(checkpoint, List.of(checkpoint), List.of(), List.of(), input,
              previousOf(parentCheckpoint), null);
        });
  }

  private Mono<Start> resume(Command command) {
    if (spec.graph() == null && steers(command)) {
      return Mono.error(new InvalidCommandException("Command.goTo/update apply to graphs; entrypoint '" + spec.name()
          + "' accepts only resume, resumeById and proceed"));
    }
    if (command.forParent()) {
      return Mono.error(new InvalidCommandException("Command.toParent() is for a node inside a subgraph to return; "
          + "as the input of a run, send the Command without toParent()"));
    }
    if (saver == null) {
      return Mono.error(new InvalidCommandException("entrypoint '" + spec.name() + "' has no checkpointer, so there "
          + "is no paused or failed run to " + (command.kind() == Command.Kind.PROCEED ? "continue" : "resume")
          + "; configure one with Entrypoint.named(..).checkpointer(...) or pass a new input"));
    }
    CheckpointSaver checkpoints = saver;
    String threadId = config.threadId().orElseThrow();
    return load(threadId, null).map(Optional::of).defaultIfEmpty(Optional.empty()).flatMap(latest -> {
      Mono<CheckpointTuple> target = config.checkpointId().isEmpty() ? Mono.justOrEmpty(latest)
          : load(threadId, config.checkpointId().get());
      return target
          .switchIfEmpty(Mono.error(() -> new EmptyInputException("thread '" + threadId + "' has no checkpoint to "
              + (command.kind() == Command.Kind.PROCEED ? "continue" : "resume") + "; start it with an input")))
          .flatMap(tuple -> resumeFrom(checkpoints, command, tuple,
              latest.map(l -> l.checkpoint().id()).orElse(null)));
    });
  }

  private Mono<Start> resumeFrom(CheckpointSaver checkpoints, Command command, CheckpointTuple tuple,
                                 @Nullable String latestId) {
    Checkpoint checkpoint = tuple.checkpoint();
    boolean steering = steers(command); // graphs only: see resume()
    if (!CheckpointFormat.pending(checkpoint)) {
      if (command.kind() != Command.Kind.PROCEED) {
        return Mono.error(new InvalidCommandException("nothing to resume on thread '" + checkpoint.threadId()
            + "': its last run completed and no interrupt is pending"));
      }
      if (steering) { // a finished graph thread: apply the update, run the goTo node (if any) from there
        Checkpoint steered = GraphLoop.steer(spec, checkpoint, command, config.metadata());
        return Mono.just(new Start(steered, List.of(steered), List.of(), List.of(), null, null, null));
      }
      JsonNode end = spec.graph() == null ? checkpoint.values().get(CheckpointFormat.END)
          : checkpoint.values().containsKey(CheckpointFormat.STATE)
          ? GraphLoop.output(spec.graph(), checkpoint.values().get(CheckpointFormat.STATE)) : null;
      return Mono.just(new Start(checkpoint, List.of(), List.of(), List.of(), null, null,
          end == null ? com.fasterxml.jackson.databind.node.NullNode.getInstance() : end));
    }
    boolean fork = latestId != null && !latestId.equals(checkpoint.id());
    List<Interrupt> pending = CheckpointFormat.pendingInterrupts(tuple.writes());
    if (fork && pending.isEmpty()) {
      // Travelling back to a paused point whose interrupts were answered since: they may be answered anew.
      pending = CheckpointFormat.recordedInterrupts(tuple.writes());
    }
    List<PendingWrite> answers = new ArrayList<>();
    switch (command.kind()) {
      case RESUME -> {
        if (pending.isEmpty()) {
          return Mono.error(new InvalidCommandException("nothing to resume on thread '" + checkpoint.threadId()
              + "': no interrupt is pending (use Command.proceed() to continue a failed run)"));
        }
        if (pending.size() > 1) {
          return Mono.error(new InvalidCommandException("Command.resume(value) is ambiguous: " + pending.size()
              + " interrupts are pending on thread '" + checkpoint.threadId() + "' (ids "
              + pending.stream().map(Interrupt::id).collect(Collectors.joining(", "))
              + "); answer them with Command.resumeById(Map.of(id, value, ...))"));
        }
        answers.add(answer(tuple, pending.get(0).id(), command.resume()));
      }
      case RESUME_BY_ID -> {
        Set<String> ids = (fork ? CheckpointFormat.recordedInterrupts(tuple.writes()) : pending).stream()
            .map(Interrupt::id).collect(Collectors.toSet());
        for (Map.Entry<String, Object> entry : command.resumeById().entrySet()) {
          if (!ids.contains(entry.getKey())) {
            return Mono.error(new InvalidCommandException("interrupt '" + entry.getKey() + "' is not pending on "
                + "thread '" + checkpoint.threadId() + "'; pending: " + ids));
          }
          answers.add(answer(tuple, entry.getKey(), entry.getValue()));
        }
      }
      case PROCEED -> {
        // continue as is: succeeded tasks replay, failed and cancelled ones run again
      }
    }
    // breakpoints of nested graphs are passed by any continuation, as a root graph's own are
    for (String breakpoint : CheckpointFormat.pendingBreakpoints(tuple.writes())) {
      answers.add(answer(tuple, breakpoint, Boolean.TRUE));
    }
    JsonNode savedInput = checkpoint.values().get(CheckpointFormat.START);
    Object input = savedInput == null ? null : Json.fromTree(savedInput, spec.input(),
        () -> "the input saved in checkpoint " + checkpoint.id() + " of thread '" + checkpoint.threadId() + "'");
    Object previous = previousOf(checkpoint);
    if (steering) {
      // Command.update/goTo on a graph: a new checkpoint after this one, with the update applied and the goTo node
      // added to the next ones, carrying the run's writes (node ids stay), as a fork does when it is one
      Checkpoint steered = GraphLoop.steer(spec, checkpoint, command, config.metadata());
      Set<String> answered = answers.stream().map(PendingWrite::taskId).collect(Collectors.toSet());
      List<PendingWrite> carried = new ArrayList<>(answers);
      for (PendingWrite write : tuple.writes()) {
        boolean replaced = write.channel().equals(PendingWrite.RESUME) && answered.contains(write.taskId());
        boolean rerun = fork && CheckpointFormat.rerunInGraphFork(write);
        if (!replaced && !rerun) {
          carried.add(write);
        }
      }
      return Mono.just(new Start(steered, List.of(steered), List.of(), carried, input, previous, null));
    }
    if (!fork) {
      return Mono.just(new Start(checkpoint, List.of(), tuple.writes(), answers, input, previous, null));
    }
    // Continuing from an older checkpoint forks the thread: copy the pending run (new answers replacing old
    // ones), then continue the copy. Tasks whose input changes get new ids, so they run again. A graph's nodes
    // keep their ids, so only interrupts and answers are copied: the superstep runs again from that point.
    Checkpoint forked = CheckpointFormat.fork(checkpoint, config.metadata(), spec.clock());
    Set<String> answered = answers.stream().map(PendingWrite::taskId).collect(Collectors.toSet());
    List<PendingWrite> copied = new ArrayList<>(answers);
    for (PendingWrite write : tuple.writes()) {
      boolean replaced = write.channel().equals(PendingWrite.RESUME) && answered.contains(write.taskId());
      boolean rerun = spec.graph() != null && CheckpointFormat.rerunInGraphFork(write);
      if (!replaced && !rerun) {
        copied.add(write);
      }
    }
    return Mono.just(new Start(forked, List.of(forked), List.of(), copied, input, previous, null));
  }

  /** Whether a command moves a graph (goTo, Sends or an update) besides answering interrupts. */
  private static boolean steers(Command command) {
    return command.goTo() != null || !command.sends().isEmpty() || !command.update().isEmpty();
  }

  private PendingWrite answer(CheckpointTuple tuple, String interruptId, @Nullable Object value) {
    String scopeName = tuple.writes().stream()
        .filter(w -> w.taskId().equals(interruptId) && w.channel().equals(PendingWrite.INTERRUPT))
        .map(PendingWrite::taskName).findFirst().orElse(spec.name());
    return new PendingWrite(interruptId, scopeName, PendingWrite.RESUME,
        Json.toTree(value, () -> "the resume value for interrupt " + interruptId));
  }

  private Mono<CheckpointTuple> load(String threadId, @Nullable String checkpointId) {
    Mono<CheckpointTuple> found = saver == null ? Mono.empty()
        : saver.get(threadId, CheckpointFormat.ROOT_NAMESPACE, checkpointId);
    return checkpointId == null ? found : found.switchIfEmpty(Mono.error(() -> new IllegalArgumentException(
        "checkpoint " + checkpointId + " not found on thread '" + threadId + "'")));
  }

  private @Nullable Object previousOf(@Nullable Checkpoint checkpoint) {
    JsonNode previous = checkpoint == null ? null : checkpoint.values().get(CheckpointFormat.PREVIOUS);
    return previous == null ? null : Json.fromTree(previous, spec.saved(),
        () -> "the saved value (previous) in checkpoint " + checkpoint.id() + " of thread '"
            + checkpoint.threadId() + "'");
  }

  // ---------------------------------------------------------------- the run

  private Mono<GraphOutput<Object>> execute(Start start) {
    Checkpoint base = start.base();
    writes = new WriteLog(saver, durability, base, start.known(), observer);
    if (start.completedValue() != null) {
      Object value = Json.fromTree(start.completedValue(), spec.output(), () -> "the value saved in checkpoint "
          + base.id() + " of thread '" + base.threadId() + "'");
      return emitValues(List.of(), value).thenReturn(new GraphOutput<>(value, List.of()));
    }
    String rootId = Ids.derive(CheckpointFormat.runId(base), CheckpointFormat.ROOT_NAMESPACE, spec.name());
    rootTaskId = rootId;
    resumedInPlace = start.toSave().isEmpty();
    output.onOverflow(error -> {
      failure = error;
      halted.tryEmitValue(error);
    });
    Mono<Void> begin = writes.begin(start.toSave(), start.added())
        .then(emitSaved(start.toSave(), rootId))
        .then(emitTaskStart(List.of(), rootId, spec.name(), start.input(), false));
    Mono<?> attempt = Mono.defer(() -> {
      Scope root = newScope(rootId, spec.name(), List.of(), spec, start.previous(), null);
      rootScope = root;
      return root.enter(spec.body(), start.input());
    });
    Mono<Object> body = Policies.retry(Policies.timeout(attempt, spec.name(), spec.timeout(), scheduler,
            () -> false), spec.retry(), scheduler, observer)
        .<Object>map(TaskCall.Result::new)
        .defaultIfEmpty(TaskCall.Result.EMPTY);
    Mono<Object> stopped = halted.asMono().flatMap(signal -> signal instanceof Throwable error
        ? Mono.error(error) : Mono.just(signal));
    return begin
        .then(Mono.firstWithSignal(body, stopped))
        .flatMap(outcome -> failure != null ? Mono.error(failure)
            : outcome == PAUSED ? pause() : complete(rootId, ((TaskCall.Result) outcome).value()))
        .onErrorResume(error -> fail(rootId, error))
        .doOnCancel(() -> writes.flush().subscribe(null, error -> { /* the subscriber is gone */ }))
        .doFinally(signal -> cancelDetached());
  }

  private Mono<GraphOutput<Object>> complete(String rootId, @Nullable Object returned) {
    if (spec.graph() != null) { // the superstep loop saved the final checkpoint and streamed the state
      return writes.flush()
          .then(emitTaskEnd(List.of(), rootId, spec.name(), returned, null, List.of()))
          .thenReturn(new GraphOutput<>(returned, List.of()));
    }
    Object value = returned;
    Object save = returned;
    if (spec.finalValue() && returned instanceof Final<?, ?> result) {
      value = result.value();
      save = result.save();
    }
    Object finalValue = value;
    JsonNode valueJson = Json.toTree(value, () -> "the return value of entrypoint '" + spec.name() + "'");
    JsonNode saveJson = save == value ? valueJson
        : Json.toTree(save, () -> "the saved value (Final.save) of entrypoint '" + spec.name() + "'");
    Mono<Void> saved = Mono.empty();
    Mono<Void> announced = Mono.empty();
    if (saver != null) {
      Checkpoint loop = CheckpointFormat.loop(writes.base(), valueJson, saveJson, config.metadata(), spec.clock());
      saved = writes.timed(saver.put(loop), CheckpointWrite.CHECKPOINT); // after the flush: a completed run's
      // writes are durable before its loop checkpoint
      announced = emitCheckpoint(loop, finalValue, List.of(), List.of());
    }
    return writes.flush()
        .then(saved)
        .then(emitTaskEnd(List.of(), rootId, spec.name(), finalValue, null, List.of()))
        .then(announced)
        .then(emitUpdate(List.of(), spec.name(), finalValue, false))
        .then(emitValues(List.of(), finalValue))
        .thenReturn(new GraphOutput<>(finalValue, List.of()));
  }

  private Mono<GraphOutput<Object>> pause() {
    pausedRun = true;
    if (stoppedAt instanceof GraphLoop.Breakpoint breakpoint) { // interruptBefore/After: no interrupt to answer
      return writes.flush()
          .then(breakpointChunks())
          .thenReturn(new GraphOutput<>(breakpoint.state(), List.of()));
    }
    List<Interrupt> interrupts = new ArrayList<>();
    List<RaisedInterrupts> byScope;
    synchronized (lock) {
      byScope = List.copyOf(raised.values());
    }
    if (byScope.isEmpty()) { // paused at breakpoints of nested graphs only: shown as a breakpoint of this run is
      Supplier<@Nullable Object> state = pausedState;
      return writes.flush()
          .then(breakpointChunks())
          .then(Mono.fromCallable(() -> new GraphOutput<>(state == null ? null : state.get(), List.<Interrupt>of())));
    }
    Mono<Void> ends = Mono.empty();
    for (RaisedInterrupts scope : byScope) {
      interrupts.addAll(scope.interrupts());
      ends = ends.then(emitTaskEnd(scope.namespace(), scope.scopeId(), scope.name(), null, null, scope.interrupts()));
    }
    Map<String, Object> pausedChunk = Map.of("__interrupt__", List.copyOf(interrupts));
    return writes.flush()
        .then(ends)
        .then(output.write(StreamMode.UPDATES, List.of(), pausedChunk))
        .then(output.write(StreamMode.VALUES, List.of(), pausedChunk))
        .thenReturn(new GraphOutput<>(null, interrupts));
  }

  /**
   * The chunks of a pause at breakpoints: an interrupt without interrupts, in {@code updates} and in {@code values}
   * (as for a pause on interrupts, and as the reference's loop emits it), so the last values chunk of a paused run
   * says it paused. The run still returns its state so far (see {@link GraphLoop.Breakpoint}).
   */
  private Mono<Void> breakpointChunks() {
    Map<String, Object> chunk = Map.of("__interrupt__", List.of());
    return output.write(StreamMode.UPDATES, List.of(), chunk).then(output.write(StreamMode.VALUES, List.of(), chunk));
  }

  private Mono<GraphOutput<Object>> fail(String rootId, Throwable error) {
    return writes.record(new PendingWrite(rootId, spec.name(), PendingWrite.ERROR, CheckpointFormat.errorValue(error)))
        .then(writes.flush())
        .onErrorResume(flushError -> {
          error.addSuppressed(flushError);
          return Mono.empty();
        })
        .then(emitTaskEnd(List.of(), rootId, spec.name(), null, error, List.of()))
        .then(Mono.error(error));
  }

  // ---------------------------------------------------------------- Graph API: supersteps

  /** Whether {@code scope} is the root scope of this run (a graph there checkpoints its supersteps). */
  boolean isRoot(Scope scope) {
    return scope == rootScope;
  }

  /** Saves a graph checkpoint after a superstep, makes it the base of later writes and announces it. */
  Mono<Void> advance(Checkpoint checkpoint, @Nullable Object state, List<String> next,
                     List<Map<String, Object>> tasks) {
    return writes.moveTo(checkpoint, List.of()).then(emitCheckpoint(checkpoint, state, next, tasks));
  }

  /**
   * A root graph run that continues its thread's checkpoint in place (no input, fork or update saved first) shows
   * that checkpoint first in the {@code checkpoints} and {@code debug} streams, as the reference's first step does.
   */
  Mono<Void> announceResumed(Checkpoint checkpoint, @Nullable Object state, List<String> next,
                             List<Map<String, Object>> tasks) {
    return resumedInPlace ? emitCheckpoint(checkpoint, state, next, tasks) : Mono.empty();
  }

  /** What a root graph run returns should it pause at breakpoints of nested graphs only (its state so far). */
  void pausedState(Supplier<@Nullable Object> state) {
    pausedState = state;
  }

  /** Ends a root graph run at a breakpoint, as a pause without interrupts. */
  void stopAt(GraphLoop.Breakpoint breakpoint) {
    stoppedAt = breakpoint;
    synchronized (lock) {
      stopping = true; // as for a pause: nothing starts any more
    }
    halted.tryEmitValue(PAUSED);
  }

  // ---------------------------------------------------------------- interrupts and pause detection

  <T> Mono<T> interrupt(Scope scope, @Nullable Object value, JavaType resumeType) {
    return interrupt(scope, value, resumeType, false);
  }

  /**
   * A breakpoint of a nested graph: an interrupt in its scope that every continuation of the run answers (see
   * {@link #resumeFrom}), as a root graph continues past its own breakpoints. Like those it is not reported as an
   * interrupt (the reference reports none either): a run paused at breakpoints only ends as stopped at one.
   */
  Mono<Object> breakpoint(Scope scope, Object value) {
    return this.<Object>interrupt(scope, value, Json.type(Object.class), true).defaultIfEmpty(Boolean.TRUE);
  }

  private <T> Mono<T> interrupt(Scope scope, @Nullable Object value, JavaType resumeType, boolean breakpoint) {
    return Mono.defer(() -> {
      int index = scope.nextInterruptIndex();
      String id = Ids.derive(scope.id(), "interrupt", Integer.toString(index));
      PendingWrite answer = writes.find(id, PendingWrite.RESUME);
      if (answer != null) {
        return Mono.justOrEmpty(Json.<T>fromTree(answer.value(), resumeType,
            () -> "the resume value of interrupt " + id + " in '" + scope.name() + "'"));
      }
      JsonNode json = Json.toTree(value, () -> "the value of interrupt " + index + " in '" + scope.name() + "'");
      synchronized (lock) {
        if (stopping || scope.frozen || scope.closed) { // too late to ask (a retry after a user timeout, say)
          return Mono.never();
        }
        if (!breakpoint) { // a nested graph's breakpoint is no interrupt to report
          RaisedInterrupts list = raised.computeIfAbsent(scope.id(),
              key -> new RaisedInterrupts(scope.id(), scope.name(), scope.namespace(), new ArrayList<>()));
          if (list.interrupts().stream().noneMatch(i -> i.id().equals(id))) {
            list.interrupts().add(new Interrupt(id, value));
            scope.observer().interrupted(id);
          }
        }
      }
      return writes.record(new PendingWrite(id, scope.name(), PendingWrite.INTERRUPT,
              CheckpointFormat.interruptValue(scope, json, breakpoint)))
          .then(Mono.fromRunnable(() -> selfPaused(scope)))
          .then(Mono.<T>never().doOnCancel(() -> abandoned(scope)));
    });
  }

  private record RaisedInterrupts(String scopeId, String name, List<String> namespace, List<Interrupt> interrupts) {
  }

  Scope newScope(String id, String name, List<String> namespace, EntrypointSpec owner, @Nullable Object previous,
                 @Nullable TaskCall call) {
    return new Scope(this, id, name, namespace, owner, previous, call);
  }

  /** The scope's own code is running (subscribing its body): it cannot be paused meanwhile. */
  void busy(Scope scope) {
    synchronized (lock) {
      scope.activeChildren++;
    }
  }

  void idle(Scope scope) {
    synchronized (lock) {
      scope.activeChildren--;
    }
    settle(scope);
  }

  /**
   * Whether the call may start running. Not once the run stops (the root scope paused: a continuation that hopped
   * threads arrives too late and waits for the resume), nor in a closed or frozen scope. A start in a scope that
   * reported itself paused revokes that report, up the scope tree.
   */
  boolean start(TaskCall call) {
    synchronized (lock) {
      Scope scope = call.parent();
      if (stopping || scope.closed || scope.frozen) {
        return false;
      }
      scope.activeChildren++;
      while (scope.reportedPaused) { // the root never gets here: its report stopped the run
        scope.reportedPaused = false;
        TaskCall owner = Objects.requireNonNull(scope.call());
        if (owner.status() == TaskStatus.INTERRUPTED) {
          owner.status(TaskStatus.RUNNING);
        }
        if (owner.counted()) {
          break;
        }
        owner.count(true);
        scope = owner.parent();
        scope.pausedChildren--;
        scope.activeChildren++;
      }
      return true;
    }
  }

  /** The call finished (or was cancelled): it stops counting as running in its parent. */
  void childEnded(TaskCall call) {
    Scope parent = call.parent();
    synchronized (lock) {
      if (!call.counted()) {
        return;
      }
      call.count(false);
      parent.activeChildren--;
    }
    settle(parent);
  }

  /** A child call of {@code scope} failed with {@code error}: that error ends the scope even when it is frozen. */
  void failed(Scope scope, Throwable error) {
    synchronized (lock) {
      scope.failedWith(error);
    }
  }

  /**
   * The caller cancelled the call. A paused call given up by user code (a {@code timeout} around it, say) before
   * the run stopped freezes the calling scope: its interrupt stays pending, so the scope stays paused whatever its
   * code does next (see {@link #holdsEnd}). A call still running in a frozen scope is not cancelled but finishes
   * detached, so its result is saved rather than lost and run again on resume. Returns whether the call keeps
   * running.
   */
  boolean cancelledByCaller(TaskCall call, Runnable cancel) {
    synchronized (lock) {
      Scope parent = call.parent();
      if (stopping || parent.closed) { // the engine is ending the run or the scope
        return false;
      }
      if (call.status() == TaskStatus.INTERRUPTED) {
        parent.frozen = true;
        return false;
      }
      if (parent.frozen && call.status() == TaskStatus.RUNNING) {
        detached.add(cancel);
        return true;
      }
      return false;
    }
  }

  void detachedEnded(Runnable cancel) {
    synchronized (lock) {
      detached.remove(cancel);
    }
  }

  private void cancelDetached() {
    List<Runnable> cancels;
    synchronized (lock) {
      if (detached.isEmpty()) {
        return;
      }
      cancels = List.copyOf(detached);
      detached.clear();
    }
    cancels.forEach(Runnable::run);
  }

  /** User code in {@code scope} stopped waiting for one of its own interrupts: the scope freezes. */
  private void abandoned(Scope scope) {
    synchronized (lock) {
      if (!stopping && !scope.closed) {
        scope.frozen = true;
      }
    }
  }

  /**
   * Whether the end of {@code scope}'s body (a value, completion, or {@code error}) is held back: in a frozen scope
   * it is, unless it is the failure of one of its calls. A held scope then counts as paused once nothing in it runs.
   */
  boolean holdsEnd(Scope scope, @Nullable Throwable error) {
    synchronized (lock) {
      if (!scope.frozen || scope.closed || error != null && scope.childFailed(error)) {
        return false;
      }
    }
    settle(scope);
    return true;
  }

  void close(Scope scope) {
    synchronized (lock) {
      scope.closed = true;
    }
  }

  /** Whether the call is paused on interrupts (everything in it waits for an answer). */
  boolean paused(TaskCall call) {
    synchronized (lock) {
      return call.status() == TaskStatus.INTERRUPTED;
    }
  }

  /**
   * Whether a call being cancelled is paused rather than given up: it waits for answers to interrupts, or the run is
   * stopping because everything paused (what the observer reports as interrupted rather than cancelled).
   */
  boolean pausedOrStopping(TaskCall call) {
    synchronized (lock) {
      return stopping || call.status() == TaskStatus.INTERRUPTED;
    }
  }

  TaskStatus statusOf(TaskCall call) {
    synchronized (lock) {
      return call.status();
    }
  }

  boolean transition(TaskCall call, TaskStatus target) {
    synchronized (lock) {
      if (!call.status().canBecome(target)) {
        return false;
      }
      call.status(target);
      return true;
    }
  }

  private void selfPaused(Scope scope) {
    synchronized (lock) {
      scope.selfPaused = true;
    }
    settle(scope);
  }

  /**
   * A scope is paused once nothing in it runs any more and something in it waits for an answer. Its call then
   * counts as paused in the calling scope, which may be paused in turn, up the tree; all under the lock, so that a
   * concurrent {@link #start} sees either the whole report or none of it. When the root scope is paused, the run
   * stops: from then on no task starts, and the run ends as paused.
   */
  private void settle(Scope scope) {
    boolean stopped = false;
    synchronized (lock) {
      Scope current = scope;
      while (!current.closed && !current.reportedPaused && current.activeChildren == 0
          && (current.selfPaused || current.pausedChildren > 0)) {
        current.reportedPaused = true;
        TaskCall owner = current.call();
        if (owner == null) {
          stopping = true;
          stopped = true;
          break;
        }
        if (owner.status().canBecome(TaskStatus.INTERRUPTED)) {
          owner.status(TaskStatus.INTERRUPTED);
        }
        if (!owner.counted()) {
          break;
        }
        owner.count(false);
        current = owner.parent();
        current.activeChildren--;
        current.pausedChildren++;
      }
    }
    if (stopped) {
      halted.tryEmitValue(PAUSED);
    }
  }

  // ---------------------------------------------------------------- chunks

  /**
   * A task's start; its {@code triggers} as LangGraph names them: {@code __start__} for the entrypoint,
   * {@code branch:to:<node>} for a graph's node ({@code node}: called by a superstep), {@code __pregel_push} for a
   * task called from code.
   */
  Mono<Void> emitTaskStart(List<String> namespace, String id, String name, @Nullable Object input, boolean node) {
    if (!output.wants(StreamMode.TASKS, namespace) && !output.wants(StreamMode.DEBUG, namespace)
        || hiddenTask(namespace, id)) {
      return Mono.empty();
    }
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("id", id);
    data.put("name", name);
    data.put("input", input);
    data.put("triggers", List.of(node ? "branch:to:" + name
        : name.equals(spec.name()) && namespace.isEmpty() ? "__start__" : "__pregel_push"));
    return output.write(StreamMode.TASKS, namespace, data).then(debug(namespace, "task", data));
  }

  Mono<Void> emitTaskEnd(List<String> namespace, String id, String name, @Nullable Object result,
                         @Nullable Throwable error, List<Interrupt> interrupts) {
    if (!output.wants(StreamMode.TASKS, namespace) && !output.wants(StreamMode.DEBUG, namespace)
        || hiddenTask(namespace, id)) {
      return Mono.empty();
    }
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("id", id);
    data.put("name", name);
    data.put("result", result);
    data.put("error", error == null ? null : String.valueOf(error.getMessage()));
    data.put("interrupts", List.copyOf(interrupts));
    return output.write(StreamMode.TASKS, namespace, data).then(debug(namespace, "task_result", data));
  }

  /** A root graph is not a task of its own run: its nodes are (as in LangGraph, whose start task is hidden). */
  private boolean hiddenTask(List<String> namespace, String id) {
    return spec.graph() != null && namespace.isEmpty() && id.equals(rootTaskId); // by id: a node may share its name
  }

  Mono<Void> emitUpdate(List<String> namespace, String name, @Nullable Object value, boolean cached) {
    if (!output.wants(StreamMode.UPDATES, namespace)) {
      return Mono.empty();
    }
    Map<String, Object> data = new LinkedHashMap<>();
    data.put(name, value);
    if (cached) {
      data.put("__metadata__", Map.of("cached", true));
    }
    return output.write(StreamMode.UPDATES, namespace, data);
  }

  Mono<Void> emitValues(List<String> namespace, @Nullable Object value) {
    return output.write(StreamMode.VALUES, namespace, value);
  }

  private Mono<Void> emitSaved(List<Checkpoint> saved, String rootId) {
    Mono<Void> emitted = Mono.empty();
    for (Checkpoint checkpoint : saved) {
      if (output.wants(StreamMode.CHECKPOINTS, List.of()) || output.wants(StreamMode.DEBUG, List.of())) {
        List<String> next = CheckpointFormat.nextOf(checkpoint, spec);
        Map<String, Object> task = new LinkedHashMap<>();
        task.put("id", rootId);
        task.put("name", next.get(0));
        task.put("interrupts", List.of());
        task.put("state", null); // the entrypoint, or a graph's start: no nested run to address
        emitted = emitted.then(emitCheckpoint(checkpoint, CheckpointFormat.values(checkpoint, spec), next,
            List.of(task)));
      }
    }
    return emitted;
  }

  private Mono<Void> emitCheckpoint(Checkpoint checkpoint, @Nullable Object values, List<String> next,
                                    List<Map<String, Object>> tasks) {
    if (!output.wants(StreamMode.CHECKPOINTS, List.of()) && !output.wants(StreamMode.DEBUG, List.of())) {
      return Mono.empty();
    }
    Map<String, Object> data = CheckpointFormat.event(checkpoint, values, next, tasks);
    return output.write(StreamMode.CHECKPOINTS, List.of(), data).then(debug(List.of(), "checkpoint", data));
  }

  private Mono<Void> debug(List<String> namespace, String type, Map<String, Object> payload) {
    if (!output.wants(StreamMode.DEBUG, namespace)) {
      return Mono.empty();
    }
    Map<String, Object> data = new LinkedHashMap<>();
    // a graph's node tasks belong to the step they produce, the checkpoint after them (LangGraph's numbering)
    boolean nodeTask = spec.graph() != null && !type.equals("checkpoint");
    data.put("step", CheckpointFormat.step(writes.base()) + (nodeTask ? 1 : 0));
    data.put("timestamp", spec.clock().instant().toString());
    data.put("type", type);
    data.put("payload", payload);
    return output.write(StreamMode.DEBUG, namespace, data);
  }

  /**
   * Records that the {@code messages} stream showed a message with this id (a token chunk or a whole message);
   * true the first time. A node's messages are streamed only when this is their first time (LangGraph's seen ids).
   */
  boolean messageStreamed(Object id) {
    return streamedMessages.add(id);
  }

  // ---------------------------------------------------------------- what scopes and calls reach

  RunConfig config() {
    return config;
  }

  Output output() {
    return output;
  }

  WriteLog writes() {
    return writes;
  }

  Scheduler scheduler() {
    return scheduler;
  }

  /** What this run reports to; {@link RunObserver#NOOP} without instrumentation. */
  RunObserver observer() {
    return observer;
  }

  @Nullable Store store() {
    return spec.store();
  }

  @Nullable Cache cache() {
    return spec.cache();
  }

  String rootName() {
    return spec.name();
  }
}
