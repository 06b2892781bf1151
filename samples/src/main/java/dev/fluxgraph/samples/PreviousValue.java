package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.types.RunConfig;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.List;
import reactor.core.publisher.Mono;

/** "Accessing the previous return value": the second run on a thread sees the first run's value. */
public final class PreviousValue implements Sample {

  @Override
  public String name() {
    return "previous";
  }

  @Override
  public String description() {
    return "previous: a run sees the value returned by the thread's last run";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    Entrypoint<String, String> myWorkflow = Entrypoint.named("my_workflow").checkpointer(new InMemorySaver())
        .define(String.class, String.class, (input, context) -> {
          out.println("previous = " + context.previous().orElse(null));
          return Mono.just("world");
        });
    RunConfig config = RunConfig.thread("some_thread");
    out.println(myWorkflow.invoke("hello", config).block());
    out.println(myWorkflow.invoke("hello", config).block());
  }
}
