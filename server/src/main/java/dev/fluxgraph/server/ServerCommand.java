package dev.fluxgraph.server;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.postgres.PostgresStore;
import dev.fluxgraph.store.InMemoryStore;
import dev.fluxgraph.store.Store;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The command line of {@link FluxgraphServer#main}. */
@Command(name = "fluxgraph-server", mixinStandardHelpOptions = true, version = "Fluxgraph 0.1.0-SNAPSHOT",
    description = "Serves the graphs found on the class path (GraphProvider) over the LangGraph Server API. "
        + "Storage: an embedded PostgreSQL under --data-dir (default), an external one (--database-url), "
        + "or nothing (--in-memory).")
final class ServerCommand implements Callable<Integer> {

  @Spec
  @Nullable CommandSpec spec;

  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default ${DEFAULT-VALUE}).")
  String host = "127.0.0.1";

  @Option(names = "--port", defaultValue = "2024", description = "Port to listen on (default ${DEFAULT-VALUE}).")
  int port = 2024;

  @Option(names = "--database-url", description = "R2DBC URL of an external PostgreSQL, e.g. "
      + "r2dbc:postgresql://user:secret@localhost:5432/fluxgraph")
  @Nullable String databaseUrl;

  @Option(names = "--data-dir", defaultValue = ".fluxgraph/postgres",
      description = "Directory of the embedded PostgreSQL's data (default ${DEFAULT-VALUE}).")
  Path dataDir = Path.of(".fluxgraph/postgres");

  @Option(names = "--in-memory", description = "Keep nothing: threads are lost when the process ends.")
  boolean inMemory;

  @Option(names = "--api-key", defaultValue = "${env:FLUXGRAPH_API_KEY}",
      description = "Require this key in the x-api-key header (default: env FLUXGRAPH_API_KEY).")
  @Nullable String apiKey;

  @Option(names = "--cors-allow-origin", split = ",", paramLabel = "ORIGIN",
      description = "Let pages from this origin call the server (CORS), e.g. http://localhost:3000, or * for any; "
          + "repeatable or comma-separated. Default: any origin without --api-key, none with it.")
  @Nullable List<String> corsAllowOrigins;

  private final CountDownLatch stopped = new CountDownLatch(1);

  @Override
  public Integer call() throws Exception {
    if (inMemory && databaseUrl != null) {
      throw new ParameterException(spec.commandLine(), "--in-memory and --database-url exclude each other");
    }
    if (corsAllowOrigins != null) {
      try {
        Cors.allowing(corsAllowOrigins); // refused before any storage starts
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "--cors-allow-origin: " + e.getMessage());
      }
    }
    List<AutoCloseable> resources = new ArrayList<>();
    CheckpointSaver checkpointer;
    Store store;
    String storage;
    if (inMemory) {
      checkpointer = new InMemorySaver();
      store = new InMemoryStore();
      storage = "in memory (nothing is kept)";
    } else {
      String url = databaseUrl;
      if (url == null) {
        url = startEmbedded(resources);
        storage = "embedded PostgreSQL in " + dataDir.toAbsolutePath();
      } else {
        storage = "PostgreSQL at " + url.replaceAll("//[^@/]*@", "//***@");
      }
      PostgresSaver saver = PostgresSaver.connect(url);
      PostgresStore postgresStore = PostgresStore.connect(url);
      resources.add(0, saver);
      resources.add(0, postgresStore);
      saver.setup().then(postgresStore.setup()).block(Duration.ofMinutes(1));
      checkpointer = saver;
      store = postgresStore;
    }
    FluxgraphServer.Builder builder = FluxgraphServer.builder().checkpointer(checkpointer).store(store).host(host)
        .port(port).apiKey(apiKey);
    if (corsAllowOrigins != null) {
      builder.corsAllowOrigins(corsAllowOrigins);
    }
    FluxgraphServer server = builder.build().start().block(Duration.ofMinutes(1));
    PrintWriter out = spec.commandLine().getOut();
    out.printf("Fluxgraph server listening on http://%s:%d (storage: %s)%n", host, server.port(), storage);
    out.flush();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.stop().block(Duration.ofSeconds(10));
      for (AutoCloseable resource : resources) {
        try {
          resource.close();
        } catch (Exception ignored) {
          // shutting down anyway
        }
      }
      stopped.countDown();
    }));
    stopped.await();
    return 0;
  }

  private String startEmbedded(List<AutoCloseable> resources) throws IOException {
    Files.createDirectories(dataDir);
    io.zonky.test.db.postgres.embedded.EmbeddedPostgres postgres = io.zonky.test.db.postgres.embedded.EmbeddedPostgres
        .builder()
        .setDataDirectory(dataDir)
        .setCleanDataDirectory(false)
        .start();
    resources.add(postgres);
    return "r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/postgres";
  }
}
