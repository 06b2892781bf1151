package dev.fluxgraph.server;

import static dev.fluxgraph.server.ServerFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.func.Entrypoint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Mono;

/**
 * Threads beyond their CRUD, over real sockets, in memory and on PostgreSQL: a thread's stream
 * ({@code GET /threads/{id}/stream}: its runs one after the other, live, resumable with {@code Last-Event-ID}, across
 * server processes), {@code PATCH /threads/{id}/state} (a checkpoint's metadata) and {@code POST /threads/prune}
 * with {@code keep_latest}.
 */
class ThreadExtrasIT {

  private static final ServerFixture.Database DB = ServerFixture.database(ThreadExtrasIT.class);

  private static void withServers(String persistence, int processes, ServerFixture.Scenario scenario) {
    // "slow..." takes 300 ms: a run still executing when the stream reads it
    Entrypoint<String, String> echo = Entrypoint.named("echo").define(String.class, String.class,
        (input, context) -> Mono.delay(Duration.ofMillis(input.startsWith("slow") ? 300 : 0)).thenReturn(input + "!"));
    ServerFixture.withServers(DB.urlFor(persistence), processes, builder -> builder
        .graphOnServerPersistence("echo", echo), scenario);
  }

  private static String thread(ApiClient api) {
    return api.post("/threads", "{}").json().get("thread_id").asText();
  }

  private static String waited(ApiClient api, String thread, String assistant, String input) {
    ApiClient.Reply run = api.post("/threads/" + thread + "/runs", "{\"assistant_id\":\"" + assistant
        + "\",\"input\":" + input + "}");
    assertEquals(200, run.status(), run.body());
    String runId = run.json().get("run_id").asText();
    api.get("/threads/" + thread + "/runs/" + runId + "/join");
    return runId;
  }

  private static boolean ended(SseStream stream, String runId) {
    return stream.events().stream().anyMatch(event -> (runId + ":done").equals(event.id()));
  }

  /** The events of one run in a thread stream, without its end. */
  private static List<SseStream.Event> of(List<SseStream.Event> events, String runId) {
    return events.stream().filter(event -> event.id() != null && event.id().startsWith(runId + ":")
        && !event.id().endsWith(":done")).toList();
  }

  private static void assertRunOf(List<SseStream.Event> events, String runId) {
    assertFalse(events.isEmpty(), "no events of run " + runId);
    assertEquals("metadata", events.get(0).name(), "a run starts with its metadata");
    assertEquals(runId, events.get(0).json().get("run_id").asText());
    assertTrue(events.stream().anyMatch(event -> event.name().equals("values")), "its values: " + signature(events));
    long last = -1;
    for (SseStream.Event event : events) {
      long seq = Long.parseLong(event.id().substring(runId.length() + 1));
      assertTrue(seq > last, "ids grow: " + ids(events));
      last = seq;
    }
  }

  private static List<String> names(List<SseStream.Event> events) {
    return events.stream().map(SseStream.Event::name).toList();
  }

  private static List<String> ids(List<SseStream.Event> events) {
    return events.stream().map(SseStream.Event::id).toList();
  }

  private static List<String> signature(List<SseStream.Event> events) {
    return events.stream().map(event -> event.name() + " " + event.id() + " " + event.data()).toList();
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "postgres"})
  void aThreadsStreamFollowsItsRunsOneAfterTheOtherAndResumes(String persistence) {
    withServers(persistence, 1, apis -> {
      ApiClient api = apis.get(0);
      String thread = thread(api);
      String before = waited(api, thread, "echo", "\"before\"");
      List<SseStream.Event> live;
      String first;
      String second;
      try (SseStream stream = SseStream.open(api.port(), "/threads/" + thread + "/stream", null)) {
        await("the stream's headers", () -> stream.status() == 200);
        first = waited(api, thread, "echo", "\"a\"");
        second = waited(api, thread, "echo", "\"slow\"");
        await("both runs in the stream", () -> ended(stream, second));
        live = stream.events();
      }
      assertTrue(of(live, before).isEmpty(), "a run that ended before the stream opened is not in it: " + ids(live));
      List<SseStream.Event> ofFirst = of(live, first);
      List<SseStream.Event> ofSecond = of(live, second);
      assertRunOf(ofFirst, first);
      assertRunOf(ofSecond, second);
      List<SseStream.Event> expected = new ArrayList<>(ofFirst);
      expected.add(live.get(ofFirst.size()));
      expected.addAll(ofSecond);
      expected.add(live.get(live.size() - 1));
      assertEquals(signature(expected), signature(live), "the first run, its end, the second, its end");
      SseStream.Event done = live.get(ofFirst.size());
      assertEquals("metadata", done.name());
      assertEquals("run_done", done.json().get("status").asText());
      assertEquals(first, done.json().get("run_id").asText());

      // resumed after the first run's end: the second run only
      try (SseStream resumed = SseStream.open(api.port(), "/threads/" + thread + "/stream", first + ":done")) {
        await("the second run again", () -> ended(resumed, second));
        assertEquals(signature(live.subList(ofFirst.size() + 1, live.size())), signature(resumed.events()));
      }
      // resumed after the first run's first event
      try (SseStream resumed = SseStream.open(api.port(), "/threads/" + thread + "/stream", ofFirst.get(0).id())) {
        await("the rest of the first run, and the second", () -> ended(resumed, second));
        assertEquals(signature(live.subList(1, live.size())), signature(resumed.events()));
      }
      // from the start: every kept run of the thread, the one before the stream first
      try (SseStream all = SseStream.open(api.port(), "/threads/" + thread + "/stream", "-")) {
        await("every run", () -> ended(all, second));
        List<SseStream.Event> events = all.events();
        assertRunOf(of(events, before), before);
        assertEquals(signature(live), signature(events.subList(events.size() - live.size(), events.size())));
      }
      // lifecycle: each run's start and end only
      try (SseStream lifecycle = SseStream.open(api.port(), "/threads/" + thread + "/stream?stream_mode=lifecycle",
          "-")) {
        await("every run's end", () -> ended(lifecycle, second));
        assertEquals(List.of(before + ":0", before + ":done", first + ":0", first + ":done", second + ":0",
            second + ":done"), ids(lifecycle.events()));
        assertTrue(lifecycle.events().stream().allMatch(event -> event.name().equals("metadata")));
      }
    });
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "postgres"})
  void aThreadsStreamRefusesWhatItCannotServe(String persistence) {
    withServers(persistence, 1, apis -> {
      ApiClient api = apis.get(0);
      String thread = thread(api);
      assertEquals(404, api.get("/threads/" + UUID.randomUUID() + "/stream").status());
      ApiClient.Reply stateUpdate = api.get("/threads/" + thread + "/stream?stream_mode=state_update");
      assertEquals(422, stateUpdate.status(), stateUpdate.body());
      assertTrue(stateUpdate.detail().contains("state_update"), stateUpdate.body());
      ApiClient.Reply unknown = api.get("/threads/" + thread + "/stream?stream_modes=%5B%22run_modes%22,%22x%22%5D");
      assertEquals(422, unknown.status(), unknown.body());
      assertTrue(unknown.detail().contains("\"x\""), unknown.body());
      try (SseStream badId = SseStream.open(api.port(), "/threads/" + thread + "/stream", "seven")) {
        await("the answer", () -> badId.status() != 0);
        assertEquals(422, badId.status());
      }
    });
  }

  /** A stream opened on one process sees the runs another executes (their events from the database), and resumes there. */
  @Test
  void aThreadsStreamFollowsRunsOfAnotherProcess() {
    withServers("postgres", 2, apis -> {
      String thread = thread(apis.get(0));
      List<SseStream.Event> seen;
      String first;
      String second;
      try (SseStream stream = SseStream.open(apis.get(0).port(), "/threads/" + thread + "/stream", null)) {
        await("the stream's headers", () -> stream.status() == 200);
        first = waited(apis.get(1), thread, "echo", "\"elsewhere\"");
        second = waited(apis.get(1), thread, "echo", "\"slow\"");
        await("both runs of the other process", () -> ended(stream, second));
        seen = stream.events();
      }
      assertRunOf(of(seen, first), first);
      assertRunOf(of(seen, second), second);
      try (SseStream there = SseStream.open(apis.get(1).port(), "/threads/" + thread + "/stream", "-")) {
        await("the runs where they ran", () -> ended(there, second));
        assertEquals(signature(seen), signature(there.events()), "the same events on either process");
      }
      try (SseStream resumed = SseStream.open(apis.get(1).port(), "/threads/" + thread + "/stream", seen.get(0).id())) {
        await("the rest", () -> ended(resumed, second));
        assertEquals(signature(seen.subList(1, seen.size())), signature(resumed.events()));
      }
    });
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "postgres"})
  void patchStateMergesMetadataIntoTheLatestOrANamedCheckpoint(String persistence) {
    withServers(persistence, 1, apis -> {
      ApiClient api = apis.get(0);
      String thread = thread(api);
      String fresh = thread(api);
      waited(api, thread, "echo", "\"x\"");
      waited(api, thread, "echo", "\"y\"");
      JsonNode history = api.post("/threads/" + thread + "/history", "{\"limit\":100}").json();
      String latest = history.get(0).at("/checkpoint/checkpoint_id").asText();
      String older = history.get(history.size() - 1).at("/checkpoint/checkpoint_id").asText();

      ApiClient.Reply patched = api.send("PATCH", "/threads/" + thread + "/state",
          "{\"metadata\":{\"tag\":\"reviewed\",\"score\":2}}");
      assertEquals(204, patched.status(), patched.body());
      JsonNode state = api.get("/threads/" + thread + "/state").json();
      assertEquals(latest, state.at("/checkpoint/checkpoint_id").asText(), "no new checkpoint");
      assertEquals("reviewed", state.at("/metadata/tag").asText(), state.toString());
      assertEquals(2, state.at("/metadata/score").asInt());
      assertTrue(state.at("/metadata/step").isNumber(), "the checkpoint's own metadata stays: " + state);
      assertEquals(history.size(), api.post("/threads/" + thread + "/history", "{\"limit\":100}").json().size());

      assertEquals(204, api.send("PATCH", "/threads/" + thread + "/state", "{\"metadata\":{\"tag\":\"old\"},"
          + "\"checkpoint\":{\"checkpoint_id\":\"" + older + "\"}}").status());
      assertEquals("old", api.get("/threads/" + thread + "/state/" + older).json().at("/metadata/tag").asText());
      assertEquals("reviewed", api.get("/threads/" + thread + "/state").json().at("/metadata/tag").asText());
      assertEquals(204, api.send("PATCH", "/threads/" + thread + "/state", "{\"metadata\":{\"tag\":\"again\"},"
          + "\"checkpoint_id\":\"" + older + "\"}").status());
      assertEquals("again", api.get("/threads/" + thread + "/state/" + older).json().at("/metadata/tag").asText());
      JsonNode filtered = api.post("/threads/" + thread + "/history", "{\"metadata\":{\"tag\":\"reviewed\"}}").json();
      assertEquals(1, filtered.size(), "history filters by the patched metadata: " + filtered);
      if (persistence.equals("postgres")) {
        assertEquals("reviewed", DB.first("SELECT metadata->>'tag' FROM fluxgraph_checkpoints WHERE thread_id = '"
            + thread + "' AND checkpoint_id = '" + latest + "'"));
      }

      refused(api, thread, "{}", 422, "metadata is required");
      refused(api, thread, "{\"metadata\":[1]}", 422, "metadata");
      refused(api, thread, "{\"metadata\":{},\"values\":{}}", 422, "values");
      refused(api, thread, "{\"metadata\":{},\"checkpoint_id\":7}", 422, "checkpoint_id");
      refused(api, thread, "{\"metadata\":{\"a\":1},\"checkpoint_id\":\"" + UUID.randomUUID() + "\"}", 404,
          "checkpoint");
      refused(api, fresh, "{\"metadata\":{\"a\":1}}", 404, "no graph has run");
      refused(api, UUID.randomUUID().toString(), "{\"metadata\":{\"a\":1}}", 404, "thread");
    });
  }

  @Test
  void threadAndStateRequestsRefuseFieldsTheyDoNotKnowNamingThem() {
    withServers("memory", 1, apis -> {
      ApiClient api = apis.get(0);
      String thread = thread(api);
      waited(api, thread, "echo", "\"x\"");
      JsonNode state = api.get("/threads/" + thread + "/state").json();
      Map<String, String> requests = new LinkedHashMap<>();
      requests.put("POST /threads", "{\"metadata\":{},\"colour\":1}");
      requests.put("PATCH /threads/" + thread, "{\"metadata\":{},\"colour\":1}");
      requests.put("POST /threads/search", "{\"limit\":1,\"colour\":1}");
      requests.put("POST /threads/count", "{\"status\":\"idle\",\"colour\":1}");
      requests.put("POST /threads/" + thread + "/state", "{\"values\":\"y\",\"colour\":1}");
      requests.put("POST /threads/" + thread + "/history", "{\"limit\":1,\"colour\":1}");
      requests.put("POST /threads/" + thread + "/state/checkpoint", "{\"checkpoint\":{},\"colour\":1}");
      requests.forEach((request, body) -> {
        String[] parts = request.split(" ");
        ApiClient.Reply reply = api.send(parts[0], parts[1], body);
        assertEquals(422, reply.status(), request + " " + body + " -> " + reply.body());
        assertTrue(reply.detail().startsWith("unknown field colour"), request + " -> " + reply.body());
      });
      // and nothing was done: no thread created, the thread's state and metadata as they were
      assertEquals(1, api.post("/threads/count", "{}").json().asInt());
      assertEquals(state, api.get("/threads/" + thread + "/state").json());
    });
  }

  private static void refused(ApiClient api, String thread, String body, int status, String detail) {
    ApiClient.Reply reply = api.send("PATCH", "/threads/" + thread + "/state", body);
    assertEquals(status, reply.status(), body + " -> " + reply.body());
    assertTrue(reply.detail().contains(detail), body + " -> " + reply.body());
  }

  @Test
  void pruneKeepLatestOnAnotherProcessThanTheThreadsOwn() {
    withServers("postgres", 2, apis -> {
      for (int i = 0; i < 5; i++) {
        String thread = thread(apis.get(0));
        waited(apis.get(0), thread, "echo", "\"one\"");
        waited(apis.get(1), thread, "echo", "\"two\"");
        ApiClient.Reply pruned = apis.get(i % 2).post("/threads/prune", "{\"thread_ids\":[\"" + thread
            + "\"],\"strategy\":\"keep_latest\"}");
        assertEquals(1, pruned.json().path("pruned_count").asInt(), pruned.body() + " row: " + DB.first(
            "SELECT thread_id || ' ' || status FROM fluxgraph_threads WHERE thread_id = '" + thread + "'") + " get: "
            + apis.get(i % 2).get("/threads/" + thread).body());
        assertEquals(1, apis.get(1 - i % 2).post("/threads/" + thread + "/history", "{\"limit\":100}").json().size());
      }
    });
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "postgres"})
  void pruneKeepLatestKeepsEachThreadWithItsLatestStateOnly(String persistence) {
    withServers(persistence, 1, apis -> {
      ApiClient api = apis.get(0);
      String thread = thread(api);
      String untouched = thread(api);
      for (String input : List.of("\"one\"", "\"two\"", "\"three\"")) {
        waited(api, thread, "echo", input);
        waited(api, untouched, "echo", input);
      }
      int checkpoints = api.post("/threads/" + thread + "/history", "{\"limit\":100}").json().size();
      assertTrue(checkpoints >= 3, "a checkpoint per run at least: " + checkpoints);
      JsonNode before = api.get("/threads/" + thread + "/state").json();

      ApiClient.Reply pruned = api.post("/threads/prune", "{\"thread_ids\":[\"" + thread + "\",\"" + UUID.randomUUID()
          + "\"],\"strategy\":\"keep_latest\"}");
      assertEquals(200, pruned.status(), pruned.body());
      assertEquals(1, pruned.json().get("pruned_count").asInt(), "the thread that exists: " + pruned.body());
      JsonNode after = api.post("/threads/" + thread + "/history", "{\"limit\":100}").json();
      assertEquals(1, after.size(), after.toString());
      JsonNode state = api.get("/threads/" + thread + "/state").json();
      assertEquals(before.get("values"), state.get("values"));
      assertEquals(before.at("/checkpoint/checkpoint_id"), state.at("/checkpoint/checkpoint_id"));
      assertEquals(200, api.get("/threads/" + thread).status(), "the thread stays");
      assertEquals(checkpoints, api.post("/threads/" + untouched + "/history", "{\"limit\":100}").json().size(),
          "a thread not named keeps its history");
      if (persistence.equals("postgres")) {
        assertEquals("1", DB.first("SELECT count(*) FROM fluxgraph_checkpoints WHERE thread_id = '" + thread + "'"));
      }
      waited(api, thread, "echo", "\"four\"");
      assertEquals("four!", api.get("/threads/" + thread + "/state").json().get("values").asText(),
          "the thread runs on");

      ApiClient.Reply bad = api.post("/threads/prune", "{\"thread_ids\":[],\"strategy\":\"keep_some\"}");
      assertEquals(422, bad.status(), bad.body());
      assertTrue(bad.detail().contains("strategy"), bad.body());
    });
  }

}
