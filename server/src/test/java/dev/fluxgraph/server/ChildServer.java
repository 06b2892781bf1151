package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A server started as a child JVM ({@link FluxgraphServer#main}) with the test's class path plus {@code graphs} (a
 * directory holding the services file of {@link StartupTestGraphs}), its standard output and error in files; used by
 * {@link ServerStartupIT} and {@link MultiProcessIT}.
 */
record ChildServer(Process process, Path outFile, Path errFile) {

  /** How long a start may take on a loaded machine. */
  static final Duration START = Duration.ofSeconds(90);
  private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+) ");

  /**
   * Starts {@code java -cp <class path>:<graphs> FluxgraphServer <args>} in {@code runDir}, its output in files under
   * {@code logDir}, without the FLUXGRAPH_ variables of this environment but with {@code env}.
   */
  static ChildServer start(Path graphs, Path runDir, Path logDir, Map<String, String> env, List<String> jvmOptions,
                           List<String> args) throws IOException {
    String classPath = System.getProperty("java.class.path") + File.pathSeparator + graphs;
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", classPath, FluxgraphServer.class.getName()));
    command.addAll(args);
    Files.createDirectories(runDir);
    Files.createDirectories(logDir);
    Path out = Files.createTempFile(logDir, "stdout", ".txt");
    Path err = Files.createTempFile(logDir, "stderr", ".txt");
    ProcessBuilder builder = new ProcessBuilder(command).directory(runDir.toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    builder.environment().remove("FLUXGRAPH_LOG_LEVEL");
    builder.environment().remove("FLUXGRAPH_API_KEY");
    builder.environment().remove("FLUXGRAPH_WORKER_ID_PREFIX");
    builder.environment().putAll(env);
    return new ChildServer(builder.start(), out, err);
  }

  /** Writes the services file naming {@link StartupTestGraphs} under {@code graphs}; returns {@code graphs}. */
  static Path graphsDirectory(Path graphs) throws IOException {
    Path services = Files.createDirectories(graphs.resolve("META-INF/services"));
    Files.writeString(services.resolve(GraphProvider.class.getName()), StartupTestGraphs.class.getName() + "\n");
    return graphs;
  }

  String out() {
    return read(outFile);
  }

  String err() {
    return read(errFile);
  }

  /** Waits for the "listening" log line and returns the port in it; fails if the process ends first. */
  int awaitListening() throws InterruptedException {
    long deadline = System.nanoTime() + START.toNanos();
    while (System.nanoTime() < deadline) {
      Matcher listening = LISTENING.matcher(out());
      if (listening.find()) {
        return Integer.parseInt(listening.group(1));
      }
      if (!process.isAlive()) {
        fail("the server ended with " + process.exitValue() + "\nstdout:\n" + out() + "\nstderr:\n" + err());
      }
      process.waitFor(100, TimeUnit.MILLISECONDS); // waits for the process, not for a time to pass
    }
    throw new AssertionError("no 'listening' line within " + START + "\nstdout:\n" + out() + "\nstderr:\n" + err());
  }

  /** Stops it as a terminal's Ctrl-C or a service manager would (SIGTERM: shutdown hooks run); the exit code. */
  int stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(START.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly();
      fail("the server did not stop on SIGTERM");
    }
    return process.exitValue();
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
