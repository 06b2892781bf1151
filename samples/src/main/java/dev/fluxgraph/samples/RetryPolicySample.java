package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.types.RetryPolicy;
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

/** "Retry policy": get_info fails once with IllegalArgumentException and is retried. Prints OK. */
public final class RetryPolicySample implements Sample {

  @Override
  public String name() {
    return "retry-policy";
  }

  @Override
  public String description() {
    return "a task that fails once and is retried by its RetryPolicy";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    AtomicInteger attempts = new AtomicInteger(); // only here to simulate a failure, as in the reference
    Task<Object, String> getInfo = Task.of("get_info", String.class, ignored -> attempts.incrementAndGet() < 2
            ? Mono.error(new IllegalArgumentException("Failure")) : Mono.just("OK"))
        .withRetry(RetryPolicy.retryOn(IllegalArgumentException.class).withInitialInterval(Duration.ofMillis(100)));
    Entrypoint<Map<String, Object>, String> main = Entrypoint.named("main").checkpointer(new InMemorySaver())
        .define(new TypeRef<Map<String, Object>>() { }, TypeRef.of(String.class), (inputs, context) -> getInfo.call());
    out.println(main.invoke(Map.of("any_input", "foobar"), RunConfig.thread(UUID.randomUUID().toString())).block());
    out.println("attempts: " + attempts.get());
  }
}
