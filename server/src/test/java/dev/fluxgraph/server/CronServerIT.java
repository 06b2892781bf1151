package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.internal.server.Assistants;
import dev.fluxgraph.internal.server.storage.CronStore;
import dev.fluxgraph.internal.server.storage.PostgresCronStore;
import dev.fluxgraph.postgres.PostgresSaver;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Crons over a real socket, in memory and on PostgreSQL: create (on a thread, or stateless), search, count, get,
 * update and delete; ticks that fire runs (schedules with a seconds field, so that a test waits seconds, not
 * minutes); on PostgreSQL each tick fires once across two processes of one database.
 */
class CronServerIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  /** Runs of the {@code tick} graph, by the input it was given (shared by every server of the test JVM). */
  private static final Map<String, AtomicInteger> TICKS = new ConcurrentHashMap<>();
  /** What runs of the {@code seer} graph saw of their config and context, by input. */
  private static final Map<String, Map<String, Object>> SEEN = new ConcurrentHashMap<>();
  private static final ServerFixture.Database DB = ServerFixture.database(CronServerIT.class);

  /** {@code processes} servers serving the {@code tick} graph on one storage (PostgreSQL, or one in-memory server). */
  private static void withServers(String persistence, int processes, ServerFixture.Scenario scenario) {
    Entrypoint<String, String> tick = Entrypoint.named("tick").define(String.class, String.class, (input, context) ->
        Mono.fromCallable(() -> input + ":" + TICKS.computeIfAbsent(input, key -> new AtomicInteger())
            .incrementAndGet()));
    Entrypoint<String, String> seer = Entrypoint.named("seer").define(String.class, String.class, (input, context) ->
        Mono.fromCallable(() -> {
          SEEN.put(input, Map.of("configurable", context.config().configurable(),
              "context", context.context(Map.class).orElse(Map.of())));
          return input;
        }));
    ServerFixture.withServers(DB.urlFor(persistence), processes, builder -> builder
        .graphOnServerPersistence("tick", tick).graphOnServerPersistence("seer", seer), scenario);
  }

  private static void await(String what, BooleanSupplier condition) {
    ServerFixture.await(what, condition);
  }

  private static int ticks(String input) {
    AtomicInteger count = TICKS.get(input);
    return count == null ? 0 : count.get();
  }

  /**
   * A cron of an assistant made through {@code /assistants} keeps that assistant, and each tick's run gets its
   * defaults (config, context) as a run request of it would, the cron's own config over them.
   */
  @ParameterizedTest
  @ValueSource(strings = {"memory", "postgres"})
  void aCronsRunsGetTheirAssistantsDefaults(String persistence) {
    withServers(persistence, 1, apis -> {
      ApiClient api = apis.get(0);
      ApiClient.Reply assistant = api.post("/assistants", "{\"graph_id\":\"seer\",\"config\":{\"configurable\":"
          + "{\"model\":\"big\",\"user\":\"ann\"}},\"context\":{\"tone\":\"dry\"}}");
      assertEquals(200, assistant.status(), assistant.body());
      String assistantId = assistant.json().get("assistant_id").asText();
      String input = "seen-" + UUID.randomUUID();
      ApiClient.Reply created = api.post("/runs/crons", "{\"assistant_id\":\"" + assistantId + "\",\"schedule\":"
          + "\"* * * * * *\",\"input\":\"" + input + "\",\"config\":{\"configurable\":{\"user\":\"bob\"}}}");
      assertEquals(200, created.status(), created.body());
      assertEquals(assistantId, created.json().get("assistant_id").asText(), "the cron keeps its assistant");
      String thread = api.post("/threads", "{}").json().get("thread_id").asText();
      ApiClient.Reply onThread = api.post("/threads/" + thread + "/runs/crons", "{\"assistant_id\":\"" + assistantId
          + "\",\"schedule\":\"* * * * * *\",\"input\":\"" + input + "-thread\"}");
      assertEquals(200, onThread.status(), onThread.body());
      await("a tick of each cron", () -> SEEN.containsKey(input) && SEEN.containsKey(input + "-thread"));
      api.send("DELETE", "/runs/crons/" + created.json().get("cron_id").asText(), "");
      api.send("DELETE", "/runs/crons/" + onThread.json().get("cron_id").asText(), "");
      Map<?, ?> configurable = (Map<?, ?>) SEEN.get(input).get("configurable");
      assertEquals("big", configurable.get("model"), "the assistant's config: " + configurable);
      assertEquals("bob", configurable.get("user"), "the cron's config over the assistant's: " + configurable);
      assertEquals(Map.of("tone", "dry"), SEEN.get(input).get("context"), SEEN.get(input).toString());
      Map<?, ?> onItsThread = (Map<?, ?>) SEEN.get(input + "-thread").get("configurable");
      assertEquals("big", onItsThread.get("model"), onItsThread.toString());
      assertEquals("ann", onItsThread.get("user"), onItsThread.toString());
      assertEquals(Map.of("tone", "dry"), SEEN.get(input + "-thread").get("context"));
    });
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "postgres"})
  void createSearchCountGetUpdateAndDelete(String persistence) {
    withServers(persistence, 1, apis -> {
      ApiClient api = apis.get(0);
      String thread = api.post("/threads", "{}").json().get("thread_id").asText();
      ApiClient.Reply created = api.post("/threads/" + thread + "/runs/crons", "{\"assistant_id\":\"tick\","
          + "\"schedule\":\"0 0 1 1 *\",\"input\":\"yearly\",\"metadata\":{\"owner\":\"ann\"}}");
      assertEquals(200, created.status(), created.body());
      JsonNode cron = created.json();
      String cronId = cron.get("cron_id").asText();
      assertEquals(Assistants.idOf("tick"), cron.get("assistant_id").asText());
      assertEquals(thread, cron.get("thread_id").asText());
      assertEquals("0 0 1 1 *", cron.get("schedule").asText());
      assertEquals("yearly", cron.get("payload").get("input").asText());
      assertEquals("ann", cron.get("metadata").get("owner").asText());
      assertTrue(cron.get("enabled").asBoolean());
      assertTrue(cron.get("end_time").isNull());
      Instant next = Instant.parse(cron.get("next_run_date").asText());
      assertEquals(Instant.parse(Instant.now().atZone(java.time.ZoneOffset.UTC).getYear() + 1 + "-01-01T00:00:00Z"),
          next);

      JsonNode stateless = api.post("/runs/crons", "{\"assistant_id\":\"" + Assistants.idOf("tick") + "\","
          + "\"schedule\":\"30 12 * * 1\",\"input\":\"weekly\",\"on_run_completed\":\"keep\",\"enabled\":false,"
          + "\"end_time\":\"2999-01-01T00:00:00Z\"}").json();
      assertTrue(stateless.get("thread_id").isNull(), stateless.toString());
      assertEquals("keep", stateless.get("on_run_completed").asText());
      assertEquals("2999-01-01T00:00:00Z", stateless.get("end_time").asText());
      assertTrue(!stateless.get("enabled").asBoolean());

      assertEquals(cronId, api.get("/runs/crons/" + cronId).json().get("cron_id").asText());
      JsonNode byThread = api.post("/runs/crons/search", "{\"thread_id\":\"" + thread + "\"}").json();
      assertEquals(1, byThread.size(), byThread.toString());
      JsonNode byGraph = api.post("/runs/crons/search", "{\"assistant_id\":\"tick\",\"sort_by\":\"created_at\","
          + "\"sort_order\":\"asc\"}").json();
      assertTrue(byGraph.size() >= 2, byGraph.toString());
      JsonNode disabled = api.post("/runs/crons/search", "{\"enabled\":false,\"select\":[\"cron_id\",\"enabled\"]}")
          .json();
      assertTrue(disabled.size() >= 1, disabled.toString());
      disabled.forEach(found -> assertEquals(2, found.size(), "select keeps only the fields named: " + found));
      assertEquals(1, api.post("/runs/crons/count", "{\"thread_id\":\"" + thread + "\"}").json().asInt());

      JsonNode patched = api.send("PATCH", "/runs/crons/" + cronId, "{\"schedule\":\"0 0 * * *\","
          + "\"input\":\"daily\",\"enabled\":false}").json();
      assertEquals("0 0 * * *", patched.get("schedule").asText());
      assertEquals("daily", patched.get("payload").get("input").asText());
      assertTrue(!patched.get("enabled").asBoolean());
      assertEquals(Instant.now().truncatedTo(ChronoUnit.DAYS).plus(Duration.ofDays(1)),
          Instant.parse(patched.get("next_run_date").asText()));
      JsonNode ended = api.send("PATCH", "/runs/crons/" + cronId, "{\"end_time\":\"2000-01-01T00:00:00Z\"}").json();
      assertTrue(ended.get("next_run_date").isNull(), "past its end the cron has no next run: " + ended);

      assertEquals(204, api.send("DELETE", "/runs/crons/" + cronId, "").status());
      assertEquals(404, api.get("/runs/crons/" + cronId).status());
      assertEquals(404, api.send("DELETE", "/runs/crons/" + cronId, "").status());
      assertEquals(404, api.send("PATCH", "/runs/crons/" + cronId, "{\"enabled\":true}").status());

      // a thread's crons go with it
      String other = api.post("/threads", "{}").json().get("thread_id").asText();
      api.post("/threads/" + other + "/runs/crons", "{\"assistant_id\":\"tick\",\"schedule\":\"0 0 1 1 *\"}");
      assertEquals(1, api.post("/runs/crons/count", "{\"thread_id\":\"" + other + "\"}").json().asInt());
      assertEquals(204, api.send("DELETE", "/threads/" + other, "").status());
      assertEquals(0, api.post("/runs/crons/count", "{\"thread_id\":\"" + other + "\"}").json().asInt());
      if (persistence.equals("postgres")) {
        assertEquals("weekly", DB.first("SELECT payload->>'input' FROM fluxgraph_crons WHERE cron_id = '"
            + stateless.get("cron_id").asText() + "'"));
      }
    });
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "postgres"})
  void aThreadCronRunsOnItsThreadEveryTickAndAStatelessOneOnNewThreads(String persistence) {
    withServers(persistence, 1, apis -> {
      ApiClient api = apis.get(0);
      String input = "on-thread-" + UUID.randomUUID();
      String thread = api.post("/threads", "{}").json().get("thread_id").asText();
      String cronId = api.post("/threads/" + thread + "/runs/crons", "{\"assistant_id\":\"tick\","
          + "\"schedule\":\"* * * * * *\",\"input\":\"" + input + "\",\"multitask_strategy\":\"enqueue\"}").json()
          .get("cron_id").asText();
      await("two ticks on the thread", () -> api.get("/threads/" + thread + "/runs?limit=100").json().size() >= 2);
      api.send("DELETE", "/runs/crons/" + cronId, "");
      await("the runs to finish", () -> {
        JsonNode runs = api.get("/threads/" + thread + "/runs?limit=100").json();
        boolean done = true;
        for (JsonNode run : runs) {
          done &= run.get("status").asText().equals("success");
        }
        return done;
      });
      JsonNode state = api.get("/threads/" + thread + "/state").json();
      assertTrue(state.get("values").asText().startsWith(input + ":"), state.toString());

      String statelessInput = "stateless-" + UUID.randomUUID();
      String stateless = api.post("/runs/crons", "{\"assistant_id\":\"tick\",\"schedule\":\"* * * * * *\","
          + "\"input\":\"" + statelessInput + "\"}").json().get("cron_id").asText();
      await("a stateless tick", () -> ticks(statelessInput) >= 1);
      api.send("DELETE", "/runs/crons/" + stateless, "");

      // past its end_time a cron fires no more
      String endedInput = "ended-" + UUID.randomUUID();
      JsonNode ended = api.post("/runs/crons", "{\"assistant_id\":\"tick\",\"schedule\":\"* * * * * *\","
          + "\"input\":\"" + endedInput + "\",\"end_time\":\"2000-01-01T00:00:00Z\"}").json();
      assertTrue(ended.get("next_run_date").isNull(), ended.toString());
      // a disabled one neither
      String disabledInput = "disabled-" + UUID.randomUUID();
      api.post("/runs/crons", "{\"assistant_id\":\"tick\",\"schedule\":\"* * * * * *\",\"input\":\""
          + disabledInput + "\",\"enabled\":false}");
      String witness = "witness-" + UUID.randomUUID();
      String witnessId = api.post("/runs/crons", "{\"assistant_id\":\"tick\",\"schedule\":\"* * * * * *\","
          + "\"input\":\"" + witness + "\"}").json().get("cron_id").asText();
      await("two witness ticks", () -> ticks(witness) >= 2);
      api.send("DELETE", "/runs/crons/" + witnessId, "");
      assertEquals(0, ticks(endedInput));
      assertEquals(0, ticks(disabledInput));
    });
  }

  @Test
  void eachTickFiresOnceAcrossTwoProcesses() {
    withServers("postgres", 2, apis -> {
      String input = "shared-" + UUID.randomUUID();
      String thread = apis.get(0).post("/threads", "{}").json().get("thread_id").asText();
      Instant start = Instant.now();
      String cronId = apis.get(1).post("/threads/" + thread + "/runs/crons", "{\"assistant_id\":\"tick\","
          + "\"schedule\":\"* * * * * *\",\"input\":\"" + input + "\",\"multitask_strategy\":\"enqueue\"}").json()
          .get("cron_id").asText();
      await("four ticks", () -> ticks(input) >= 4);
      apis.get(0).send("DELETE", "/runs/crons/" + cronId, "");
      Instant end = Instant.now();
      await("the runs to finish", () -> "0".equals(DB.first("SELECT count(*) FROM fluxgraph_runs"
          + " WHERE thread_id = '" + thread + "' AND status IN ('pending', 'running')")));
      long seconds = Duration.between(start, end).toSeconds() + 1;
      int runs = Integer.parseInt(DB.first("SELECT count(*) FROM fluxgraph_runs WHERE thread_id = '"
          + thread + "'"));
      assertTrue(runs <= seconds + 1, runs + " runs in " + seconds + " s: a tick fired twice");
      assertEquals(runs, ticks(input), "every recorded run executed once");
    });
  }

  @Test
  void aTickIsFiredByOneOfManyConcurrentFirers() {
    try (PostgresSaver saver = PostgresSaver.connect(DB.url())) {
      saver.setup().block(Duration.ofSeconds(30));
      withServers("postgres", 1, apis -> { }); // the server's tables
      PostgresCronStore first = new PostgresCronStore(saver.connectionFactory());
      PostgresCronStore second = new PostgresCronStore(saver.connectionFactory());
      Instant due = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(1);
      String thread = UUID.randomUUID().toString();
      CronStore.CronRecord cron = new CronStore.CronRecord(UUID.randomUUID().toString(), Assistants.idOf("tick"),
          thread, "* * * * * *", JSON.createObjectNode().put("input", "x"), Map.of(), null, due, null, true,
          Instant.now(), Instant.now());
      first.create(cron).block(Duration.ofSeconds(10));
      List<String> runIds = new ArrayList<>();
      List<Mono<Boolean>> firings = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        String runId = UUID.randomUUID().toString();
        runIds.add("'" + runId + "'");
        firings.add((i % 2 == 0 ? first : second).fire(cron, due.plusSeconds(1), new CronStore.TickRun(runId, thread,
            cron.assistantId(), Map.of(), "enqueue", JSON.createObjectNode().put("stateless", false))));
      }
      List<Boolean> fired = Flux.merge(firings).collectList().block(Duration.ofSeconds(30));
      assertNotNull(fired);
      assertEquals(1, fired.stream().filter(Boolean::booleanValue).count(), fired.toString());
      assertEquals("1", DB.first("SELECT count(*) FROM fluxgraph_runs WHERE run_id IN ("
          + String.join(", ", runIds) + ")"));
      assertEquals(due.plusSeconds(1), first.get(cron.cronId()).block(Duration.ofSeconds(10)).nextRunAt());
      // the run waits in the queue for its thread; nobody claims a run of a thread that does not exist
      DB.first("DELETE FROM fluxgraph_runs WHERE thread_id = '" + thread + "' RETURNING 1");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "postgres"})
  void badInputIsRefusedNamingTheProblem(String persistence) {
    withServers(persistence, 1, apis -> {
      ApiClient api = apis.get(0);
      String thread = api.post("/threads", "{}").json().get("thread_id").asText();
      assertRefused(api.post("/runs/crons", "{\"assistant_id\":\"tick\"}"), 422, "schedule is required");
      assertRefused(api.post("/runs/crons", "{\"assistant_id\":\"tick\",\"schedule\":\"61 * * * *\"}"), 422,
          "schedule");
      assertRefused(api.post("/runs/crons", "{\"assistant_id\":\"tick\",\"schedule\":\"* * *\"}"), 422,
          "5 fields");
      assertRefused(api.post("/runs/crons", "{\"assistant_id\":\"tick\",\"schedule\":5}"), 422, "schedule");
      assertRefused(api.post("/runs/crons", "{\"schedule\":\"* * * * *\"}"), 422, "assistant_id");
      assertRefused(api.post("/runs/crons", "{\"assistant_id\":\"nope\",\"schedule\":\"* * * * *\"}"), 404, "nope");
      assertRefused(api.post("/runs/crons", "{\"assistant_id\":\"tick\",\"schedule\":\"* * * * *\","
          + "\"colour\":1}"), 422, "unknown field colour");
      assertRefused(api.post("/runs/crons", "{\"assistant_id\":\"tick\",\"schedule\":\"* * * * *\","
          + "\"end_time\":\"tomorrow\"}"), 422, "end_time");
      assertRefused(api.post("/runs/crons", "{\"assistant_id\":\"tick\",\"schedule\":\"* * * * *\","
          + "\"on_run_completed\":\"archive\"}"), 422, "on_run_completed");
      assertRefused(api.post("/runs/crons", "{\"assistant_id\":\"tick\",\"schedule\":\"* * * * *\","
          + "\"enabled\":\"yes\"}"), 422, "enabled");
      assertRefused(api.post("/threads/" + thread + "/runs/crons", "{\"assistant_id\":\"tick\","
          + "\"schedule\":\"* * * * *\",\"on_run_completed\":\"keep\"}"), 422, "on_run_completed");
      assertRefused(api.post("/threads/" + thread + "/runs/crons", "{\"assistant_id\":\"tick\","
          + "\"schedule\":\"* * * * *\",\"multitask_strategy\":\"interrupt\"}"), 422, "multitask_strategy");
      assertRefused(api.post("/threads/" + thread + "/runs/crons", "{\"assistant_id\":\"tick\","
          + "\"schedule\":\"* * * * *\",\"durability\":\"never\"}"), 422, "durability");
      assertRefused(api.post("/threads/" + UUID.randomUUID() + "/runs/crons", "{\"assistant_id\":\"tick\","
          + "\"schedule\":\"* * * * *\"}"), 404, "thread");
      assertRefused(api.post("/runs/crons/search", "{\"sort_by\":\"colour\"}"), 422, "sort_by");
      assertRefused(api.post("/runs/crons/search", "{\"select\":[\"colour\"]}"), 422, "select");
      assertRefused(api.post("/runs/crons/search", "{\"limit\":0}"), 422, "limit");
      assertRefused(api.post("/runs/crons/count", "{\"enabled\":true}"), 422, "unknown field enabled");
      assertRefused(api.get("/runs/crons/" + UUID.randomUUID()), 404, "cron");
      String cronId = api.post("/runs/crons", "{\"assistant_id\":\"tick\",\"schedule\":\"0 0 1 1 *\"}").json()
          .get("cron_id").asText();
      assertRefused(api.send("PATCH", "/runs/crons/" + cronId, "{\"schedule\":\"nope\"}"), 422, "schedule");
      assertRefused(api.send("PATCH", "/runs/crons/" + cronId, "{\"assistant_id\":\"tick\"}"), 422,
          "unknown field assistant_id");
      assertEquals("0 0 1 1 *", api.get("/runs/crons/" + cronId).json().get("schedule").asText(),
          "a refused update changes nothing");
    });
  }

  private static void assertRefused(ApiClient.Reply reply, int status, String inDetail) {
    assertEquals(status, reply.status(), reply.body());
    assertTrue(reply.detail().contains(inDetail), reply.body());
  }
}
