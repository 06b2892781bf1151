package dev.fluxgraph.springai;

import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.messages.AiMessage;
import dev.fluxgraph.messages.ToolCall;
import dev.fluxgraph.messages.ToolMessage;
import dev.fluxgraph.types.RetryPolicy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.execution.ToolExecutionException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Spring AI {@link ToolCallback}s run as Fluxgraph tasks: each tool call the model asks for is one call of the task
 * named after the tool, so its result is checkpointed and a resumed run replays it instead of running the tool
 * again. Immutable and thread-safe; {@code withX} methods return copies.
 *
 * <p>A tool that throws {@link ToolExecutionException} (Spring AI's {@code FunctionToolCallback} and
 * {@code MethodToolCallback} wrap every failure in one) answers an error {@link ToolMessage} (status {@code error},
 * the exception's message as content) for the model to read, as Spring AI's own tool calling does by default; with
 * {@link #withErrorsAnswered withErrorsAnswered(false)} it fails the task with the exception's cause instead, so
 * that the task's retry policy (or the entrypoint's default) applies and, once it gives up, the run fails. Any other
 * exception always fails the task. {@code ToolCallback.call} blocks, so it runs on a {@link Scheduler}:
 * {@link Schedulers#boundedElastic()} unless {@link #withScheduler} names another.
 */
public final class SpringAiTools {

  private static final SpringAiTools NONE = new SpringAiTools(Map.of(), Schedulers.boundedElastic(), List.of(),
      true);

  private final Map<String, ToolCallback> byName;
  private final Scheduler scheduler;
  private final List<RetryPolicy> retry;
  private final boolean errorsAnswered;

  private SpringAiTools(Map<String, ToolCallback> byName, Scheduler scheduler, List<RetryPolicy> retry,
                        boolean errorsAnswered) {
    this.byName = byName;
    this.scheduler = scheduler;
    this.retry = retry;
    this.errorsAnswered = errorsAnswered;
  }

  /** No tools. */
  public static SpringAiTools none() {
    return NONE;
  }

  /** These tools. @throws IllegalArgumentException if two have the same name */
  public static SpringAiTools of(ToolCallback... tools) {
    Objects.requireNonNull(tools, "tools must not be null");
    return of(List.of(tools));
  }

  /** These tools. @throws IllegalArgumentException if two have the same name */
  public static SpringAiTools of(List<? extends ToolCallback> tools) {
    Objects.requireNonNull(tools, "tools must not be null");
    Map<String, ToolCallback> byName = new LinkedHashMap<>();
    for (ToolCallback tool : tools) {
      Objects.requireNonNull(tool, "tools must not contain null");
      String name = tool.getToolDefinition().name();
      if (byName.putIfAbsent(name, tool) != null) {
        throw new IllegalArgumentException("two tools are named '" + name + "': the model calls tools by name");
      }
    }
    return new SpringAiTools(Map.copyOf(byName), NONE.scheduler, List.of(), true);
  }

  /** A copy whose tools run on {@code scheduler} ({@code ToolCallback.call} blocks). */
  public SpringAiTools withScheduler(Scheduler scheduler) {
    return new SpringAiTools(byName, Objects.requireNonNull(scheduler, "scheduler must not be null"), retry,
        errorsAnswered);
  }

  /** A copy whose tool tasks retry with these policies instead of the entrypoint's default. */
  public SpringAiTools withRetry(RetryPolicy... policies) {
    Objects.requireNonNull(policies, "policies must not be null");
    return new SpringAiTools(byName, scheduler, List.of(policies), errorsAnswered);
  }

  /**
   * A copy that answers a {@link ToolExecutionException} as an error message to the model ({@code true}, the
   * default) or fails the tool's task with the exception's cause ({@code false}: retried by the task's policy).
   */
  public SpringAiTools withErrorsAnswered(boolean answered) {
    return new SpringAiTools(byName, scheduler, retry, answered);
  }

  /** The tools, in the order given. */
  public List<ToolCallback> callbacks() {
    return List.copyOf(byName.values());
  }

  public boolean isEmpty() {
    return byName.isEmpty();
  }

  /**
   * The task that runs the tool {@code name}: input a tool call, output the tool's answer to it. Its body writes
   * the answer to the {@code messages} stream mode too.
   *
   * @throws IllegalArgumentException naming the known tools if there is none by that name
   */
  public Task<ToolCall, ToolMessage> task(String name) {
    Objects.requireNonNull(name, "name must not be null");
    ToolCallback tool = byName.get(name);
    if (tool == null) {
      throw new IllegalArgumentException("no tool named '" + name + "'; the tools are " + byName.keySet());
    }
    Task<ToolCall, ToolMessage> task = Task.of(name, ToolMessage.class,
        (ToolCall call, TaskContext context) -> run(tool, call)
            .flatMap(answer -> context.messages().write(answer).thenReturn(answer)));
    return retry.isEmpty() ? task : task.withRetry(retry.toArray(RetryPolicy[]::new));
  }

  /**
   * Runs every tool call of {@code message} through its tool's task, concurrently; answers the tool messages in the
   * order of the calls. A call of a tool that is not here answers an error message naming the tools, without a task
   * (the model asked for something that does not exist; it may correct itself). Cold; cancelling it cancels the
   * tool calls still running. Use it inside a run (an entrypoint body or a graph node): a task called outside one
   * errors with {@link IllegalStateException}.
   */
  public Mono<List<ToolMessage>> call(AiMessage message) {
    Objects.requireNonNull(message, "message must not be null");
    return Flux.fromIterable(message.toolCalls())
        .flatMapSequential(call -> {
          String id = call.id() == null ? "" : call.id();
          if (!byName.containsKey(call.name())) {
            return Mono.just(ToolMessage.error(id, "Error: " + call.name() + " is not a valid tool, try one of "
                + byName.keySet() + ".").withName(call.name()));
          }
          return task(call.name()).call(call);
        })
        .collect(ArrayList<ToolMessage>::new, List::add)
        .map(List::copyOf);
  }

  private Mono<ToolMessage> run(ToolCallback tool, ToolCall call) {
    String id = call.id() == null ? "" : call.id();
    return Mono.fromCallable(() -> tool.call(Conversions.arguments(call.args())))
        .subscribeOn(scheduler)
        .map(result -> ToolMessage.of(id, result).withName(call.name()))
        .onErrorResume(ToolExecutionException.class, error -> errorsAnswered
            ? Mono.just(ToolMessage.error(id, String.valueOf(error.getMessage())).withName(call.name()))
            // the tool's own exception, so that a retry policy's predicate sees what went wrong
            : Mono.error(error.getCause() == null ? error : error.getCause()));
  }
}
