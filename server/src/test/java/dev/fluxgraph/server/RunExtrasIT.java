package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.func.Entrypoint;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * The runs API beyond streaming and waiting, over a real socket, in memory and on PostgreSQL: webhooks on a run's
 * end (retried, never failing the run), cancel's {@code wait} (202 / 204), bulk cancel ({@code POST /runs/cancel}),
 * stateless background runs ({@code POST /runs}, {@code Content-Location: /runs/{id}}) and batches
 * ({@code POST /runs/batch}); and for threads, {@code POST /threads/prune} and {@code supersteps} at creation.
 */
class RunExtrasIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  /** Runs of the {@code count} graph, by input (shared by every server of the test JVM). */
  private static final Map<String, AtomicInteger> COUNTED = new ConcurrentHashMap<>();
  private static final ServerFixture.Database DB = ServerFixture.database(RunExtrasIT.class);

  private static void withServers(String persistence, int processes, ServerFixture.Scenario scenario) {
    Entrypoint<Integer, Integer> sleep = Entrypoint.named("sleep").define(Integer.class, Integer.class,
        (millis, context) -> Mono.delay(Duration.ofMillis(millis)).thenReturn(millis));
    Entrypoint<String, String> count = Entrypoint.named("count").define(String.class, String.class,
        (input, context) -> Mono.fromCallable(() -> input + ":" + COUNTED.computeIfAbsent(input,
            key -> new AtomicInteger()).incrementAndGet()));
    Entrypoint<String, String> fail = Entrypoint.named("fail").define(String.class, String.class,
        (input, context) -> Mono.error(new IllegalStateException("failed on " + input)));
    ServerFixture.withServers(DB.urlFor(persistence), processes, builder -> builder
        .graphOnServerPersistence("sleep", sleep).graphOnServerPersistence("count", count)
        .graphOnServerPersistence("fail", fail), scenario);
  }

  private static void await(String what, BooleanSupplier condition) {
    ServerFixture.await(what, condition);
  }

  private static String status(ApiClient api, String thread, String run) {
    return api.get("/threads/" + thread + "/runs/" + run).json().path("status").asText();
  }

  private static String[] started(ApiClient api, String body) {
    String thread = api.post("/threads", "{}").json().get("thread_id").asText();
    ApiClient.Reply run = api.post("/threads/" + thread + "/runs", body);
    assertEquals(200, run.status(), run.body());
    return new String[] {thread, run.json().get("run_id").asText()};
  }

  /** A webhook receiver on port 0: answers the first {@code failures} calls 500, then 200; keeps the bodies. */
  private record Receiver(DisposableServer server, List<JsonNode> received) {
    static Receiver failingFirst(int failures) {
      List<JsonNode> received = new CopyOnWriteArrayList<>();
      AtomicInteger calls = new AtomicInteger();
      DisposableServer server = HttpServer.create().host("127.0.0.1").port(0)
          .route(routes -> routes.post("/hook", (request, response) -> request.receive().aggregate().asString()
              .flatMap(body -> {
                try {
                  received.add(JSON.readTree(body));
                } catch (Exception e) {
                  return Mono.error(e);
                }
                return response.status(calls.incrementAndGet() <= failures ? 500 : 200).send().then();
              })))
          .bindNow();
      return new Receiver(server, received);
    }

    String url() {
      return "http://127.0.0.1:" + server.port() + "/hook";
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "postgres"})
  void aWebhookGetsTheRunsEndRetriedAfterAFailureAndNeverFailsTheRun(String persistence) {
    Receiver receiver = Receiver.failingFirst(1);
    try {
      withServers(persistence, 1, apis -> {
        ApiClient api = apis.get(0);
        String input = "hooked-" + UUID.randomUUID();
        String[] run = started(api, "{\"assistant_id\":\"count\",\"input\":\"" + input + "\",\"webhook\":\""
            + receiver.url() + "\"}");
        await("the webhook delivered after one failure", () -> receiver.received().size() >= 2);
        JsonNode delivered = receiver.received().get(1);
        assertEquals(receiver.received().get(0).get("run_id"), delivered.get("run_id"), "the same call again");
        assertEquals(run[1], delivered.get("run_id").asText());
        assertEquals(run[0], delivered.get("thread_id").asText());
        assertEquals("success", delivered.get("status").asText(), delivered.toString());
        assertEquals(input + ":1", delivered.get("values").asText(), delivered.toString());
        assertTrue(delivered.get("webhook_sent_at").isTextual());

        // an unreachable webhook is logged, and the run ends as it would without one
        String[] unheard = started(api, "{\"assistant_id\":\"count\",\"input\":\"x\",\"webhook\":"
            + "\"http://127.0.0.1:1/nobody\"}");
        await("the run with an unreachable webhook ends", () -> status(api, unheard[0], unheard[1])
            .equals("success"));

        // a failed run's webhook names the error; a stateless run has one too
        String[] failing = started(api, "{\"assistant_id\":\"fail\",\"input\":\"x\",\"webhook\":\""
            + receiver.url() + "\"}");
        await("the failed run's webhook", () -> receiver.received().stream()
            .anyMatch(body -> body.get("run_id").asText().equals(failing[1])));
        JsonNode failed = receiver.received().stream().filter(body -> body.get("run_id").asText().equals(failing[1]))
            .findFirst().orElseThrow();
        assertEquals("error", failed.get("status").asText(), failed.toString());
        assertTrue(failed.get("error").isTextual(), failed.toString());

        assertEquals(422, api.post("/threads/" + run[0] + "/runs", "{\"assistant_id\":\"count\",\"input\":\"x\","
            + "\"webhook\":\"ftp://example.com/x\"}").status());
        assertEquals(422, api.post("/runs", "{\"assistant_id\":\"count\",\"input\":\"x\",\"webhook\":5}").status());
      });
    } finally {
      receiver.server().disposeNow();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "postgres"})
  void cancellingADelayedRunFreesItsThreadOnOneProcessOrAnother(String persistence) {
    withServers(persistence, persistence.equals("memory") ? 1 : 2, apis -> {
      for (ApiClient canceller : apis) { // the process that recorded the run, then (PostgreSQL) another one
        ApiClient api = apis.get(0);
        String[] run = started(api, "{\"assistant_id\":\"count\",\"input\":\"late\",\"after_seconds\":30}");
        assertEquals("pending", status(api, run[0], run[1]));
        assertEquals("busy", api.get("/threads/" + run[0]).json().path("status").asText(),
            "a thread with a pending run is busy");
        ApiClient.Reply cancelled = canceller.post("/threads/" + run[0] + "/runs/" + run[1] + "/cancel?wait=1", "");
        assertTrue(cancelled.status() / 100 == 2, cancelled.body());
        assertEquals("interrupted", status(canceller, run[0], run[1]));
        for (ApiClient reader : apis) {
          assertEquals("idle", reader.get("/threads/" + run[0]).json().path("status").asText(),
              "the thread is free once its only run was cancelled");
        }
        ApiClient.Reply next = canceller.post("/threads/" + run[0] + "/runs/wait",
            "{\"assistant_id\":\"count\",\"input\":\"next-" + UUID.randomUUID() + "\"}");
        assertEquals(200, next.status(), next.body());
        assertEquals("idle", api.get("/threads/" + run[0]).json().path("status").asText());
      }
    });
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "postgres"})
  void cancelAnswers202WithoutWaitAnd204AfterTheEnd(String persistence) {
    withServers(persistence, 1, apis -> {
      ApiClient api = apis.get(0);
      String[] first = started(api, "{\"assistant_id\":\"sleep\",\"input\":60000}");
      await("running", () -> status(api, first[0], first[1]).equals("running"));
      ApiClient.Reply accepted = api.post("/threads/" + first[0] + "/runs/" + first[1] + "/cancel", "");
      assertEquals(202, accepted.status(), accepted.body());
      assertEquals("", accepted.body());
      await("interrupted", () -> status(api, first[0], first[1]).equals("interrupted"));

      String[] second = started(api, "{\"assistant_id\":\"sleep\",\"input\":60000}");
      ApiClient.Reply waited = api.post("/threads/" + second[0] + "/runs/" + second[1]
          + "/cancel?wait=1&action=interrupt", "");
      assertEquals(204, waited.status(), waited.body());
      assertEquals("interrupted", status(api, second[0], second[1]));
      assertEquals(204, api.post("/threads/" + second[0] + "/runs/" + second[1] + "/cancel?wait=true", "")
          .status(), "a finished run's cancel changes nothing");
      assertEquals(422, api.post("/threads/" + second[0] + "/runs/" + second[1] + "/cancel?wait=soon", "")
          .status());
      assertEquals(404, api.post("/threads/" + second[0] + "/runs/" + UUID.randomUUID() + "/cancel", "").status());
    });
  }

  @Test
  void aCancelOfARunOnAnotherProcessWithoutWaitAnswersAtOnce() {
    withServers("postgres", 2, apis -> {
      String[] run = started(apis.get(0), "{\"assistant_id\":\"sleep\",\"input\":60000}");
      await("running", () -> status(apis.get(1), run[0], run[1]).equals("running"));
      long asked = System.nanoTime();
      ApiClient.Reply accepted = apis.get(1).post("/threads/" + run[0] + "/runs/" + run[1] + "/cancel", "");
      assertEquals(202, accepted.status(), accepted.body());
      assertTrue(Duration.ofNanos(System.nanoTime() - asked).toMillis() < 5000, "wait=0 does not wait for the end");
      await("interrupted by its owner", () -> status(apis.get(1), run[0], run[1]).equals("interrupted"));
      String[] waited = started(apis.get(0), "{\"assistant_id\":\"sleep\",\"input\":60000}");
      await("running", () -> status(apis.get(1), waited[0], waited[1]).equals("running"));
      assertEquals(204, apis.get(1).post("/threads/" + waited[0] + "/runs/" + waited[1] + "/cancel?wait=1", "")
          .status());
      assertEquals("interrupted", DB.first("SELECT status FROM fluxgraph_runs WHERE run_id = '"
          + waited[1] + "'"), "wait=1 answers once the end is committed");
    });
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "postgres"})
  void bulkCancelByIdsOrByStatus(String persistence) {
    withServers(persistence, 1, apis -> {
      ApiClient api = apis.get(0);
      String[] a = started(api, "{\"assistant_id\":\"sleep\",\"input\":60000}");
      String[] b = started(api, "{\"assistant_id\":\"sleep\",\"input\":60000}");
      String queued = api.post("/threads/" + b[0] + "/runs", "{\"assistant_id\":\"sleep\",\"input\":60000,"
          + "\"multitask_strategy\":\"enqueue\"}").json().get("run_id").asText();
      await("running", () -> status(api, a[0], a[1]).equals("running") && status(api, b[0], b[1]).equals("running"));

      assertEquals(204, api.post("/runs/cancel", "{\"thread_id\":\"" + a[0] + "\",\"run_ids\":[\"" + a[1] + "\"]}")
          .status());
      await("a interrupted", () -> status(api, a[0], a[1]).equals("interrupted"));
      assertEquals("running", status(api, b[0], b[1]), "only the runs named");

      assertEquals(204, api.post("/runs/cancel?action=interrupt", "{\"status\":\"pending\",\"thread_id\":\"" + b[0]
          + "\"}").status());
      await("the queued run cancelled", () -> status(api, b[0], queued).equals("interrupted"));
      assertEquals("running", status(api, b[0], b[1]), "only pending runs");
      assertEquals(204, api.post("/runs/cancel", "{\"status\":\"all\"}").status());
      await("b interrupted", () -> status(api, b[0], b[1]).equals("interrupted"));

      assertEquals(422, api.post("/runs/cancel", "{}").status());
      assertEquals(422, api.post("/runs/cancel", "{\"status\":\"all\",\"run_ids\":[\"x\"]}").status());
      assertEquals(422, api.post("/runs/cancel", "{\"run_ids\":[\"" + a[1] + "\"]}").status(), "no thread");
      assertEquals(422, api.post("/runs/cancel", "{\"status\":\"sleeping\"}").status());
      assertEquals(422, api.post("/runs/cancel", "{\"status\":\"all\",\"colour\":1}").status());
      assertEquals(422, api.post("/runs/cancel?action=explode", "{\"status\":\"all\"}").status());
      ApiClient.Reply missing = api.post("/runs/cancel", "{\"thread_id\":\"" + a[0] + "\",\"run_ids\":[\"" + a[1]
          + "\",\"" + UUID.randomUUID() + "\"]}");
      assertEquals(404, missing.status(), missing.body());
    });
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "postgres"})
  void statelessBackgroundRunsAndBatches(String persistence) {
    withServers(persistence, 1, apis -> {
      ApiClient api = apis.get(0);
      int threadsBefore = api.post("/threads/count", "{}").json().asInt();
      String input = "stateless-" + UUID.randomUUID();
      ApiClient.Reply created = api.post("/runs", "{\"assistant_id\":\"count\",\"input\":\"" + input + "\"}");
      assertEquals(200, created.status(), created.body());
      JsonNode run = created.json();
      assertEquals("/runs/" + run.get("run_id").asText(), created.contentLocation());
      assertTrue(List.of("pending", "running", "success").contains(run.get("status").asText()), run.toString());
      await("the stateless run", () -> COUNTED.containsKey(input));

      String one = "batch-" + UUID.randomUUID();
      String two = "batch-" + UUID.randomUUID();
      ApiClient.Reply batch = api.post("/runs/batch", "[{\"assistant_id\":\"count\",\"input\":\"" + one + "\"},"
          + "{\"assistant_id\":\"count\",\"input\":\"" + two + "\"}]");
      assertEquals(200, batch.status(), batch.body());
      assertEquals(2, batch.json().size(), batch.body());
      assertTrue(!batch.json().get(0).get("run_id").asText().equals(batch.json().get(1).get("run_id").asText()));
      await("both batch runs", () -> COUNTED.containsKey(one) && COUNTED.containsKey(two));
      await("the stateless threads deleted", () -> api.post("/threads/count", "{}").json().asInt() == threadsBefore);

      String never = "never-" + UUID.randomUUID();
      ApiClient.Reply refused = api.post("/runs/batch", "[{\"assistant_id\":\"count\",\"input\":\"" + never + "\"},"
          + "{\"assistant_id\":\"count\",\"input\":\"x\",\"durability\":\"never\"}]");
      assertEquals(422, refused.status(), refused.body());
      assertTrue(refused.detail().startsWith("batch[1]"), refused.body());
      assertEquals(422, api.post("/runs/batch", "{\"assistant_id\":\"count\"}").status(), "not a list");
      assertEquals(422, api.post("/runs/batch", "[]").status());
      assertEquals(422, api.post("/runs/batch", "[1]").status());
      assertEquals(404, api.post("/runs/batch", "[{\"assistant_id\":\"nope\",\"input\":\"x\"}]").status());
      Mono.delay(Duration.ofMillis(300)).block();
      assertTrue(!COUNTED.containsKey(never), "a refused batch starts none of its runs");
    });
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "postgres"})
  void pruneDeletesTheThreadsNamedAndSkipsUnknownOnes(String persistence) {
    withServers(persistence, 1, apis -> {
      ApiClient api = apis.get(0);
      String[] done = started(api, "{\"assistant_id\":\"count\",\"input\":\"pruned\"}");
      await("the run", () -> status(api, done[0], done[1]).equals("success"));
      String[] busy = started(api, "{\"assistant_id\":\"sleep\",\"input\":60000}");
      String cron = api.post("/threads/" + done[0] + "/runs/crons", "{\"assistant_id\":\"count\","
          + "\"schedule\":\"0 0 1 1 *\"}").json().get("cron_id").asText();
      ApiClient.Reply pruned = api.post("/threads/prune", "{\"thread_ids\":[\"" + done[0] + "\",\"" + busy[0]
          + "\",\"" + UUID.randomUUID() + "\",\"" + done[0] + "\"]}");
      assertEquals(200, pruned.status(), pruned.body());
      assertEquals(2, pruned.json().get("pruned_count").asInt(), pruned.body());
      assertEquals(404, api.get("/threads/" + done[0]).status());
      assertEquals(404, api.get("/threads/" + busy[0]).status(), "a busy thread's run is cancelled, then it goes");
      assertEquals(404, api.get("/runs/crons/" + cron).status(), "a pruned thread's crons go with it");
      if (persistence.equals("postgres")) {
        assertEquals("0", DB.first("SELECT count(*) FROM fluxgraph_runs WHERE thread_id IN ('"
            + done[0] + "', '" + busy[0] + "')"));
      }
      assertEquals(0, api.post("/threads/prune", "{\"thread_ids\":[]}").json().get("pruned_count").asInt());
      assertEquals(0, api.post("/threads/prune", "{\"thread_ids\":[\"x\"],\"strategy\":\"keep_latest\"}")
          .json().get("pruned_count").asInt(), "keep_latest skips an unknown thread too (ThreadExtrasIT prunes one)");
      assertEquals(422, api.post("/threads/prune", "{\"thread_ids\":[\"x\"],\"strategy\":\"all\"}").status());
      assertEquals(422, api.post("/threads/prune", "{\"thread_ids\":\"x\"}").status());
      assertEquals(422, api.post("/threads/prune", "{\"thread_ids\":[1]}").status());
      assertEquals(422, api.post("/threads/prune", "{\"ids\":[\"x\"]}").status());
    });
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "postgres"})
  void aThreadCreatedWithSuperstepsStartsFromThoseUpdates(String persistence) {
    withServers(persistence, 1, apis -> {
      ApiClient api = apis.get(0);
      ApiClient.Reply created = api.post("/threads", "{\"metadata\":{\"graph_id\":\"count\"},\"supersteps\":["
          + "{\"updates\":[{\"values\":\"first\",\"as_node\":\"count\"}]},"
          + "{\"updates\":[{\"values\":\"second\"}]}]}");
      assertEquals(200, created.status(), created.body());
      String thread = created.json().get("thread_id").asText();
      assertEquals("idle", created.json().get("status").asText());
      JsonNode state = api.get("/threads/" + thread + "/state").json();
      assertEquals("second", state.get("values").asText(), state.toString());
      JsonNode history = api.post("/threads/" + thread + "/history", "{}").json();
      assertEquals(2, history.size(), "one checkpoint per superstep: " + history);
      assertEquals("first", history.get(1).get("values").asText());

      assertEquals(422, api.post("/threads", "{\"supersteps\":[{\"updates\":[{\"values\":\"x\"}]}]}").status(),
          "no graph_id");
      assertEquals(422, api.post("/threads", "{\"metadata\":{\"graph_id\":\"count\"},\"supersteps\":["
          + "{\"updates\":[{\"values\":\"a\"},{\"values\":\"b\"}]}]}").status(), "two writers");
      assertEquals(422, api.post("/threads", "{\"metadata\":{\"graph_id\":\"count\"},\"supersteps\":["
          + "{\"updates\":[{\"values\":\"a\",\"command\":{\"resume\":1}}]}]}").status());
      assertEquals(422, api.post("/threads", "{\"metadata\":{\"graph_id\":\"count\"},\"supersteps\":3}")
          .status());
    });
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "postgres"})
  void aThreadWithATtlIsDeletedThatLongAfterItsLastUpdate(String persistence) {
    withServers(persistence, 1, apis -> {
      ApiClient api = apis.get(0);
      // 0.01 minutes: 600 ms
      String short1 = api.post("/threads", "{\"ttl\":{\"strategy\":\"delete\",\"ttl\":0.01}}").json()
          .get("thread_id").asText();
      String kept = api.post("/threads", "{}").json().get("thread_id").asText();
      String patched = api.post("/threads", "{}").json().get("thread_id").asText();
      String[] run = started(api, "{\"assistant_id\":\"count\",\"input\":\"expiring\"}");
      await("the run", () -> status(api, run[0], run[1]).equals("success"));
      assertEquals(200, api.send("PATCH", "/threads/" + patched, "{\"ttl\":0.01}").status());
      assertEquals(200, api.send("PATCH", "/threads/" + run[0], "{\"ttl\":{\"ttl\":0.01}}").status());
      await("the threads with a ttl deleted", () -> api.get("/threads/" + short1).status() == 404
          && api.get("/threads/" + patched).status() == 404 && api.get("/threads/" + run[0]).status() == 404);
      assertEquals(200, api.get("/threads/" + kept).status(), "a thread without a ttl stays");
      if (persistence.equals("postgres")) {
        assertEquals("0", DB.first("SELECT count(*) FROM fluxgraph_runs WHERE thread_id = '"
            + run[0] + "'"), "its runs went with it");
      }
      for (String bad : List.of("{\"ttl\":{\"strategy\":\"keep\",\"ttl\":5}}", "{\"ttl\":-1}", "{\"ttl\":\"5\"}",
          "{\"ttl\":{\"ttl\":5,\"when\":1}}")) {
        ApiClient.Reply refused = api.post("/threads", bad);
        assertEquals(422, refused.status(), bad + " -> " + refused.body());
        assertTrue(refused.detail().contains("ttl") || refused.detail().contains("when"), refused.body());
      }
      assertEquals(422, api.send("PATCH", "/threads/" + kept, "{\"ttl\":0}").status());
    });
  }
}
