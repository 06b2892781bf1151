package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.postgres.PostgresSaver;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import reactor.core.publisher.Mono;

/**
 * {@code e2e.mjs} (the official {@code @langchain/langgraph-sdk}) against two server processes on one PostgreSQL, in
 * this JVM, behind a proxy that alternates the client's requests between them: a run started through one process is
 * streamed, joined, waited for, cancelled and listed through the other. Each test has a database of its own (e2e.mjs
 * counts the threads it made).
 */
class JsClientTwoProcessesIT {

  private static final Pattern THREAD_STREAM = Pattern.compile("GET /threads/[^/]+/stream(\\?.*)?");

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String KEY = "two-processes-key";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicInteger DATABASES = new AtomicInteger();

  private static EmbeddedPostgres postgres;
  private final List<PostgresSaver> savers = new ArrayList<>();
  private final List<FluxgraphServer> servers = new ArrayList<>();
  private RoundRobinProxy proxy;

  @BeforeAll
  static void startDatabase() throws IOException {
    postgres = EmbeddedPostgres.builder().start();
  }

  @AfterAll
  static void stopDatabase() throws IOException {
    postgres.close();
  }

  /** Two servers on a new database, and a proxy giving each {@code runLength} consecutive requests in turn. */
  private void start(int runLength, int skip) throws SQLException {
    String database = "e2e_" + DATABASES.incrementAndGet();
    try (Connection connection = postgres.getPostgresDatabase().getConnection();
         Statement statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE " + database);
    }
    String url = "r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/" + database;
    List<Integer> ports = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      PostgresSaver saver = PostgresSaver.connect(url);
      savers.add(saver);
      saver.setup().block(WAIT);
      FluxgraphServer server = JsClientE2e.graphs(FluxgraphServer.builder().discoverGraphs(false).port(0)
          .checkpointer(saver).apiKey(KEY).shutdownGrace(Duration.ofSeconds(5)), saver).build().start().block(WAIT);
      servers.add(server);
      ports.add(server.port());
    }
    proxy = RoundRobinProxy.of(ports, runLength, skip);
  }

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    for (FluxgraphServer server : servers) {
      server.stop().onErrorResume(error -> Mono.empty()).block(WAIT);
    }
    savers.forEach(PostgresSaver::close);
  }

  /**
   * Every request to the other process (1, 0), and in pairs (2, 0 and 2, 1), so that requests two apart (a run
   * created, then cancelled after a refused second one) also meet different processes.
   */
  @ParameterizedTest(name = "{0} request(s) per process in turn, the first run {1} shorter")
  @CsvSource({"1, 0", "2, 0", "2, 1"})
  void theOfficialClientDrivesTwoProcessesInTurn(int runLength, int skip) throws Exception {
    start(runLength, skip);
    JsClientE2e.run("http://127.0.0.1:" + proxy.port(), KEY);
    // the client retries 5xx answers and reconnects broken streams: neither may have been needed
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (proxy.exchanges().stream().anyMatch(exchange -> exchange.outcome.equals("open"))
        && System.nanoTime() < deadline) {
      Thread.sleep(20); // the last responses' ends are recorded just after the client read them; no timing asserted
    }
    List<RoundRobinProxy.Exchange> exchanges = proxy.exchanges();
    String log = exchanges.stream().map(Object::toString).collect(Collectors.joining("\n"));
    // the last answer (GET /info) may be recorded "cancelled": node exits, closing its connection, as it reads it
    List<RoundRobinProxy.Exchange> checked = exchanges.subList(0, exchanges.size() - 1);
    // a thread's stream never ends by itself: e2e.mjs closes each one it opened once it saw what it waited for
    assertTrue(checked.stream().allMatch(exchange -> exchange.status < 500 && (exchange.outcome.equals("complete")
        || exchange.status == 200 && THREAD_STREAM.matcher(exchange.request).matches())), log);
    assertEquals(200, exchanges.get(exchanges.size() - 1).status, log);
    // e2e.mjs makes some 70 requests: each process got about half of them
    int to0 = proxy.requests(0);
    int to1 = proxy.requests(1);
    assertTrue(to0 >= 30 && to1 >= 30 && Math.abs(to0 - to1) <= runLength, "requests per process: " + to0 + ", "
        + to1 + "\n" + log);
  }

  /** The proxy itself: an SSE response streams through event by event, and the API key reaches the servers. */
  @Test
  void theProxyStreamsEventsAsTheyComeAndPassesTheKey() throws Exception {
    start(1, 0);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> refused = http.send(request("/threads").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(401, refused.statusCode(), "without the key: " + refused.body());
    HttpResponse<String> created = http.send(keyed("/threads").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, created.statusCode(), created.body());
    String thread = JSON.readTree(created.body()).get("thread_id").asText();
    // a run that naps for five minutes: its metadata event can only arrive in time if nothing buffers the body
    HttpResponse<Stream<String>> stream = http.sendAsync(keyed("/threads/" + thread + "/runs/stream")
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
            "{\"assistant_id\":\"sleepy\",\"input\":\"zzz\"}")).build(), HttpResponse.BodyHandlers.ofLines())
        .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    try (Stream<String> lines = stream.body()) {
      assertEquals(200, stream.statusCode());
      assertTrue(stream.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"),
          stream.headers().toString());
      Iterator<String> reader = lines.iterator();
      String metadata = CompletableFuture.supplyAsync(() -> {
        boolean named = false;
        while (reader.hasNext()) {
          String line = reader.next();
          if (named && line.startsWith("data: ")) {
            return line.substring(6);
          }
          named = named || line.equals("event: metadata");
        }
        return "the stream ended without a metadata event";
      }).get(WAIT.toSeconds(), TimeUnit.SECONDS);
      JsonNode run = JSON.readTree(metadata);
      String runId = run.path("run_id").asText();
      assertFalse(runId.isEmpty(), metadata);
      HttpResponse<String> status = http.send(keyed("/threads/" + thread + "/runs/" + runId).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals("running", JSON.readTree(status.body()).path("status").asText(), status.body());
      HttpResponse<String> cancelled = http.send(keyed("/threads/" + thread + "/runs/" + runId
          + "/cancel?wait=1&action=interrupt").POST(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(2, cancelled.statusCode() / 100, cancelled.statusCode() + " " + cancelled.body());
    }
    assertEquals(List.of(0, 1, 0, 1, 0), proxy.exchanges().stream().map(exchange -> exchange.backend).toList(),
        proxy.exchanges().toString());
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path)).timeout(WAIT);
  }

  private HttpRequest.Builder keyed(String path) {
    return request(path).header("x-api-key", KEY);
  }
}
