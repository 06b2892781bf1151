package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StateSnapshot;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.List;

/** "Manage checkpoints": view a thread's state and its history (newest first) after two runs of accumulate. */
public final class ThreadState implements Sample {

  @Override
  public String name() {
    return "thread-state";
  }

  @Override
  public String description() {
    return "getState and getStateHistory of a thread";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    Entrypoint<Integer, Integer> accumulate = FinalAccumulate.accumulate(new InMemorySaver());
    RunConfig config = RunConfig.thread("1");
    accumulate.invoke(1, config).block();
    accumulate.invoke(2, config).block();
    StateSnapshot state = accumulate.getState(config).block();
    out.println("state: values=" + Printing.json(state.values()) + " next=" + state.next() + " metadata="
        + Printing.json(state.metadata()));
    for (StateSnapshot snapshot : accumulate.getStateHistory(config).collectList().block()) {
      out.println("history: step=" + snapshot.metadata().get("step") + " source=" + snapshot.metadata().get("source")
          + " values=" + Printing.json(snapshot.values()) + " next=" + snapshot.next()
          + " tasks=" + snapshot.tasks().stream().map(task -> task.name()).toList());
    }
  }
}
