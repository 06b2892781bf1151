package dev.fluxgraph.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.CompiledGraph;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.instrument.RunOutcome;
import dev.fluxgraph.instrument.TaskOutcome;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.RetryPolicy;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.TypeRef;
import io.micrometer.common.KeyValue;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationView;
import io.micrometer.observation.contextpropagation.ObservationThreadLocalAccessor;
import io.micrometer.observation.tck.TestObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistryAssert;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** fluxgraph.run / fluxgraph.task observations and the meters, against Micrometer's test registry. */
class MicrometerInstrumentationTest {

  private final TestObservationRegistry observations = TestObservationRegistry.create();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final MicrometerInstrumentation instrumentation = MicrometerInstrumentation.of(observations, meters);
  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());

  @BeforeEach
  void timers() {
    observations.observationConfig().observationHandler(new DefaultMeterObservationHandler(meters));
  }

  @AfterEach
  void noContextPropagation() {
    Hooks.disableAutomaticContextPropagation();
  }

  @Test
  void oneObservationPerExecutedTaskNoneForReplayedOnesAndAPauseIsInterrupted() {
    Task<String, String> first = Task.of("first", String.class, s -> Mono.just(s + "1"));
    Task<String, String> ask = Task.of("ask", String.class,
        (String s, TaskContext context) -> context.interrupt("ok?", String.class).map(answer -> s + answer));
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .instrumentation(instrumentation)
        .define(String.class, String.class, (s, context) -> first.call(s).flatMap(ask::call));

    GraphOutput<String> paused = workflow.run("x", config).block(Duration.ofSeconds(10));
    assertThat(Objects.requireNonNull(paused).interrupted()).isTrue();
    List<Observation.Context> pausedRun = observed();
    assertThat(pausedRun).extracting(MicrometerInstrumentationTest::describe).containsExactlyInAnyOrder(
        "fluxgraph.run invoke_workflow workflow interrupted", "fluxgraph.task execute_tool first completed",
        "fluxgraph.task execute_tool ask interrupted");
    RunObservationContext run = runs(pausedRun).get(0);
    assertThat(run.outcome()).isEqualTo(RunOutcome.INTERRUPTED);
    assertThat(run.getHighCardinalityKeyValue("gen_ai.conversation.id").getValue())
        .isEqualTo(config.threadId().orElseThrow());
    assertThat(meters.get("fluxgraph.interrupts").tags("entrypoint", "workflow", "task", "ask").counter().count())
        .isEqualTo(1);
    assertThat(meters.get("fluxgraph.run").tags("entrypoint", "workflow", "outcome", "interrupted").timer().count())
        .isEqualTo(1);

    observations.clear();
    StepVerifier.create(workflow.invoke(Command.resume("!"), config)).expectNext("x1!").verifyComplete();
    List<Observation.Context> resumed = observed();
    assertThat(resumed).extracting(MicrometerInstrumentationTest::describe).containsExactlyInAnyOrder(
        "fluxgraph.run invoke_workflow workflow completed", "fluxgraph.task execute_tool ask completed");
    assertThat(meters.get("fluxgraph.replays").tags("entrypoint", "workflow", "task", "first").counter().count())
        .isEqualTo(1);
    TestObservationRegistryAssert.assertThat(observations)
        .hasNumberOfObservationsWithNameEqualTo("fluxgraph.task", 1)
        .hasObservationWithNameEqualTo("fluxgraph.task").that().hasBeenStarted().hasBeenStopped()
        .hasLowCardinalityKeyValue("task", "ask").backToTestObservationRegistry()
        .hasObservationWithNameEqualTo("fluxgraph.run").that().hasBeenStarted().hasBeenStopped()
        .hasLowCardinalityKeyValue("outcome", "completed")
        .hasLowCardinalityKeyValue("gen_ai.operation.name", "invoke_workflow");
  }

  @Test
  void parentsAndChildrenAreRightAcrossFlatMapPublishOnAndParallelTasks() {
    Hooks.enableAutomaticContextPropagation();
    Map<Integer, Observation> currentInLeaf = new ConcurrentHashMap<>();
    Task<Integer, Integer> leaf = Task.of("leaf", Integer.class, (Integer n) -> Mono.just(n)
        .publishOn(Schedulers.parallel())
        .doOnNext(i -> currentInLeaf.put(i, Objects.requireNonNull(observations.getCurrentObservation())))
        .map(i -> i * 10));
    Task<Integer, Integer> branch = Task.of("branch", Integer.class, (Integer n) -> Mono.just(n)
        .publishOn(Schedulers.boundedElastic())
        .flatMap(leaf::call));
    Entrypoint<Integer, List<Integer>> workflow = Entrypoint.named("fan_out").instrumentation(instrumentation)
        .define(TypeRef.of(Integer.class), new TypeRef<List<Integer>>() { }, (n, context) -> Flux.range(0, n)
            .flatMap(i -> branch.call(i).subscribeOn(Schedulers.parallel())) // side by side, on several threads
            .collectSortedList());
    Observation request = Observation.start("request", observations);

    List<Integer> result = workflow.invoke(3, RunConfig.none())
        .contextWrite(context -> context.put(ObservationThreadLocalAccessor.KEY, request))
        .block(Duration.ofSeconds(10));
    request.stop();

    assertThat(result).containsExactly(0, 10, 20);
    List<Observation.Context> stopped = observed();
    RunObservationContext run = runs(stopped).get(0);
    assertThat(run.getParentObservation()).isSameAs(request);
    List<TaskObservationContext> tasks = tasks(stopped);
    assertThat(tasks).hasSize(6);
    List<Object> branchParents = new ArrayList<>();
    for (TaskObservationContext task : tasks) {
      ObservationView parent = Objects.requireNonNull(task.getParentObservation());
      if (task.task().equals("branch")) {
        assertThat(parent.getContextView()).isSameAs(run);
      } else {
        assertThat(parent.getContextView()).isInstanceOfSatisfying(TaskObservationContext.class,
            caller -> assertThat(caller.task()).isEqualTo("branch"));
        branchParents.add(parent.getContextView());
      }
    }
    assertThat(branchParents).doesNotHaveDuplicates(); // each leaf is the child of its own branch
    // code in a task body, after a thread hop, sees the task's observation as the current one
    assertThat(currentInLeaf).hasSize(3);
    currentInLeaf.values().forEach(current -> assertThat(current.getContext())
        .isInstanceOfSatisfying(TaskObservationContext.class, task -> assertThat(task.task()).isEqualTo("leaf")));
  }

  @Test
  void retriesAttemptsErrorsAndAttributesAreRecorded() {
    AtomicInteger calls = new AtomicInteger();
    Task<String, String> flaky = Task.of("flaky", String.class, (String s, TaskContext context) -> {
      context.attribute("gen_ai.usage.input_tokens", "12");
      return calls.incrementAndGet() < 3 ? Mono.<String>error(new IllegalStateException("boom")) : Mono.just(s);
    }).withRetry(RetryPolicy.retryOn(IllegalStateException.class).withInitialInterval(Duration.ofMillis(1))
        .withJitter(false));
    Task<String, String> broken = Task.of("broken", String.class,
        (String s) -> Mono.<String>error(new IllegalArgumentException("no")));
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .instrumentation(instrumentation)
        .define(String.class, String.class, (s, context) -> flaky.call(s).flatMap(broken::call));

    StepVerifier.create(workflow.invoke("x", config)).verifyErrorMessage("no");

    List<Observation.Context> stopped = observed();
    TaskObservationContext flakyTask = task(stopped, "flaky");
    assertThat(flakyTask.outcome()).isEqualTo(TaskOutcome.COMPLETED);
    assertThat(flakyTask.getHighCardinalityKeyValue("fluxgraph.task.attempts").getValue()).isEqualTo("3");
    assertThat(flakyTask.getHighCardinalityKeyValue("gen_ai.usage.input_tokens"))
        .isEqualTo(KeyValue.of("gen_ai.usage.input_tokens", "12"));
    TaskObservationContext brokenTask = task(stopped, "broken");
    assertThat(brokenTask.outcome()).isEqualTo(TaskOutcome.ERROR);
    assertThat(brokenTask.getError()).hasMessage("no");
    RunObservationContext run = runs(stopped).get(0);
    assertThat(run.outcome()).isEqualTo(RunOutcome.ERROR);
    assertThat(run.getError()).hasMessage("no");
    assertThat(meters.get("fluxgraph.retries").tags("entrypoint", "workflow", "task", "flaky").counter().count())
        .isEqualTo(2);
    assertThat(meters.get("fluxgraph.task").tags("task", "broken", "outcome", "error").timer().count()).isEqualTo(1);
    assertThat(meters.get("fluxgraph.checkpoint.write").tags("entrypoint", "workflow", "kind", "checkpoint").timer()
        .count()).isGreaterThanOrEqualTo(1);
    assertThat(meters.get("fluxgraph.checkpoint.write").tags("entrypoint", "workflow", "kind", "writes").timers()
        .stream().mapToLong(timer -> timer.count()).sum()).isGreaterThanOrEqualTo(2); // flaky's result, the errors
  }

  @Test
  void aCancelledRunIsCancelledAndItsTasksToo() {
    AtomicReference<String> started = new AtomicReference<>();
    Task<String, String> slow = Task.of("slow", String.class,
        (String s) -> Mono.<String>never().doOnSubscribe(subscription -> started.set(s)));
    Entrypoint<String, String> workflow = Entrypoint.named("workflow").checkpointer(saver)
        .instrumentation(instrumentation)
        .define(String.class, String.class, (s, context) -> slow.call(s));

    Disposable running = workflow.invoke("x", config).subscribe();
    assertThat(started.get()).isEqualTo("x");
    running.dispose();

    assertThat(observed()).extracting(MicrometerInstrumentationTest::describe).containsExactlyInAnyOrder(
        "fluxgraph.task execute_tool slow cancelled", "fluxgraph.run invoke_workflow workflow cancelled");
  }

  @Test
  void aGraphsNodesAreTasksOfItsRun() {
    CompiledGraph<Map<String, Object>> graph = StateGraph.ofMap()
        .addNode("a", (state, context) -> Mono.just(Map.of("n", 1)))
        .addNode("b", (state, context) -> Mono.just(Map.of("n", 2)))
        .addEdge(StateGraph.START, "a")
        .addEdge("a", "b")
        .compile(CompileOptions.defaults().withName("chain").withCheckpointer(saver)
            .withInstrumentation(instrumentation));

    StepVerifier.create(graph.invoke(Map.of(), config)).expectNext(Map.of("n", 2)).verifyComplete();

    assertThat(observed()).extracting(MicrometerInstrumentationTest::describe).containsExactlyInAnyOrder(
        "fluxgraph.task execute_tool a completed", "fluxgraph.task execute_tool b completed",
        "fluxgraph.run invoke_workflow chain completed");
  }

  @Test
  void aNoopRegistryWithoutMetersCostsNothing() {
    assertThat(MicrometerInstrumentation.of(io.micrometer.observation.ObservationRegistry.NOOP)
        .runStarted("w", RunConfig.none(), reactor.util.context.Context.empty()))
        .isSameAs(dev.fluxgraph.instrument.RunObserver.NOOP);
  }

  /** The contexts of Fluxgraph's observations, in the order they were started. */
  private List<Observation.Context> observed() {
    List<Observation.Context> contexts = new ArrayList<>();
    TestObservationRegistryAssert.assertThat(observations).hasHandledContextsThatSatisfy(contexts::addAll);
    return contexts.stream().filter(context -> context instanceof RunObservationContext
        || context instanceof TaskObservationContext).toList();
  }

  private static List<RunObservationContext> runs(List<Observation.Context> contexts) {
    return contexts.stream().filter(RunObservationContext.class::isInstance).map(RunObservationContext.class::cast)
        .toList();
  }

  private static List<TaskObservationContext> tasks(List<Observation.Context> contexts) {
    return contexts.stream().filter(TaskObservationContext.class::isInstance).map(TaskObservationContext.class::cast)
        .toList();
  }

  private static TaskObservationContext task(List<Observation.Context> contexts, String name) {
    return tasks(contexts).stream().filter(task -> task.task().equals(name)).findFirst().orElseThrow();
  }

  private static String describe(Observation.Context context) {
    return context.getName() + " " + context.getContextualName() + " "
        + context.getLowCardinalityKeyValue("outcome").getValue();
  }
}
