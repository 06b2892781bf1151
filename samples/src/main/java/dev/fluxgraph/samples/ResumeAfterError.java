package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.TypeRef;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;

/**
 * "Resuming after an error": slow_task succeeds, get_info fails once; {@code Command.proceed()} continues the
 * thread without running slow_task again.
 */
public final class ResumeAfterError implements Sample {

  @Override
  public String name() {
    return "resume-after-error";
  }

  @Override
  public String description() {
    return "a failed run continued with Command.proceed(); the finished slow task is not run again";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    AtomicInteger attempts = new AtomicInteger();
    AtomicInteger slowRuns = new AtomicInteger();
    Task<Object, String> getInfo = Task.of("get_info", String.class, ignored -> attempts.incrementAndGet() < 2
        ? Mono.error(new IllegalArgumentException("Failure")) : Mono.just("OK"));
    Task<Object, String> slowTask = Task.of("slow_task", String.class, ignored -> {
      slowRuns.incrementAndGet();
      return Mono.delay(Duration.ofSeconds(1)).thenReturn("Ran slow task.");
    });
    Entrypoint<Map<String, Object>, String> main = Entrypoint.named("main").checkpointer(new InMemorySaver())
        .define(new TypeRef<Map<String, Object>>() { }, TypeRef.of(String.class),
            (inputs, context) -> slowTask.call().flatMap(result -> getInfo.call().thenReturn(result)));
    RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
    try {
      main.invoke(Map.of("any_input", "foobar"), config).block();
    } catch (IllegalArgumentException e) {
      out.println("first run failed: " + e.getMessage());
    }
    out.println(main.invoke(Command.proceed(), config).block());
    out.println("slow_task ran " + slowRuns.get() + " time(s)");
  }
}
