package dev.fluxgraph.springai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.messages.AiMessage;
import dev.fluxgraph.messages.Message;
import dev.fluxgraph.messages.ToolMessage;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RunConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A JVM killed between the model call and the tool call, then the run resumed elsewhere: the model's answer was
 * checkpointed (PostgreSQL, durability {@code sync}), so the resumed run replays it and the fake model server never
 * sees that request twice. The child JVM ({@link KilledAgent}) runs the agent until its tool has started, then
 * {@code destroyForcibly} ends it; this JVM continues the thread with {@code Command.proceed()}. The checkpoint is
 * read a second way too, by plain SQL.
 */
class SpringAiKillIT {

  /** The bound of a wait on a loaded machine (2 cores shared with other builds: a Boot start can take a minute). */
  private static final Duration WAIT = Duration.ofMinutes(5);
  private static final List<String> JVM_OPTIONS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
      "-Xmx256m");

  @TempDir
  static Path logs;

  private static EmbeddedPostgres postgres;
  private static String r2dbcUrl;
  private static FakeOpenAi server;

  @BeforeAll
  static void start() throws IOException {
    postgres = EmbeddedPostgres.builder().start();
    r2dbcUrl = "r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/postgres";
    try (PostgresSaver saver = PostgresSaver.connect(r2dbcUrl)) {
      saver.setup().block(WAIT);
    }
    server = new FakeOpenAi();
  }

  @AfterAll
  static void stop() throws IOException {
    server.close();
    postgres.close();
  }

  @Test
  void aRunKilledInsideTheToolCallResumesWithoutCallingTheModelAgain() throws Exception {
    String thread = "killed-1";
    Path out = Files.createTempFile(logs, "child", ".out");
    Process child = new ProcessBuilder(javaCommand(KilledAgent.class.getName(), r2dbcUrl, server.baseUrl(), thread))
        .redirectOutput(out.toFile()).redirectErrorStream(true).start();
    try {
      awaitLine(child, out, KilledAgent.TOOL_STARTED);
      assertEquals(1, server.requests().size(), "the child called the model once");
      child.destroyForcibly();
      assertTrue(child.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "the child did not end on kill -9");
    } finally {
      child.destroyForcibly();
    }
    assertEquals(Map.of("call_model", 1), tasksWritten(thread), "the model's answer is in the checkpoint");

    AtomicInteger toolCalls = new AtomicInteger();
    ConfigurableApplicationContext app = OpenAiStarter.start(server.baseUrl());
    try (PostgresSaver saver = PostgresSaver.connect(r2dbcUrl)) {
      List<Message> conversation = WeatherAgent.define(OpenAiStarter.chatModel(app), saver,
              WeatherTool.of(query -> {
                toolCalls.incrementAndGet();
                return "sunny";
              }))
          .invoke(Command.proceed(), RunConfig.thread(thread)).block(WAIT);
      assertEquals(4, conversation.size(), conversation.toString());
      assertEquals("call_1", assertInstanceOf(ToolMessage.class, conversation.get(2)).toolCallId());
      assertEquals("It is sunny in sf", assertInstanceOf(AiMessage.class, conversation.get(3)).content());
    } finally {
      app.close();
    }

    assertEquals(1, toolCalls.get(), "the tool ran once here (it never finished in the killed process)");
    List<JsonNode> requests = server.requests();
    assertEquals(2, requests.size(), "one request per model call, none repeated: " + requests);
    assertEquals("user", lastRole(requests.get(0)));
    assertEquals("tool", lastRole(requests.get(1)));
    assertEquals(Map.of("call_model", 2, "get_weather", 1), tasksWritten(thread));
  }

  private static String lastRole(JsonNode request) {
    JsonNode messages = request.path("messages");
    return messages.get(messages.size() - 1).path("role").asText();
  }

  /** Per task name, how many distinct task calls have writes on the thread, read by plain SQL. */
  private static Map<String, Integer> tasksWritten(String thread) throws SQLException {
    Map<String, Integer> tasks = new TreeMap<>();
    try (Connection connection = postgres.getPostgresDatabase().getConnection();
         PreparedStatement query = connection.prepareStatement("SELECT task_name, count(DISTINCT task_id)"
             + " FROM fluxgraph_writes WHERE thread_id = ? AND task_name <> 'weather_agent' GROUP BY task_name")) {
      query.setString(1, thread);
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          tasks.put(rows.getString(1), rows.getInt(2));
        }
      }
    }
    return tasks;
  }

  private static List<String> javaCommand(String mainClass, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(JVM_OPTIONS);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
    command.addAll(List.of(args));
    return command;
  }

  private static String threadDump(Process child) {
    try {
      Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
          String.valueOf(child.pid()), "Thread.print").redirectErrorStream(true).start();
      String dump = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      jcmd.waitFor(30, TimeUnit.SECONDS);
      return dump;
    } catch (IOException | InterruptedException e) {
      return "(no thread dump: " + e + ")";
    }
  }

  /** Waits (bounded) for a line in the child's output; fails with the output if the child ends first. */
  private static void awaitLine(Process child, Path out, String line) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      String text = Files.readString(out, StandardCharsets.UTF_8);
      if (text.lines().anyMatch(line::equals)) {
        return;
      }
      if (!child.isAlive()) {
        throw new AssertionError("the child ended with " + child.exitValue() + " before '" + line + "':\n" + text);
      }
      child.waitFor(100, TimeUnit.MILLISECONDS); // waits for the process, not for a time to pass
    }
    throw new AssertionError("no '" + line + "' within " + WAIT + " (the model server has " + server.requests().size()
        + " requests):\n" + Files.readString(out) + "\nthreads of the child:\n" + threadDump(child));
  }
}
