package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.internal.server.api.Cors;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

/**
 * What browsers and background runs need, over real sockets: CORS preflights and headers (allowed and refused
 * origins, with and without an API key, Chrome's private-network preflight), {@code GET /info} and {@code /ok} without
 * a key, and joinStream of runs that ended (background, waited, failed), with {@code Last-Event-ID} and
 * {@code stream_mode}.
 */
class CorsIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PAGE = "http://app.example:3000";
  private static final String KEY = "secret-key";

  /** No API key, CORS left at its default: any origin. */
  private static FluxgraphServer open;
  /** An API key, CORS left at its default: no origin. */
  private static FluxgraphServer locked;
  /** An API key and one allowed origin. */
  private static FluxgraphServer listed;

  record Reply(int status, HttpHeaders headers, String body) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (Exception e) {
        throw new AssertionError("not JSON: " + body, e);
      }
    }

    String header(String name) {
      return headers.get(name);
    }

    /** The SSE events as (name, data, id). */
    List<String[]> events() {
      List<String[]> events = new ArrayList<>();
      for (String block : body.split("\r\n\r\n")) {
        String[] event = new String[3];
        for (String line : block.split("\r\n")) {
          if (line.startsWith("event: ")) {
            event[0] = line.substring(7);
          } else if (line.startsWith("data: ")) {
            event[1] = line.substring(6);
          } else if (line.startsWith("id: ")) {
            event[2] = line.substring(4);
          }
        }
        if (event[0] != null) {
          events.add(event);
        }
      }
      return events;
    }

    List<String> names() {
      return events().stream().map(event -> event[0]).toList();
    }
  }

  @BeforeAll
  static void start() {
    InMemorySaver saver = new InMemorySaver();
    Task<String, String> step1 = Task.of("step_1", String.class, q -> Mono.just(q + " bar"));
    Task<String, String> feedback = Task.of("human_feedback", String.class,
        (String q, TaskContext context) -> context.interrupt("Please provide feedback: " + q, String.class)
            .map(answer -> q + " " + answer));
    Entrypoint<String, String> hitl = Entrypoint.named("graph").checkpointer(saver)
        .define(String.class, String.class, (q, context) -> step1.call(q).flatMap(feedback::call));
    Task<String, String> explode = Task.of("explode", String.class,
        (String q) -> Mono.error(new IllegalStateException("boom: " + q)));
    Entrypoint<String, String> failing = Entrypoint.named("failing").checkpointer(saver)
        .define(String.class, String.class, (q, context) -> step1.call(q).flatMap(explode::call));
    Task<String, String> nap = Task.of("nap", String.class,
        (String q) -> Mono.delay(Duration.ofMillis(300)).thenReturn(q + " rested"));
    Entrypoint<String, String> slow = Entrypoint.named("slow").checkpointer(saver)
        .define(String.class, String.class, (q, context) -> step1.call(q).flatMap(nap::call));
    open = build(FluxgraphServer.builder().graph("hitl", hitl).graph("failing", failing).graph("slow", slow));
    locked = build(FluxgraphServer.builder().graph("hitl", hitl).apiKey(KEY));
    listed = build(FluxgraphServer.builder().graph("hitl", hitl).apiKey(KEY)
        .corsAllowOrigins(PAGE + "/", "https://OTHER.example"));
  }

  private static FluxgraphServer build(FluxgraphServer.Builder builder) {
    return builder.port(0).discoverGraphs(false).build().start().block(Duration.ofSeconds(10));
  }

  @AfterAll
  static void stop() {
    for (FluxgraphServer server : List.of(open, locked, listed)) {
      server.stop().block(Duration.ofSeconds(10));
    }
  }

  private static Reply send(FluxgraphServer server, String method, String path, String body, String... headers) {
    HttpClient.RequestSender request = HttpClient.create().baseUrl("http://127.0.0.1:" + server.port())
        .headers(h -> {
          for (int i = 0; i < headers.length; i += 2) {
            h.set(headers[i], headers[i + 1]);
          }
        })
        .request(HttpMethod.valueOf(method)).uri(path);
    return (body.isEmpty() ? request : request.send(ByteBufFlux.fromString(Mono.just(body))))
        .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8).defaultIfEmpty("")
            .map(text -> new Reply(response.status().code(), response.responseHeaders(), text)))
        .block(Duration.ofSeconds(20));
  }

  private static Reply preflight(FluxgraphServer server, String path, String origin, String... more) {
    List<String> headers = new ArrayList<>(List.of("Origin", origin, "Access-Control-Request-Method", "POST",
        "Access-Control-Request-Headers", "content-type,x-api-key"));
    headers.addAll(Arrays.asList(more));
    return send(server, "OPTIONS", path, "", headers.toArray(String[]::new));
  }

  private static void assertListed(String header, String... names) {
    assertTrue(header != null, "header missing");
    List<String> listed = Arrays.stream(header.split(",")).map(String::trim).map(String::toLowerCase).toList();
    for (String name : names) {
      assertTrue(listed.contains(name), name + " not in " + header);
    }
  }

  // ------------------------------------------------------------------------------------------ CORS

  @Test
  void withoutAKeyAnyOriginIsAllowedByDefault() {
    Reply answer = preflight(open, "/threads", PAGE);
    assertEquals(204, answer.status(), answer.body());
    assertEquals("*", answer.header("Access-Control-Allow-Origin"));
    assertListed(answer.header("Access-Control-Allow-Methods"), "get", "post", "patch", "delete");
    assertListed(answer.header("Access-Control-Allow-Headers"), "content-type", "x-api-key", "authorization",
        "last-event-id");
    assertEquals(String.valueOf(Cors.MAX_AGE_SECONDS), answer.header("Access-Control-Max-Age"));
    Reply custom = preflight(open, "/threads", PAGE, "Access-Control-Request-Headers", "X-Custom, content-type, b@d");
    assertEquals("content-type, x-api-key, authorization, last-event-id, x-custom",
        custom.header("Access-Control-Allow-Headers"), "other asked-for headers are allowed, malformed ones not");
    assertNull(answer.header("Access-Control-Allow-Private-Network"), "only when Chrome asks");
    assertEquals("", answer.body());

    Reply created = send(open, "POST", "/threads", "{}", "Origin", PAGE, "Content-Type", "application/json");
    assertEquals(200, created.status(), created.body());
    assertEquals("*", created.header("Access-Control-Allow-Origin"));
    assertListed(created.header("Access-Control-Expose-Headers"), "content-location", "location",
        "x-pagination-total", "x-pagination-next");
  }

  @Test
  void chromesPrivateNetworkPreflightIsAllowedForAnAllowedOrigin() {
    Reply answer = preflight(open, "/threads/x/runs/stream", "https://public.example",
        "Access-Control-Request-Private-Network", "true");
    assertEquals(204, answer.status());
    assertEquals("true", answer.header("Access-Control-Allow-Private-Network"));

    Reply refused = preflight(locked, "/threads", "https://public.example",
        "Access-Control-Request-Private-Network", "true");
    assertEquals(403, refused.status());
    assertNull(refused.header("Access-Control-Allow-Private-Network"));
  }

  @Test
  void aStreamedRunExposesTheHeadersUseStreamReads() {
    String threadId = send(open, "POST", "/threads", "{}").json().get("thread_id").asText();
    Reply streamed = send(open, "POST", "/threads/" + threadId + "/runs/stream",
        "{\"assistant_id\":\"hitl\",\"input\":\"foo\"}", "Origin", PAGE);
    assertEquals(200, streamed.status());
    assertEquals("*", streamed.header("Access-Control-Allow-Origin"));
    assertListed(streamed.header("Access-Control-Expose-Headers"), "content-location", "location");
    assertTrue(streamed.header("Content-Location").startsWith("/threads/" + threadId + "/runs/"));
    assertEquals(streamed.header("Content-Location") + "/stream", streamed.header("Location"));
    Reply searched = send(open, "POST", "/assistants/search", "{\"limit\":1}", "Origin", PAGE);
    assertEquals("3", searched.header("X-Pagination-Total"));
    assertEquals("1", searched.header("X-Pagination-Next"));
    assertListed(searched.header("Access-Control-Expose-Headers"), "x-pagination-total", "x-pagination-next");
  }

  @Test
  void withAKeyNoOriginIsAllowedByDefaultButOtherClientsAreServed() {
    Reply refused = preflight(locked, "/threads", PAGE);
    assertEquals(403, refused.status());
    assertNull(refused.header("Access-Control-Allow-Origin"));
    assertTrue(refused.json().get("detail").asText().contains("origin " + PAGE + " is not allowed"), refused.body());
    assertTrue(refused.json().get("detail").asText().contains("--cors-allow-origin"), refused.body());
    // a cross-origin request that needs no preflight is refused too: it must not start anything
    Reply simple = send(locked, "POST", "/threads", "{}", "Origin", PAGE, "x-api-key", KEY,
        "Content-Type", "text/plain");
    assertEquals(403, simple.status());
    // no Origin: not a browser; the key decides
    assertEquals(401, send(locked, "POST", "/threads", "{}").status());
    assertEquals(200, send(locked, "POST", "/threads", "{}", "x-api-key", KEY).status());
    // a page served from the server's own address is same-origin, not cross-origin
    Reply same = send(locked, "POST", "/threads", "{}", "Origin", "http://127.0.0.1:" + locked.port(),
        "x-api-key", KEY);
    assertEquals(200, same.status(), same.body());
    assertNull(same.header("Access-Control-Allow-Origin"));
  }

  @Test
  void listedOriginsAreEchoedAndPreflightsNeedNoKey() {
    Reply answer = preflight(listed, "/threads", PAGE);
    assertEquals(204, answer.status(), answer.body());
    assertEquals(PAGE, answer.header("Access-Control-Allow-Origin"));
    assertTrue(answer.headers().getAll("Vary").contains("Origin"), answer.headers().getAll("Vary").toString());
    Reply other = preflight(listed, "/threads", "https://other.example");
    assertEquals(204, other.status(), "origins compare case-insensitively");
    assertEquals("https://other.example", other.header("Access-Control-Allow-Origin"));

    Reply denied = preflight(listed, "/threads", "http://evil.example");
    assertEquals(403, denied.status());
    assertNull(denied.header("Access-Control-Allow-Origin"));
    assertTrue(denied.json().get("detail").asText().contains("allowed: " + PAGE), denied.body());

    // the browser must be able to read a refusal for a missing key, so it carries the CORS headers too
    Reply unauthorized = send(listed, "POST", "/threads", "{}", "Origin", PAGE);
    assertEquals(401, unauthorized.status());
    assertEquals(PAGE, unauthorized.header("Access-Control-Allow-Origin"));
    Reply authorized = send(listed, "POST", "/threads", "{}", "Origin", PAGE, "x-api-key", KEY);
    assertEquals(200, authorized.status());
    assertEquals(PAGE, authorized.header("Access-Control-Allow-Origin"));
    assertListed(authorized.header("Access-Control-Expose-Headers"), "content-location");
  }

  @Test
  void aPlainOptionsRequestListsTheMethods() {
    Reply answer = send(locked, "OPTIONS", "/threads", "");
    assertEquals(204, answer.status());
    assertListed(answer.header("Allow"), "get", "post", "options");
  }

  @Test
  void infoAndOkAnswerWithoutAKey() {
    for (FluxgraphServer server : List.of(open, locked)) {
      Reply info = send(server, "GET", "/info", "");
      assertEquals(200, info.status(), info.body());
      assertEquals("0.1.0-SNAPSHOT", info.json().get("version").asText(), "the project version (Maven filtering)");
      JsonNode flags = info.json().get("flags");
      assertTrue(flags.get("assistants").asBoolean());
      assertTrue(flags.get("crons").asBoolean());
      assertFalse(flags.get("langsmith").asBoolean());
      assertFalse(flags.get("langsmith_tracing_replicas").asBoolean());
      assertEquals(200, send(server, "GET", "/ok", "").status());
      assertTrue(send(server, "GET", "/ok", "").json().get("ok").asBoolean());
    }
    assertEquals(401, send(locked, "POST", "/assistants/search", "{}").status(), "the rest still needs the key");
    Reply fromPage = send(listed, "GET", "/info", "", "Origin", PAGE);
    assertEquals(200, fromPage.status());
    assertEquals(PAGE, fromPage.header("Access-Control-Allow-Origin"));
  }

  @Test
  void originsThatAreNotOriginsAreRefusedWithTheirName() {
    for (String bad : List.of("localhost:3000", "http://localhost:3000/app", "", "http://")) {
      IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
          () -> FluxgraphServer.builder().corsAllowOrigins(bad));
      assertTrue(error.getMessage().contains("'" + bad + "'"), error.getMessage());
    }
  }

  @Test
  void theCommandLineTakesRepeatedAndCommaSeparatedOrigins() {
    ServerCommand command = new ServerCommand();
    new CommandLine(command).parseArgs("--cors-allow-origin", "http://a.example,http://b.example",
        "--cors-allow-origin", "http://c.example");
    assertEquals(List.of("http://a.example", "http://b.example", "http://c.example"), command.corsAllowOrigins);
    ServerCommand none = new ServerCommand();
    new CommandLine(none).parseArgs();
    assertNull(none.corsAllowOrigins, "absent: the default rule applies");
    String usage = new CommandLine(new ServerCommand()).getUsageMessage();
    assertTrue(usage.contains("--cors-allow-origin") && usage.contains("none with it"), usage);
  }

  // ------------------------------------------------------------------------------------------ joinStream

  private static String newThread() {
    return send(open, "POST", "/threads", "{}").json().get("thread_id").asText();
  }

  private static Reply joinStream(String threadId, String runId, String query, String... headers) {
    return send(open, "GET", "/threads/" + threadId + "/runs/" + runId + "/stream" + query, "", headers);
  }

  @Test
  void joinStreamOfAFinishedBackgroundRunReplaysItsEventsAndEnds() {
    String threadId = newThread();
    JsonNode run = send(open, "POST", "/threads/" + threadId + "/runs",
        "{\"assistant_id\":\"slow\",\"input\":\"foo\",\"stream_mode\":[\"updates\",\"values\"]}").json();
    String runId = run.get("run_id").asText();
    assertEquals("\"foo bar rested\"", send(open, "GET", "/threads/" + threadId + "/runs/" + runId + "/join", "")
        .body());
    Reply joined = joinStream(threadId, runId, "");
    assertEquals(200, joined.status());
    List<String[]> events = joined.events();
    assertEquals(List.of("metadata", "updates", "updates", "updates", "values"), joined.names(), joined.body());
    assertEquals("{\"run_id\":\"" + runId + "\",\"attempt\":1}", events.get(0)[1]);
    assertEquals("{\"step_1\":\"foo bar\"}", events.get(1)[1]);
    assertEquals("\"foo bar rested\"", events.get(4)[1]);
    for (int i = 0; i < events.size(); i++) {
      assertEquals(String.valueOf(i), events.get(i)[2], "ids count up from 0");
    }

    Reply after = joinStream(threadId, runId, "", "Last-Event-ID", "2");
    assertEquals(List.of("updates", "values"), after.names(), "the events after id 2");
    assertEquals("3", after.events().get(0)[2]);
    assertEquals(joined.names(), joinStream(threadId, runId, "", "Last-Event-ID", "-1").names());
    assertEquals(List.of(), joinStream(threadId, runId, "", "Last-Event-ID", "4").names(), "nothing after the last");

    Reply values = joinStream(threadId, runId, "?stream_mode=values");
    assertEquals(List.of("metadata", "values"), values.names());
    Reply listed = joinStream(threadId, runId, "?stream_mode=%5B%22updates%22%5D");
    assertEquals(List.of("metadata", "updates", "updates", "updates"), listed.names());
    assertEquals(422, joinStream(threadId, runId, "?stream_mode=nonsense").status());
    assertEquals(422, joinStream(threadId, runId, "", "Last-Event-ID", "abc").status());
  }

  @Test
  void aBackgroundRunWithTheDefaultModePublishesValuesAndItsInterrupt() {
    String threadId = newThread();
    String runId = send(open, "POST", "/threads/" + threadId + "/runs", "{\"assistant_id\":\"hitl\",\"input\":\"q\"}")
        .json().get("run_id").asText();
    JsonNode joined = send(open, "GET", "/threads/" + threadId + "/runs/" + runId + "/join", "").json();
    assertTrue(joined.has("__interrupt__"), joined.toString());
    Reply events = joinStream(threadId, runId, "");
    assertEquals(List.of("metadata", "values"), events.names(), events.body());
    assertTrue(events.events().get(1)[1].contains("Please provide feedback: q bar"), events.body());
    assertEquals("interrupted", send(open, "GET", "/threads/" + threadId, "").json().get("status").asText());
  }

  @Test
  void joinStreamOfAFailedRunEndsWithItsErrorEvent() {
    String threadId = newThread();
    String runId = send(open, "POST", "/threads/" + threadId + "/runs",
        "{\"assistant_id\":\"failing\",\"input\":\"x\",\"stream_mode\":\"updates\"}").json().get("run_id").asText();
    JsonNode joined = send(open, "GET", "/threads/" + threadId + "/runs/" + runId + "/join", "").json();
    assertEquals("boom: x bar", joined.get("__error__").get("message").asText(), joined.toString());
    Reply events = joinStream(threadId, runId, "");
    assertEquals(List.of("metadata", "updates", "error"), events.names(), events.body());
    JsonNode error = new Reply(200, events.headers(), events.events().get(2)[1]).json();
    assertEquals("IllegalStateException", error.get("error").asText());
    assertEquals("boom: x bar", error.get("message").asText());
    assertEquals("error", send(open, "GET", "/threads/" + threadId + "/runs/" + runId, "").json().get("status")
        .asText());
    // the filter keeps errors whatever the modes asked for
    assertEquals(List.of("metadata", "error"), joinStream(threadId, runId, "?stream_mode=values").names());
  }

  @Test
  void aWaitedRunKeepsItsEventsToo() {
    String threadId = newThread();
    Reply waited = send(open, "POST", "/threads/" + threadId + "/runs/wait",
        "{\"assistant_id\":\"slow\",\"input\":\"w\"}");
    assertEquals("\"w bar rested\"", waited.body());
    String runId = waited.header("Content-Location").substring(waited.header("Content-Location").lastIndexOf('/') + 1);
    Reply events = joinStream(threadId, runId, "");
    assertEquals(List.of("metadata", "values"), events.names(), events.body());
    assertEquals("\"w bar rested\"", events.events().get(1)[1]);
  }

  @Test
  void joinStreamOfARunningBackgroundRunReplaysThenFollowsItToTheEnd() {
    String threadId = newThread();
    String runId = send(open, "POST", "/threads/" + threadId + "/runs",
        "{\"assistant_id\":\"slow\",\"input\":\"live\",\"stream_mode\":[\"updates\"]}").json().get("run_id").asText();
    Reply joined = joinStream(threadId, runId, ""); // sent while the nap runs: ends when the run does
    assertEquals(List.of("metadata", "updates", "updates", "updates"), joined.names(), joined.body());
    assertTrue(joined.events().get(3)[1].contains("live bar rested"), joined.body());
    assertEquals("success", send(open, "GET", "/threads/" + threadId + "/runs/" + runId, "").json().get("status")
        .asText());
  }

  @Test
  void answersThatDoNotNeedTheBodyStillReadItSoTheConnectionServesTheNextRequest() {
    // one connection for everything: a request whose answer left it unread stalled the next one on the connection
    reactor.netty.resources.ConnectionProvider one = reactor.netty.resources.ConnectionProvider.create("one", 1);
    try {
      for (FluxgraphServer server : List.of(open, locked)) {
        HttpClient client = HttpClient.create(one).baseUrl("http://127.0.0.1:" + server.port());
        java.util.function.BiFunction<String[], String, Integer> call = (request, body) -> client
            .headers(h -> {
              for (int i = 2; i < request.length; i += 2) {
                h.set(request[i], request[i + 1]);
              }
            })
            .request(HttpMethod.valueOf(request[0])).uri(request[1])
            .send(ByteBufFlux.fromString(Mono.just(body)))
            .responseSingle((response, content) -> content.asString().defaultIfEmpty("")
                .thenReturn(response.status().code()))
            .block(Duration.ofSeconds(5));
        for (int round = 0; round < 25; round++) {
          call.apply(new String[] {"POST", "/threads"}, "{}");
          call.apply(new String[] {"POST", "/threads", "Origin", "http://evil.example", "x-api-key", KEY}, "{}");
          call.apply(new String[] {"OPTIONS", "/threads", "Origin", PAGE, "Access-Control-Request-Method", "POST"}, "");
          call.apply(new String[] {"OPTIONS", "/threads"}, "");
          call.apply(new String[] {"GET", "/ok"}, "");
          call.apply(new String[] {"GET", "/info", "Origin", PAGE}, "");
          assertEquals(200, call.apply(new String[] {"POST", "/assistants/search", "x-api-key", KEY}, "{}"));
        }
      }
    } finally {
      one.dispose();
    }
  }

  @Test
  void joinStreamOfAnUnknownRunIsANotFound() {
    String threadId = newThread();
    Reply missing = joinStream(threadId, "3f0c2d5e-0000-4000-8000-000000000000", "");
    assertEquals(404, missing.status());
    assertTrue(missing.json().get("detail").asText().contains("not found"), missing.body());
  }
}
