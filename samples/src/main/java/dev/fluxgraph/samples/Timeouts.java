package dev.fluxgraph.samples;

import dev.fluxgraph.errors.NodeTimeoutException;
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
import reactor.core.publisher.Mono;

/**
 * "Set task and entrypoint timeouts": call_api takes 2 s, its timeout is 1 s per attempt and timeouts are retried
 * (three attempts), inside an entrypoint with a 5 s timeout. Prints "Task timed out" after about 4.5 s.
 */
public final class Timeouts implements Sample {

  static final Task<String, String> CALL_API = Task.of("call_api", String.class,
          (String url) -> Mono.delay(Duration.ofSeconds(2)).thenReturn("result from " + url))
      .withTimeout(Duration.ofSeconds(1))
      .withRetry(RetryPolicy.retryOn(NodeTimeoutException.class).withJitter(false));

  /** The workflow with its 5 s timeout. */
  public static Entrypoint<Map<String, String>, String> workflow() {
    return Entrypoint.named("workflow").timeout(Duration.ofSeconds(5))
        .define(new TypeRef<Map<String, String>>() { }, TypeRef.of(String.class),
            (inputs, context) -> CALL_API.call(inputs.get("url")));
  }

  @Override
  public String name() {
    return "timeouts";
  }

  @Override
  public String description() {
    return "per-attempt task timeout retried, inside an entrypoint timeout (takes ~4.5 s)";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    try {
      out.println(workflow().invoke(Map.of("url", "https://example.com"), RunConfig.none()).block());
    } catch (NodeTimeoutException e) {
      out.println("Task timed out");
    }
  }
}
