package dev.fluxgraph.server;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.store.Store;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The graphs that {@link ServerStartupIT} and {@link MultiProcessIT} give the server's command line, through a
 * services file that only the child JVMs of those tests see (other tests build their servers with
 * {@code discoverGraphs(false)} or their own graphs): {@code echo}; {@code sleep}, which answers its input (a number
 * of milliseconds) after that long; and {@code effects}, whose tasks have a side effect outside the runtime.
 *
 * <p>{@code effects} takes {@code "<tag>:<steps>:<millis>"} (or {@code "<tag>:<steps>:<millis>:<first step's millis>"})
 * and calls the task {@code effect} once per step, one after the other, with {@code "<tag>:<step>:<millis>"}. The task inserts the row {@code (tag, step, pid)} (pid: this
 * JVM's) into the table {@code effects} through plain JDBC at {@value #JDBC_URL} (an environment variable the test
 * sets; the table is the test's), then waits {@code millis} and answers {@code "<tag>:<step>@<pid>"}. The run answers the
 * steps' answers joined by commas: for each step, which process's execution of it the run kept.
 */
public final class StartupTestGraphs implements GraphProvider {

  /** The environment variable naming the JDBC URL that the {@code effect} task writes its rows to. */
  static final String JDBC_URL = "FLUXGRAPH_TEST_JDBC_URL";

  @Override
  public Map<String, Entrypoint<?, ?>> graphs(CheckpointSaver checkpointer, Store store) {
    Task<String, String> effect = Task.of("effect", String.class, (String input) -> {
      String[] parts = input.split(":");
      int step = Integer.parseInt(parts[1]);
      long pid = ProcessHandle.current().pid();
      return Mono.fromCallable(() -> record(parts[0], step, pid)).subscribeOn(Schedulers.boundedElastic())
          .then(Mono.delay(Duration.ofMillis(Long.parseLong(parts[2]))))
          .thenReturn(parts[0] + ":" + step + "@" + pid);
    });
    return Map.of("echo", Entrypoint.named("echo").checkpointer(checkpointer)
            .define(String.class, String.class, (input, context) -> Mono.just(input)),
        "sleep", Entrypoint.named("sleep").checkpointer(checkpointer)
            .define(Integer.class, Integer.class, (input, context) -> Mono.delay(Duration.ofMillis(input))
                .thenReturn(input)),
        "effects", Entrypoint.named("effects").checkpointer(checkpointer)
            .define(String.class, String.class, (input, context) -> {
              String[] parts = input.split(":");
              return Flux.range(1, Integer.parseInt(parts[1]))
                  .concatMap(step -> effect.call(parts[0] + ":" + step + ":"
                      + (step == 1 && parts.length > 3 ? parts[3] : parts[2])))
                  .collectList()
                  .map(steps -> String.join(",", steps));
            }));
  }

  private static int record(String tag, int step, long pid) throws SQLException {
    String url = System.getenv(JDBC_URL);
    if (url == null) {
      throw new IllegalStateException("the effects graph needs " + JDBC_URL + " (a JDBC URL) in the environment");
    }
    try (Connection connection = DriverManager.getConnection(url);
         PreparedStatement insert = connection.prepareStatement(
             "INSERT INTO effects (tag, step, pid) VALUES (?, ?, ?)")) {
      insert.setString(1, tag);
      insert.setInt(2, step);
      insert.setLong(3, pid);
      return insert.executeUpdate();
    }
  }
}
