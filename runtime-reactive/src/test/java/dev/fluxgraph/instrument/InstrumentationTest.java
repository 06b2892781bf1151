package dev.fluxgraph.instrument;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.CompiledGraph;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.RetryPolicy;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.TypeRef;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/** What the engine reports to an installed {@link Instrumentation}, and that none() is the default. */
class InstrumentationTest {

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
  private final Recorder recorder = new Recorder();

  @Test
  void aCompletedRunReportsItsTaskAndItsCheckpointWrites() {
    Task<Integer, Integer> addOne = Task.of("add_one", Integer.class, n -> Mono.just(n + 1));
    Entrypoint<Integer, Integer> workflow = Entrypoint.named("workflow").checkpointer(saver).instrumentation(recorder)
        .define(Integer.class, Integer.class, (n, context) -> addOne.call(n));

    StepVerifier.create(workflow.invoke(1, config)).expectNext(2).verifyComplete();

    assertEquals(List.of("run workflow started on " + config.threadId().orElseThrow(),
        "workflow > add_one started", "workflow > add_one ended completed after 1 attempt(s)",
        "workflow ended completed"), recorder.lifecycle());
    assertTrue(recorder.writes.get() >= 2, "the input checkpoint, the task's result and the final checkpoint: "
        + recorder.writes.get());
    assertSame(recorder, workflow.instrumentation());
  }

  @Test
  void aPausedRunEndsAsInterruptedAndItsFinishedTasksReplayOnResume() {
    Task<String, String> first = Task.of("first", String.class, s -> Mono.just(s + "1"));
    Task<String, String> ask = Task.of("ask", String.class,
        (String s, TaskContext context) -> context.interrupt("ok?", String.class).map(answer -> s + answer));
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver).instrumentation(recorder)
        .define(String.class, String.class, (s, context) -> first.call(s).flatMap(ask::call));

    GraphOutput<String> paused = workflow.run("x", config).block();
    assertTrue(paused.interrupted());
    String interrupt = paused.interrupts().get(0).id();
    assertEquals(List.of("run workflow started on " + config.threadId().orElseThrow(),
        "workflow > first started", "workflow > first ended completed after 1 attempt(s)",
        "workflow > ask started", "workflow > ask interrupted " + interrupt,
        "workflow > ask ended interrupted after 1 attempt(s)", "workflow ended interrupted"), recorder.lifecycle());

    recorder.events.clear();
    StepVerifier.create(workflow.invoke(Command.resume("!"), config)).expectNext("x1!").verifyComplete();
    assertEquals(List.of("run workflow started on " + config.threadId().orElseThrow(), "workflow > first replayed",
        "workflow > ask started", "workflow > ask ended completed after 1 attempt(s)", "workflow ended completed"),
        recorder.lifecycle());
  }

  @Test
  void retriesAreReportedAndTheTaskEndsWithItsAttempts() {
    AtomicInteger calls = new AtomicInteger();
    Task<String, String> flaky = Task.of("flaky", String.class, (String s) -> calls.incrementAndGet() < 3
        ? Mono.<String>error(new IllegalStateException("boom " + calls.get())) : Mono.just(s))
        .withRetry(RetryPolicy.retryOn(IllegalStateException.class).withInitialInterval(Duration.ofMillis(1)).withJitter(false));
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").instrumentation(recorder)
        .define(String.class, String.class, (s, context) -> flaky.call(s));

    StepVerifier.create(workflow.invoke("x", RunConfig.none())).expectNext("x").verifyComplete();
    assertEquals(List.of("run workflow started on -", "workflow > flaky started",
        "workflow > flaky retrying after 1: boom 1", "workflow > flaky retrying after 2: boom 2",
        "workflow > flaky ended completed after 3 attempt(s)", "workflow ended completed"), recorder.lifecycle());
  }

  @Test
  void aFailedTaskAndRunEndAsErrors() {
    Task<String, String> broken = Task.of("broken", String.class, s -> Mono.error(new IllegalStateException("no")));
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").instrumentation(recorder)
        .define(String.class, String.class, (s, context) -> broken.call(s));

    StepVerifier.create(workflow.invoke("x", RunConfig.none())).verifyErrorMessage("no");
    assertEquals(List.of("run workflow started on -", "workflow > broken started",
        "workflow > broken ended error after 1 attempt(s): no", "workflow ended error: no"), recorder.lifecycle());
  }

  @Test
  void aCancelledRunCancelsItsRunningTasks() {
    Task<String, String> slow = Task.of("slow", String.class, s -> Mono.<String>never());
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver).instrumentation(recorder)
        .define(String.class, String.class, (s, context) -> slow.call(s));

    Disposable running = workflow.invoke("x", config).subscribe();
    assertEquals(List.of("run workflow started on " + config.threadId().orElseThrow(), "workflow > slow started"),
        recorder.lifecycle());
    running.dispose();
    assertEquals(List.of("run workflow started on " + config.threadId().orElseThrow(), "workflow > slow started",
        "workflow > slow ended cancelled after 1 attempt(s)", "workflow ended cancelled"), recorder.lifecycle());
  }

  @Test
  void nestedTasksReportToTheirCallerAcrossThreadHopsAndSeeItsContext() {
    Task<Integer, String> leaf = Task.of("leaf", String.class, (Integer n, TaskContext context) ->
        Mono.deferContextual(view -> Mono.just(view.get(Recorder.KEY) + "/" + n)).publishOn(Schedulers.parallel()));
    Task<Integer, List<String>> branch = Task.of("branch", new TypeRef<List<String>>() { },
        (Integer n, TaskContext context) -> Flux.range(0, n).publishOn(Schedulers.boundedElastic())
            .flatMap(leaf::call).collectSortedList()
            .doOnNext(list -> context.attribute("leaves", Integer.toString(list.size()))));
    Entrypoint<Integer, List<List<String>>> workflow = Entrypoint.named("workflow").instrumentation(recorder)
        .define(TypeRef.of(Integer.class), new TypeRef<List<List<String>>>() { },
            (n, context) -> Flux.range(1, n).flatMap(branch::call).collectSortedList(
                (a, b) -> Integer.compare(a.size(), b.size())));

    List<List<String>> result = workflow.invoke(2, RunConfig.none()).block(Duration.ofSeconds(10));
    assertEquals(List.of(List.of("workflow > branch > leaf/0"),
        List.of("workflow > branch > leaf/0", "workflow > branch > leaf/1")), result,
        "each leaf's body runs with the context its own observer gave it, after the thread hops");
    long leaves = recorder.events.stream().filter(e -> e.equals("workflow > branch > leaf started")).count();
    assertEquals(3, leaves, recorder.events.toString());
    assertTrue(recorder.events.contains("workflow > branch attribute leaves=2"), recorder.events.toString());
  }

  @Test
  void aGraphReportsItsNodesAsTasks() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Map.of("n", 1)))
        .addEdge(StateGraph.START, "a")
        .compile(CompileOptions.defaults().withName("g").withInstrumentation(recorder));

    StepVerifier.create(graph.invoke(Map.of(), RunConfig.none())).expectNext(Map.of("n", 1)).verifyComplete();
    assertTrue(recorder.lifecycle().contains("g > a ended completed after 1 attempt(s)"), recorder.events.toString());
    assertEquals("g ended completed", recorder.lifecycle().get(recorder.lifecycle().size() - 1));
    assertSame(Instrumentation.none(), graph.withInstrumentation(Instrumentation.none()).instrumentation());
  }

  @Test
  void withoutInstrumentationTheDefaultIsNone() {
    Entrypoint<String, String> workflow = Entrypoint.named("workflow")
        .define(String.class, String.class, (s, context) -> Mono.just(s));
    assertSame(Instrumentation.none(), workflow.instrumentation());
    assertSame(recorder, workflow.withInstrumentation(recorder).instrumentation());
    assertSame(RunObserver.NOOP, Instrumentation.none().runStarted("w", RunConfig.none(), Context.empty()));
  }

  /** Records every report as "path event"; each scope's observer puts its path in the body's context. */
  private static final class Recorder implements Instrumentation {
    static final String KEY = "recorder.path";
    final List<String> events = new CopyOnWriteArrayList<>();
    final AtomicInteger writes = new AtomicInteger();

    /** The events but checkpoint writes (their number depends on durability). */
    List<String> lifecycle() {
      return List.copyOf(events);
    }

    @Override
    public RunObserver runStarted(String workflow, RunConfig config, ContextView context) {
      events.add("run " + workflow + " started on " + config.threadId().orElse("-"));
      return new Run(workflow);
    }

    private class Scope implements ScopeObserver {
      final String path;

      Scope(String path) {
        this.path = path;
      }

      @Override
      public Context contextOf(Context context) {
        return context.put(KEY, path);
      }

      @Override
      public TaskObserver taskStarted(String task, String callId, boolean nested) {
        events.add(path + " > " + task + " started");
        return new TaskScope(path + " > " + task);
      }

      @Override
      public void taskReplayed(String task, String callId) {
        events.add(path + " > " + task + " replayed");
      }

      @Override
      public void interrupted(String interruptId) {
        events.add(path + " interrupted " + interruptId);
      }

      @Override
      public void retrying(int failedAttempts, Throwable error) {
        events.add(path + " retrying after " + failedAttempts + ": " + error.getMessage());
      }

      @Override
      public void attribute(String key, String value) {
        events.add(path + " attribute " + key + "=" + value);
      }
    }

    private final class Run extends Scope implements RunObserver {
      Run(String path) {
        super(path);
      }

      @Override
      public Completion checkpointWriteStarted(CheckpointWrite kind) {
        return error -> writes.incrementAndGet();
      }

      @Override
      public void runEnded(RunOutcome outcome, @Nullable Throwable error) {
        events.add(path + " ended " + outcome.tagValue() + (error == null ? "" : ": " + error.getMessage()));
      }
    }

    private final class TaskScope extends Scope implements TaskObserver {
      TaskScope(String path) {
        super(path);
      }

      @Override
      public void taskEnded(TaskOutcome outcome, int attempts, @Nullable Throwable error) {
        events.add(path + " ended " + outcome.tagValue() + " after " + attempts + " attempt(s)"
            + (error == null ? "" : ": " + error.getMessage()));
      }
    }
  }
}
