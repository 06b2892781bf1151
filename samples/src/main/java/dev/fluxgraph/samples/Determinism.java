package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.TypeRef;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;

/**
 * "Determinism" and "side effects": a random number and the time are produced inside a task, so a resumed run
 * replays the same values; a side effect written in the body (outside a task) runs again on resume.
 */
public final class Determinism implements Sample {

  static final Task<Object, Map<String, Object>> ROLL = Task.of("roll", new TypeRef<Map<String, Object>>() { },
      ignored -> Mono.fromCallable(() -> Map.of("dice", ThreadLocalRandom.current().nextInt(1, 7),
          "at", System.currentTimeMillis())));

  @Override
  public String name() {
    return "determinism";
  }

  @Override
  public String description() {
    return "random/time inside a task replay the same on resume; body side effects run again";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    AtomicInteger bodySideEffects = new AtomicInteger();
    Entrypoint<String, String> game = Entrypoint.named("game").checkpointer(new InMemorySaver())
        .define(String.class, String.class, (player, context) -> {
          bodySideEffects.incrementAndGet(); // outside a task: happens again on every resume
          return ROLL.call().flatMap(roll -> context.interrupt(Map.of("rolled", roll.get("dice")), String.class)
              .map(answer -> player + " rolled " + roll.get("dice") + " at " + roll.get("at") + " and says " + answer));
        });
    RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
    out.println("paused on " + Printing.json(game.run("ann", config).block().interrupts().get(0).value()));
    out.println(game.invoke(Command.resume("yay"), config).block());
    out.println("body side effect ran " + bodySideEffects.get() + " times; the roll ran once");
  }
}
