package dev.fluxgraph.server.bench;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.server.GraphProvider;
import dev.fluxgraph.store.Store;
import java.time.Duration;
import java.util.Map;
import reactor.core.publisher.Mono;

/**
 * The graphs the benchmarks give the server's command line ({@code FluxgraphServer.main}) through a services file
 * that {@code scripts/bench-durable.sh} and {@link RecoveryBenchmark} write for the child JVMs only:
 * <ul>
 *   <li>{@code bench}: an entrypoint calling one task that adds one, the workflow of {@link ServerBenchmark};</li>
 *   <li>{@code sleep_until}: answers its input, a wall-clock time in epoch milliseconds, once that time has come
 *       (at once when it has passed), so a run resumed elsewhere after its process was killed ends as soon as it is
 *       executed again, and the time until its end measures the take-over, not the workflow.</li>
 * </ul>
 * Compiled against the current API and loaded next to older builds too (only names those builds have).
 */
public final class BenchGraphs implements GraphProvider {

  @Override
  public Map<String, Entrypoint<?, ?>> graphs(CheckpointSaver checkpointer, Store store) {
    Task<Integer, Integer> addOne = Task.of("add_one", Integer.class, n -> Mono.just(n + 1));
    return Map.of("bench", Entrypoint.named("bench").checkpointer(checkpointer)
            .define(Integer.class, Integer.class, (n, context) -> addOne.call(n)),
        "sleep_until", Entrypoint.named("sleep_until").checkpointer(checkpointer)
            .define(Long.class, Long.class, (until, context) -> Mono.defer(() -> Mono.delay(Duration.ofMillis(
                Math.max(0, until - System.currentTimeMillis()))).thenReturn(until))));
  }
}
