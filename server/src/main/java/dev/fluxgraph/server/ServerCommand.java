package dev.fluxgraph.server;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import ch.qos.logback.classic.LoggerContext;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.internal.server.Durations;
import dev.fluxgraph.internal.server.api.Cors;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.postgres.PostgresStore;
import dev.fluxgraph.store.InMemoryStore;
import dev.fluxgraph.store.Store;
import dev.fluxgraph.types.FluxgraphJson;
import io.r2dbc.spi.ConnectionFactoryOptions;
import io.r2dbc.spi.R2dbcException;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The command line of {@link FluxgraphServer#main}. A problem at start (bad option, port in use, database refused,
 * unusable data directory) ends it with one line on standard error, {@code fluxgraph: <problem>; <what to do>}, and
 * exit code 2 for bad options, 1 for the rest; log lines go to standard output.
 */
@Command(name = "fluxgraph-server", mixinStandardHelpOptions = true, version = "Fluxgraph 0.1.0-SNAPSHOT",
    description = "Serves the graphs found on the class path (GraphProvider) over the LangGraph Server API. "
        + "Storage: an embedded PostgreSQL under --data-dir (default), an external one (--database-url), "
        + "or nothing (--in-memory).")
final class ServerCommand implements Callable<Integer> {

  private static final String URL_FORM = "r2dbc:postgresql://user:password@host:5432/database";
  private static final List<String> LOG_LEVELS = List.of("error", "warn", "info", "debug", "trace", "off");
  private static final Duration START_TIMEOUT = Duration.ofMinutes(1);

  @Spec
  @Nullable CommandSpec spec;

  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default ${DEFAULT-VALUE}).")
  String host = "127.0.0.1";

  @Option(names = "--port", defaultValue = "2024", description = "Port to listen on, 0 for any free one "
      + "(default ${DEFAULT-VALUE}).")
  int port = 2024;

  @Option(names = "--database-url", description = "R2DBC URL of an external PostgreSQL, e.g. " + URL_FORM)
  @Nullable String databaseUrl;

  @Option(names = "--data-dir", defaultValue = ".fluxgraph/postgres",
      description = "Directory of the embedded PostgreSQL's data (default ${DEFAULT-VALUE}); its output goes to "
          + "the file <data-dir>.log.")
  Path dataDir = Path.of(".fluxgraph/postgres");

  @Option(names = "--in-memory", description = "Keep nothing: threads are lost when the process ends.")
  boolean inMemory;

  @Option(names = "--api-key", defaultValue = "${env:FLUXGRAPH_API_KEY}",
      description = "Require this key in the x-api-key header (default: env FLUXGRAPH_API_KEY).")
  @Nullable String apiKey;

  @Option(names = "--log-level", defaultValue = "${env:FLUXGRAPH_LOG_LEVEL}", paramLabel = "<level>",
      description = "error, warn, info, debug, trace or off (default: env FLUXGRAPH_LOG_LEVEL, else info).")
  @Nullable String logLevel;

  @Option(names = "--cors-allow-origin", split = ",", paramLabel = "<origin>",
      description = "Let pages from this origin call the server (CORS), e.g. http://localhost:3000, or * for any; "
          + "repeatable or comma-separated. Default: any origin without --api-key, none with it.")
  @Nullable List<String> corsAllowOrigins;

  @Option(names = "--lease-ttl", paramLabel = "<duration>",
      description = "How long this process's lease on its runs lasts without a heartbeat, e.g. 30s (the default), "
          + "500ms, 2m; a process that stopped has its runs taken over (resumed from their checkpoints) by another "
          + "one after about this long. PostgreSQL only.")
  @Nullable String leaseTtl;

  @Option(names = "--heartbeat-interval", paramLabel = "<duration>",
      description = "How often the lease is renewed, at most a third of --lease-ttl (default 5s, or a third of a "
          + "shorter lease). PostgreSQL only.")
  @Nullable String heartbeatInterval;

  @Option(names = "--worker-id-prefix", defaultValue = "${env:FLUXGRAPH_WORKER_ID_PREFIX}", paramLabel = "<prefix>",
      description = "Start of this process's worker id in the database, completed by a random part at each start "
          + "(default: env FLUXGRAPH_WORKER_ID_PREFIX, else fluxgraph-<pid>). PostgreSQL only.")
  @Nullable String workerIdPrefix;

  @Option(names = "--max-attempts", paramLabel = "<n>",
      description = "How many executions a run gets: a run whose process stopped is resumed by another one, and "
          + "after this many it ends as error instead (default 3). PostgreSQL only.")
  @Nullable Integer maxAttempts;

  @Option(names = "--shutdown-grace", paramLabel = "<duration>",
      description = "On SIGTERM, how long the runs executing here may take to finish before they are handed over "
          + "to the other processes (in memory: cancelled), e.g. 30s (the default), 0s.")
  @Nullable String shutdownGrace;

  @Option(names = "--events-retention", paramLabel = "<duration>",
      description = "How long a run's events are kept after it ended, for joinStream from any process and after a "
          + "restart, e.g. 1h (the default), 10m. PostgreSQL only.")
  @Nullable String eventsRetention;

  @Option(names = "--graph-config", defaultValue = "${env:FLUXGRAPH_GRAPH_CONFIG}", paramLabel = "<json>",
      description = "Config of the graphs' own assistants, as a JSON object of graph id to run config, e.g. "
          + "'{\"agent\": {\"configurable\": {\"model\": \"small\"}, \"context\": {\"user\": \"a\"}}}' "
          + "(default: env FLUXGRAPH_GRAPH_CONFIG): runs of that assistant get them as defaults.")
  @Nullable String graphConfig;

  @Option(names = "--enable-truncate",
      description = "Serve POST /internal/truncate, which deletes all threads, created assistants and store items "
          + "(the reference dev server's reset between test suites). For throwaway test servers only.")
  boolean enableTruncate;

  private final CountDownLatch stopped = new CountDownLatch(1);

  /** Runs the command line on the process's standard streams: {@link #run(String[], PrintWriter, PrintWriter)}. */
  static int run(String[] args) {
    return run(args, new PrintWriter(System.out, true, StandardCharsets.UTF_8),
        new PrintWriter(System.err, true, StandardCharsets.UTF_8));
  }

  /**
   * Parses {@code args}, starts the server and returns when it has stopped (a shutdown signal), with the exit code:
   * 0 after a stop or for {@code --help}, 1 when the server could not start, 2 for bad options. Problems are one
   * line on {@code err}; the cause's stack trace is logged at DEBUG.
   */
  static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine line = new CommandLine(new ServerCommand()).setOut(out).setErr(err);
    line.setParameterExceptionHandler((problem, ignored) -> {
      String hint = problem instanceof UnmatchedArgumentException unmatched && !unmatched.getSuggestions().isEmpty()
          ? "; did you mean " + String.join(" or ", unmatched.getSuggestions()) + "?" : "";
      err.println("fluxgraph: " + problem.getMessage() + hint + " (--help lists the options)");
      err.flush();
      return 2;
    });
    line.setExecutionExceptionHandler((error, command, parsed) -> {
      StartupProblem problem = error instanceof StartupProblem known ? known : StartupProblem.unexpected(error);
      LoggerFactory.getLogger(ServerCommand.class).debug("start-up failed", error);
      err.println("fluxgraph: " + problem.getMessage());
      err.flush();
      return 1;
    });
    return line.execute(args);
  }

  @Override
  public Integer call() throws Exception {
    CommandLine line = spec.commandLine();
    applyLogLevel(line);
    checkOptions(line);
    // the embedded database's JDBC driver logs through java.util.logging: into the same log
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    Logger log = LoggerFactory.getLogger(FluxgraphServer.class);
    checkListen(); // before the database starts: a taken port is the most common problem and should show at once
    List<AutoCloseable> resources = new ArrayList<>();
    FluxgraphServer server;
    Storage storage;
    try {
      storage = openStorage(line, resources);
      FluxgraphServer.Builder builder = FluxgraphServer.builder().checkpointer(storage.checkpointer())
          .store(storage.store()).host(host).port(port).apiKey(apiKey);
      if (corsAllowOrigins != null) {
        builder.corsAllowOrigins(corsAllowOrigins);
      }
      graphConfigs(line).forEach(builder::graphConfig);
      builder.truncateEndpoint(enableTruncate);
      leases(line, builder);
      FluxgraphServer built = builder.build();
      try {
        server = built.start().block(START_TIMEOUT);
      } catch (RuntimeException e) {
        String url = storage.url();
        throw url != null && isDatabaseProblem(e) ? StartupProblem.database(describe(url), e)
            : StartupProblem.listen(host, port, e);
      }
    } catch (RuntimeException e) {
      closeAll(resources);
      if (e instanceof IllegalStateException noGraphs && String.valueOf(e.getMessage()).startsWith("no graphs")) {
        throw new StartupProblem("no graphs to serve: put a jar with a GraphProvider (listed in META-INF/services/"
            + GraphProvider.class.getName() + ") on the class path", noGraphs);
      }
      throw e;
    }
    log.info("Fluxgraph server listening on http://{}:{} (storage: {})", host, server.port(), storage.description());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("Fluxgraph server stopping");
      server.stop().block(server.shutdownGrace().plusSeconds(10));
      closeAll(resources);
      stopped.countDown();
    }, "fluxgraph-shutdown"));
    stopped.await();
    return 0;
  }

  /** The server's persistence, what the "listening" line says about it, and its database URL (null in memory). */
  private record Storage(CheckpointSaver checkpointer, Store store, String description, @Nullable String url) {
  }

  /**
   * Opens the storage the options ask for (adding what must be closed to {@code resources}): memory, the embedded
   * PostgreSQL, or the one of --database-url, with the checkpoint and store tables set up.
   */
  private Storage openStorage(CommandLine line, List<AutoCloseable> resources) {
    if (inMemory) {
      return new Storage(new InMemorySaver(), new InMemoryStore(), "in memory (nothing is kept)", null);
    }
    String url = databaseUrl;
    String where;
    String description;
    if (url == null) {
      Path dir = dataDir.toAbsolutePath().normalize();
      url = startEmbedded(dir, resources);
      where = describe(url) + " (the embedded one)";
      description = "embedded PostgreSQL in " + dir;
    } else {
      where = describe(url);
      description = "PostgreSQL at " + where;
    }
    PostgresSaver saver;
    PostgresStore store;
    try {
      saver = PostgresSaver.connect(url);
      resources.add(0, saver);
      store = PostgresStore.connect(url);
      resources.add(0, store);
    } catch (IllegalArgumentException | IllegalStateException e) { // the driver refused the URL's options
      throw new ParameterException(line, "--database-url " + mask(url) + " is not usable ("
          + mask(e.getMessage(), url) + "); write it as " + URL_FORM);
    }
    try {
      saver.setup().then(store.setup()).block(START_TIMEOUT);
    } catch (RuntimeException e) {
      throw StartupProblem.database(where, e);
    }
    return new Storage(saver, store, description, url);
  }

  /** --graph-config (or FLUXGRAPH_GRAPH_CONFIG) by graph id; empty without either. */
  private Map<String, Map<String, Object>> graphConfigs(CommandLine line) {
    if (graphConfig == null || graphConfig.isBlank()) {
      return Map.of();
    }
    String source = line.getParseResult().hasMatchedOption("--graph-config") ? "--graph-config"
        : "FLUXGRAPH_GRAPH_CONFIG";
    JsonNode parsed;
    try {
      parsed = FluxgraphJson.mapper().readTree(graphConfig);
    } catch (JsonProcessingException e) {
      throw new ParameterException(line, source + " is not JSON (" + e.getOriginalMessage() + "); give an object "
          + "of graph id to config");
    }
    if (parsed == null || !parsed.isObject()) {
      throw new ParameterException(line, source + " must be a JSON object of graph id to config");
    }
    Map<String, Map<String, Object>> configs = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> entry : parsed.properties()) {
      if (!entry.getValue().isObject()) {
        throw new ParameterException(line, source + ": the config of graph '" + entry.getKey() + "' must be an "
            + "object");
      }
      configs.put(entry.getKey(), FluxgraphJson.mapper().convertValue(entry.getValue(),
          new TypeReference<Map<String, Object>>() { }));
    }
    return configs;
  }

  /** --log-level (or FLUXGRAPH_LOG_LEVEL) sets Logback's root level; without either the configuration's stays. */
  private void applyLogLevel(CommandLine line) {
    if (logLevel == null || logLevel.isBlank()) {
      return;
    }
    String level = logLevel.strip().toLowerCase(Locale.ROOT);
    if (!LOG_LEVELS.contains(level)) {
      String source = line.getParseResult().hasMatchedOption("--log-level") ? "--log-level" : "FLUXGRAPH_LOG_LEVEL";
      throw new ParameterException(line, source + " '" + logLevel + "' is not a log level; use one of "
          + String.join(", ", LOG_LEVELS));
    }
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext logback) {
      logback.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.toLevel(level));
    }
  }

  private void checkOptions(CommandLine line) {
    if (port < 0 || port > 65535) {
      throw new ParameterException(line, "--port must be between 0 and 65535, was " + port);
    }
    if (inMemory && databaseUrl != null) {
      throw new ParameterException(line, "--in-memory and --database-url exclude each other; pass one of them");
    }
    if (corsAllowOrigins != null) {
      try {
        Cors.allowing(corsAllowOrigins); // refused before any storage starts
      } catch (IllegalArgumentException e) {
        throw new ParameterException(line, "--cors-allow-origin: " + e.getMessage());
      }
    }
    for (String option : List.of("--lease-ttl", "--heartbeat-interval", "--worker-id-prefix", "--max-attempts",
        "--events-retention")) {
      if (inMemory && line.getParseResult().hasMatchedOption(option)) {
        throw new ParameterException(line, option + " is for several server processes on one PostgreSQL and has no"
            + " effect with --in-memory; leave it out");
      }
    }
    leases(line, FluxgraphServer.builder().discoverGraphs(false)); // bad values refused before any storage starts
    graphConfigs(line);
    if ((inMemory || databaseUrl != null) && line.getParseResult().hasMatchedOption("--data-dir")) {
      throw new ParameterException(line, "--data-dir is the embedded PostgreSQL's directory and has no effect with "
          + (inMemory ? "--in-memory" : "--database-url") + "; leave it out");
    }
    String url = databaseUrl;
    if (url == null) {
      return;
    }
    if (!url.startsWith("r2dbc:")) {
      String other = url.startsWith("jdbc:") ? " (that is a JDBC URL)" : "";
      throw new ParameterException(line, "--database-url " + mask(url) + " is not an R2DBC URL" + other
          + "; write it as " + URL_FORM);
    }
    ConnectionFactoryOptions options;
    try {
      options = ConnectionFactoryOptions.parse(url);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(line, "--database-url " + mask(url) + " is malformed; write it as " + URL_FORM);
    }
    Object driver = options.getValue(ConnectionFactoryOptions.DRIVER);
    Object protocol = options.getValue(ConnectionFactoryOptions.PROTOCOL);
    Object database = "pool".equals(driver) ? protocol : driver;
    if (!"postgresql".equals(database) && !"postgres".equals(database)) {
      throw new ParameterException(line, "--database-url " + mask(url) + " names the driver '" + database
          + "', but Fluxgraph keeps its data in PostgreSQL; write it as " + URL_FORM);
    }
    if (options.getValue(ConnectionFactoryOptions.HOST) == null) {
      throw new ParameterException(line, "--database-url " + mask(url) + " has no host; write it as " + URL_FORM);
    }
  }

  /**
   * --lease-ttl, --heartbeat-interval, --worker-id-prefix, --max-attempts, --shutdown-grace and --events-retention,
   * parsed and checked (the lease settings also together) on {@code builder}; a bad value is one
   * line naming the option. Checked before any storage starts (by {@link #checkOptions}) and applied here.
   */
  private FluxgraphServer.Builder leases(CommandLine line, FluxgraphServer.Builder builder) {
    String prefix = workerIdPrefix == null || workerIdPrefix.isBlank() ? null : workerIdPrefix;
    apply(line, "--lease-ttl", leaseTtl, value -> builder.leaseTtl(Durations.parse(value)));
    apply(line, "--heartbeat-interval", heartbeatInterval, value -> builder.heartbeatInterval(Durations.parse(value)));
    apply(line, "--worker-id-prefix", prefix, builder::workerIdPrefix);
    apply(line, "--max-attempts", maxAttempts, builder::maxAttempts);
    apply(line, "--shutdown-grace", shutdownGrace, value -> builder.shutdownGrace(Durations.parse(value)));
    apply(line, "--events-retention", eventsRetention, value -> builder.eventsRetention(Durations.parse(value)));
    apply(line, heartbeatInterval != null ? "--heartbeat-interval" : "--lease-ttl", builder,
        FluxgraphServer.Builder::checkLeases); // the two together
    return builder;
  }

  /** Gives the option's value, when set, to {@code setter}; a value it refuses is one line naming the option. */
  private static <T> void apply(CommandLine line, String option, @Nullable T value, Consumer<T> setter) {
    if (value == null) {
      return;
    }
    try {
      setter.accept(value);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(line, option + ": " + e.getMessage());
    }
  }

  /** Binds and releases {@code host:port}, so that a taken port is reported before the database starts. */
  private void checkListen() {
    InetSocketAddress address = new InetSocketAddress(host, port);
    if (address.isUnresolved()) {
      throw StartupProblem.listen(host, port, new UnknownHostException(host));
    }
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true); // as Netty does: a port with connections in TIME_WAIT is free
      probe.bind(address);
    } catch (IOException e) {
      throw StartupProblem.listen(host, port, e);
    }
  }

  /** Starts the embedded PostgreSQL in {@code dir} (created if missing); its output goes to {@code <dir>.log}. */
  private static String startEmbedded(Path dir, List<AutoCloseable> resources) {
    Path logFile = dir.getParent() == null ? dir.resolve("postgres.log")
        : dir.resolveSibling(dir.getFileName() + ".log");
    try {
      if (Files.exists(dir) && !Files.isDirectory(dir)) {
        throw new StartupProblem("--data-dir " + dir + " is a file, not a directory; pass a directory (it is "
            + "created if missing)", null);
      }
      Files.createDirectories(dir);
      if (!Files.isWritable(dir)) {
        throw new StartupProblem("--data-dir " + dir + " is not writable; pass a directory you can write to", null);
      }
      try (Stream<Path> entries = Files.list(dir)) {
        if (entries.findAny().isPresent() && !Files.exists(dir.resolve("PG_VERSION"))) {
          throw new StartupProblem("--data-dir " + dir + " is not empty and holds no PostgreSQL data; pass an empty "
              + "or new directory", null);
        }
      }
      Files.newOutputStream(logFile, StandardOpenOption.CREATE, StandardOpenOption.APPEND).close();
    } catch (IOException e) {
      throw StartupProblem.dataDir(dir, e);
    }
    long logStart = logFile.toFile().length();
    EmbeddedPostgres postgres;
    try {
      postgres = durable(EmbeddedPostgres.builder())
          // stopped by our own shutdown hook after the server (zonky's would stop it concurrently, under the server's
          // last writes: the worker's deregistration among them)
          .setRegisterShutdownHook(false)
          .setDataDirectory(dir)
          .setCleanDataDirectory(false)
          .setOutputRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
          .setErrorRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
          .start();
    } catch (IOException | RuntimeException e) {
      throw StartupProblem.embedded(dir, logFile, logStart, e);
    }
    resources.add(postgres);
    LoggerFactory.getLogger(FluxgraphServer.class).info("embedded PostgreSQL ready on port {} (data in {}, its "
        + "output in {})", postgres.getPort(), dir, logFile);
    return "r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/postgres";
  }

  /**
   * PostgreSQL's durable settings for the embedded database. zonky's builder is made for tests: it starts the
   * postmaster with {@code -F} (fsync off) and {@code synchronous_commit=off}, so a crash of the machine could lose
   * commits that were acknowledged (a {@code Durability.SYNC} task result among them). A later {@code -c fsync=on}
   * overrides {@code -F}.
   */
  static EmbeddedPostgres.Builder durable(EmbeddedPostgres.Builder builder) {
    return builder.setServerConfig("fsync", "on")
        .setServerConfig("synchronous_commit", "on")
        .setServerConfig("full_page_writes", "on");
  }

  /** Whether a start failure came from the thread and run stores' set-up rather than from binding the port. */
  private static boolean isDatabaseProblem(Throwable error) {
    for (Throwable cause = error; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
      if (cause instanceof R2dbcException) {
        return true;
      }
    }
    return false;
  }

  private static void closeAll(List<AutoCloseable> resources) {
    for (AutoCloseable resource : resources) {
      try {
        resource.close();
      } catch (Exception e) {
        LoggerFactory.getLogger(FluxgraphServer.class).debug("could not close {}", resource, e);
      }
    }
  }

  /** host:port/database of an R2DBC URL, without user and password. */
  private static String describe(String url) {
    ConnectionFactoryOptions options = ConnectionFactoryOptions.parse(url);
    Object database = options.getValue(ConnectionFactoryOptions.DATABASE);
    Object port = options.getValue(ConnectionFactoryOptions.PORT);
    return options.getValue(ConnectionFactoryOptions.HOST) + ":" + (port == null ? 5432 : port)
        + (database == null ? "" : "/" + database);
  }

  /** The URL with its password replaced by {@code ***}. */
  private static String mask(String url) {
    return url.replaceAll("(//[^/@:]*:)[^/@]*@", "$1***@");
  }

  /** A message that may quote {@code url}, with the URL's password masked. */
  private static String mask(@Nullable String message, String url) {
    return message == null ? "" : mask(message.replace(url, mask(url)));
  }
}
