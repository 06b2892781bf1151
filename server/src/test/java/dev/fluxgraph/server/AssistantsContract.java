package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.Reducers;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.internal.server.Assistants;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

/**
 * Assistants, per-run config and per-run breakpoints over a real socket, the same checks for every storage (in
 * memory, PostgreSQL): created assistants with versions beside each graph's own, their config and context as a run's
 * defaults, {@code config.configurable}/{@code recursion_limit}/{@code tags}/{@code run_name} reaching the graph,
 * {@code interrupt_before/after} per run, {@code /info} and {@code /openapi.json}, and a 4xx naming the problem for
 * bad input.
 */
abstract class AssistantsContract {

  static final ObjectMapper JSON = new ObjectMapper();
  static final Duration WAIT = Duration.ofSeconds(20);

  /**
   * The graphs served: "configured" reads the run's config and context, "loop" never ends, "steps" is a → b → c,
   * "echo" answers its input (fails for "fail").
   */
  static FluxgraphServer.Builder graphs(FluxgraphServer.Builder builder, CheckpointSaver saver) {
    var configured = StateGraph.ofMap()
        .addNode("read", (state, context) -> {
          Map<String, Object> seen = new LinkedHashMap<>();
          seen.put("configurable", context.config().configurable());
          seen.put("tags", context.config().tags());
          seen.put("run_name", context.config().runName().orElse(null));
          seen.put("remaining", context.remainingSteps().getAsInt());
          seen.put("context", context.context(Map.class).orElse(null));
          return Mono.just(Map.<String, Object>of("seen", seen));
        })
        .setEntryPoint("read")
        .compile(CompileOptions.defaults().withName("configured").withCheckpointer(saver));
    var loop = StateGraph.ofMap()
        .addNode("tick", (state, context) -> Mono.just(Map.<String, Object>of("ticks", 1)))
        .reducer("ticks", Reducers.append())
        .addEdge(StateGraph.START, "tick")
        .addConditionalEdges("tick", state -> Mono.just("tick"))
        .compile(CompileOptions.defaults().withName("loop").withCheckpointer(saver));
    var steps = StateGraph.ofMap()
        .reducer("seen", Reducers.append());
    for (String node : List.of("a", "b", "c")) {
      steps.addNode(node, (state, context) -> Mono.just(Map.<String, Object>of("seen", node)));
    }
    steps.addEdge(StateGraph.START, "a").addEdge("a", "b").addEdge("b", "c");
    Entrypoint<String, String> echo = Entrypoint.named("echo").checkpointer(saver).define(String.class, String.class,
        (input, context) -> input.equals("fail") ? Mono.error(new IllegalStateException("asked to fail"))
            : Mono.just(input));
    return builder.discoverGraphs(false).port(0).checkpointer(saver)
        .graph("configured", configured.asEntrypoint())
        .graph("loop", loop.asEntrypoint())
        .graph("steps", steps.compile(CompileOptions.defaults().withName("steps").withCheckpointer(saver)).asEntrypoint())
        .graph("echo", echo);
  }

  /** A server on this contract's storage, serving {@link #graphs}. */
  abstract FluxgraphServer.Builder server();

  FluxgraphServer server;
  HttpClient http;

  @BeforeEach
  void start() {
    server = server().build().start().block(WAIT);
    http = HttpClient.create().baseUrl("http://127.0.0.1:" + server.port());
  }

  @AfterEach
  void stop() {
    server.stop().block(WAIT);
  }

  record Answer(int status, JsonNode body, HttpHeaders headers) {
  }

  Answer call(String method, String path, @Nullable String body) {
    return http.request(HttpMethod.valueOf(method)).uri(path)
        .send(body == null ? ByteBufFlux.fromString(Mono.empty()) : ByteBufFlux.fromString(Mono.just(body)))
        .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8).defaultIfEmpty("")
            .map(text -> {
              try {
                return new Answer(response.status().code(), text.isEmpty() ? JSON.nullNode() : JSON.readTree(text),
                    response.responseHeaders());
              } catch (Exception e) {
                throw new AssertionError(text, e);
              }
            }))
        .block(WAIT);
  }

  JsonNode ok(String method, String path, @Nullable String body) {
    Answer answer = call(method, path, body);
    assertEquals(200, answer.status(), answer.body().toString());
    return answer.body();
  }

  /** Expects a refusal with {@code status} whose detail contains {@code named}. */
  void refused(int status, String named, String method, String path, @Nullable String body) {
    Answer answer = call(method, path, body);
    assertEquals(status, answer.status(), answer.body().toString());
    assertTrue(answer.body().path("detail").asText().contains(named), answer.body().toString());
  }

  String create(String body) {
    return ok("POST", "/assistants", body).get("assistant_id").asText();
  }

  @Test
  void everyGraphHasItsOwnAssistantWhichStays() {
    JsonNode system = ok("POST", "/assistants/search", "{\"metadata\":{\"created_by\":\"system\"},\"limit\":100}");
    assertEquals(4, system.size(), system.toString());
    JsonNode own = ok("GET", "/assistants/configured", null);
    assertEquals(Assistants.idOf("configured"), own.get("assistant_id").asText());
    assertEquals(own, ok("GET", "/assistants/" + Assistants.idOf("configured"), null));
    assertEquals("system", own.get("metadata").get("created_by").asText());
    assertEquals(1, own.get("version").asInt());
    // SERVER.md's shape, and its id: uuid5 of the graph id in that namespace (Python's uuid.uuid5 gives this value)
    assertEquals("fe096781-5601-53d2-b2f6-0d3403f7e9ca", Assistants.idOf("agent"));
    assertEquals("configured", own.get("graph_id").asText());
    assertEquals("configured", own.get("name").asText());
    assertTrue(own.get("description").isNull(), own.toString());
    assertTrue(own.get("config").isObject() && own.get("context").isObject(), own.toString());
    Instant.parse(own.get("created_at").asText());
    Instant.parse(own.get("updated_at").asText());
    refused(409, "cannot be deleted", "DELETE", "/assistants/configured", null);
    assertEquals(4, ok("POST", "/assistants/count", "{\"metadata\":{\"created_by\":\"system\"}}").asInt());
  }

  @Test
  void anAssistantIsCreatedPatchedIntoVersionsSetBackAndDeleted() {
    String id = UUID.randomUUID().toString();
    JsonNode created = ok("POST", "/assistants", "{\"assistant_id\":\"" + id + "\",\"graph_id\":\"configured\","
        + "\"name\":\"Pirate\",\"description\":\"talks like one\",\"config\":{\"configurable\":{\"model\":\"big\"}},"
        + "\"context\":{\"user\":\"ann\"},\"metadata\":{\"team\":\"red\"}}");
    assertEquals(id, created.get("assistant_id").asText());
    assertEquals("configured", created.get("graph_id").asText());
    assertEquals(1, created.get("version").asInt());
    assertEquals("talks like one", created.get("description").asText());
    assertEquals("big", created.at("/config/configurable/model").asText());
    assertEquals("ann", created.at("/context/user").asText());
    assertEquals(created, ok("GET", "/assistants/" + id, null));
    refused(409, "already exists", "POST", "/assistants", "{\"assistant_id\":\"" + id + "\",\"graph_id\":\"steps\"}");
    assertEquals(created, ok("POST", "/assistants", "{\"assistant_id\":\"" + id + "\",\"graph_id\":\"steps\","
        + "\"if_exists\":\"do_nothing\"}"));

    JsonNode patched = ok("PATCH", "/assistants/" + id, "{\"name\":\"Parrot\",\"metadata\":{\"size\":2},"
        + "\"config\":{\"configurable\":{\"model\":\"small\"}}}");
    assertEquals(2, patched.get("version").asInt());
    assertEquals("Parrot", patched.get("name").asText());
    assertEquals("red", patched.at("/metadata/team").asText(), "metadata is merged");
    assertEquals(2, patched.at("/metadata/size").asInt());
    assertEquals("small", patched.at("/config/configurable/model").asText());
    assertEquals("ann", patched.at("/context/user").asText(), "what the patch leaves out is kept");
    assertEquals("talks like one", patched.get("description").asText());

    JsonNode versions = ok("POST", "/assistants/" + id + "/versions", "{}");
    assertEquals(List.of(2, 1), ints(versions, "version"));
    assertFalse(versions.get(0).has("updated_at"), versions.toString());
    assertEquals(List.of(1), ints(ok("POST", "/assistants/" + id + "/versions",
        "{\"metadata\":{\"team\":\"red\"},\"offset\":1}"), "version"));
    assertEquals(List.of(2), ints(ok("POST", "/assistants/" + id + "/versions", "{\"metadata\":{\"size\":2}}"),
        "version"));

    JsonNode back = ok("POST", "/assistants/" + id + "/latest", "{\"version\":1}");
    assertEquals(1, back.get("version").asInt());
    assertEquals("Pirate", back.get("name").asText());
    assertEquals("big", ok("GET", "/assistants/" + id, null).at("/config/configurable/model").asText());
    // a patch after going back is numbered after the highest version, and built on version 1
    JsonNode third = ok("PATCH", "/assistants/" + id, "{\"description\":\"third\"}");
    assertEquals(3, third.get("version").asInt());
    assertEquals("Pirate", third.get("name").asText());
    refused(404, "version 9", "POST", "/assistants/" + id + "/latest", "{\"version\":9}");

    assertEquals(JSON.createArrayNode().add(id), ok("DELETE", "/assistants/" + id, null));
    refused(404, id, "GET", "/assistants/" + id, null);
    refused(404, id, "PATCH", "/assistants/" + id, "{\"name\":\"x\"}");
    refused(404, id, "POST", "/assistants/" + id + "/versions", "{}");
    refused(404, id, "DELETE", "/assistants/" + id, null);
  }

  @Test
  void searchFiltersSortsSelectsAndPages() {
    String tag = UUID.randomUUID().toString();
    List<String> ids = new ArrayList<>();
    for (String name : List.of("beta", "alpha", "gamma")) {
      ids.add(create("{\"graph_id\":\"" + (name.equals("gamma") ? "steps" : "configured") + "\",\"name\":\"" + name
          + "\",\"metadata\":{\"tag\":\"" + tag + "\"}}"));
    }
    String mine = "\"metadata\":{\"tag\":\"" + tag + "\"}";
    Answer page = call("POST", "/assistants/search", "{" + mine + ",\"sort_by\":\"name\",\"sort_order\":\"asc\","
        + "\"limit\":2,\"select\":[\"assistant_id\",\"name\"]}");
    assertEquals(200, page.status(), page.body().toString());
    assertEquals(List.of("alpha", "beta"), texts(page.body(), "name"));
    assertEquals(List.of("assistant_id", "name"), fieldNames(page.body().get(0)));
    assertEquals("3", page.headers().get("X-Pagination-Total"));
    assertEquals("2", page.headers().get("X-Pagination-Next"));
    assertEquals(List.of("gamma"), texts(ok("POST", "/assistants/search", "{" + mine + ",\"sort_by\":\"name\","
        + "\"sort_order\":\"asc\",\"offset\":2}"), "name"));
    // newest first by default
    assertEquals(List.of(ids.get(2), ids.get(1), ids.get(0)), texts(ok("POST", "/assistants/search",
        "{" + mine + "}"), "assistant_id"));
    assertEquals(List.of("gamma"), texts(ok("POST", "/assistants/search", "{" + mine + ",\"graph_id\":\"steps\"}"),
        "name"));
    assertEquals(List.of("alpha"), texts(ok("POST", "/assistants/search", "{" + mine + ",\"name\":\"LPH\"}"),
        "name"));
    assertEquals(3, ok("POST", "/assistants/count", "{" + mine + "}").asInt());
    assertEquals(2, ok("POST", "/assistants/count", "{" + mine + ",\"graph_id\":\"configured\"}").asInt());
    assertEquals(1, ok("POST", "/assistants/count", "{" + mine + ",\"name\":\"gam\"}").asInt());
  }

  @Test
  void badAssistantRequestsAreRefusedNamingTheProblem() {
    refused(422, "graph_id is required", "POST", "/assistants", "{}");
    refused(404, "graph nope", "POST", "/assistants", "{\"graph_id\":\"nope\"}");
    refused(422, "unknown field colour", "POST", "/assistants", "{\"graph_id\":\"steps\",\"colour\":1}");
    refused(422, "assistant_id must be a UUID", "POST", "/assistants",
        "{\"graph_id\":\"steps\",\"assistant_id\":\"abc\"}");
    refused(422, "config.max_concurrency", "POST", "/assistants",
        "{\"graph_id\":\"steps\",\"config\":{\"max_concurrency\":2}}");
    refused(422, "config.recursion_limit", "POST", "/assistants",
        "{\"graph_id\":\"steps\",\"config\":{\"recursion_limit\":\"ten\"}}");
    refused(422, "metadata must be an object", "POST", "/assistants", "{\"graph_id\":\"steps\",\"metadata\":[]}");
    refused(422, "name must be a string", "POST", "/assistants", "{\"graph_id\":\"steps\",\"name\":3}");
    refused(422, "if_exists", "POST", "/assistants", "{\"graph_id\":\"steps\",\"if_exists\":\"replace\"}");
    refused(422, "malformed JSON", "POST", "/assistants", "{\"graph_id\":");
    refused(413, "larger than", "POST", "/assistants", "{\"graph_id\":\"steps\",\"name\":\"" + "x".repeat(1 << 20)
        + "\"}");
    refused(422, "sort_by", "POST", "/assistants/search", "{\"sort_by\":\"colour\"}");
    refused(422, "sort_order", "POST", "/assistants/search", "{\"sort_order\":\"up\"}");
    refused(422, "select", "POST", "/assistants/search", "{\"select\":[\"colour\"]}");
    refused(422, "limit", "POST", "/assistants/search", "{\"limit\":0}");
    refused(422, "unknown field offset", "POST", "/assistants/count", "{\"offset\":1}");
    refused(422, "version", "POST", "/assistants/steps/latest", "{\"version\":\"one\"}");
    refused(404, "graph nope", "PATCH", "/assistants/steps", "{\"graph_id\":\"nope\"}");
    refused(404, "assistant " + UUID.randomUUID().toString().substring(0, 0), "GET",
        "/assistants/" + UUID.randomUUID(), null);
  }

  @Test
  void aRunOfACreatedAssistantHasItsConfigAndContextUnderTheRequests() {
    String id = create("{\"graph_id\":\"configured\",\"config\":{\"configurable\":{\"model\":\"big\",\"user\":"
        + "\"ann\"},\"tags\":[\"nightly\"],\"recursion_limit\":7},\"context\":{\"lang\":\"en\",\"tone\":\"dry\"}}");
    String thread = ok("POST", "/threads", "{}").get("thread_id").asText();
    JsonNode seen = ok("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"" + id + "\",\"input\":{},"
        + "\"config\":{\"configurable\":{\"user\":\"bob\"},\"run_name\":\"mine\"},\"context\":{\"tone\":\"warm\"}}")
        .get("seen");
    assertEquals("big", seen.at("/configurable/model").asText(), seen.toString());
    assertEquals("bob", seen.at("/configurable/user").asText(), "the request's value wins");
    assertEquals(List.of("nightly"), texts(seen.get("tags")));
    assertEquals("mine", seen.get("run_name").asText());
    assertEquals(7, seen.get("remaining").asInt(), "the assistant's recursion_limit");
    assertEquals("en", seen.at("/context/lang").asText());
    assertEquals("warm", seen.at("/context/tone").asText());
    JsonNode threadRecord = ok("GET", "/threads/" + thread, null);
    assertEquals(id, threadRecord.at("/metadata/assistant_id").asText());
    assertEquals("configured", threadRecord.at("/metadata/graph_id").asText());
    JsonNode runs = ok("GET", "/threads/" + thread + "/runs", null);
    assertEquals(id, runs.get(0).get("assistant_id").asText());
    // the graph's own assistant: no defaults, and the request's config reaches the graph
    JsonNode plain = ok("POST", "/runs/wait", "{\"assistant_id\":\"configured\",\"input\":{},\"config\":"
        + "{\"configurable\":{\"model\":\"tiny\"},\"recursion_limit\":3,\"tags\":[\"a\",\"b\"]}}").get("seen");
    assertEquals("tiny", plain.at("/configurable/model").asText());
    assertEquals(3, plain.get("remaining").asInt());
    assertEquals(List.of("a", "b"), texts(plain.get("tags")));
    assertTrue(plain.get("context").isNull(), plain.toString());
    // a patched assistant's next run has the new version's defaults
    ok("PATCH", "/assistants/" + id, "{\"config\":{\"configurable\":{\"model\":\"huge\"}}}");
    JsonNode later = ok("POST", "/runs/wait", "{\"assistant_id\":\"" + id + "\",\"input\":{}}").get("seen");
    assertEquals("huge", later.at("/configurable/model").asText());
    assertEquals(25, later.get("remaining").asInt(), "the new version has no recursion_limit");
  }

  @Test
  void theRunsRecursionLimitEndsALoopingGraph() {
    JsonNode failed = ok("POST", "/runs/wait", "{\"assistant_id\":\"loop\",\"input\":{},"
        + "\"config\":{\"recursion_limit\":3}}");
    // the reference's name for it, which its clients match on
    assertEquals("GraphRecursionError", failed.at("/__error__/error").asText(), failed.toString());
    assertTrue(failed.at("/__error__/message").asText().contains("ran 3 supersteps"), failed.toString());
  }

  @Test
  void theRecursionLimitsFailureHasTheReferencesNameInEveryAnswer() {
    String thread = ok("POST", "/threads", "{}").get("thread_id").asText();
    JsonNode waited = ok("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"loop\",\"input\":{},"
        + "\"config\":{\"recursion_limit\":2}}");
    assertEquals("GraphRecursionError", waited.at("/__error__/error").asText(), waited.toString());
    assertEquals("error", ok("GET", "/threads/" + thread, null).get("status").asText());
    String runId = ok("GET", "/threads/" + thread + "/runs", null).get(0).get("run_id").asText();
    assertEquals("error", ok("GET", "/threads/" + thread + "/runs/" + runId, null).get("status").asText());
    JsonNode joined = ok("GET", "/threads/" + thread + "/runs/" + runId + "/join", null);
    assertEquals("GraphRecursionError", joined.at("/__error__/error").asText(), joined.toString());
    String streamed = http.post().uri("/runs/stream")
        .send(ByteBufFlux.fromString(Mono.just("{\"assistant_id\":\"loop\",\"input\":{},"
            + "\"config\":{\"recursion_limit\":2}}")))
        .responseContent().aggregate().asString(StandardCharsets.UTF_8).block(WAIT);
    String[] lines = streamed.split("\r?\n");
    int error = List.of(lines).indexOf("event: error");
    assertTrue(error >= 0 && lines[error + 1].startsWith("data: {\"error\":\"GraphRecursionError\""), streamed);
    // other failures keep their exception's name
    JsonNode echoed = ok("POST", "/runs/wait", "{\"assistant_id\":\"echo\",\"input\":\"fail\"}");
    assertEquals("IllegalStateException", echoed.at("/__error__/error").asText(), echoed.toString());
  }

  @Test
  void perRunBreakpointsPauseAGraphRun() {
    String thread = ok("POST", "/threads", "{}").get("thread_id").asText();
    JsonNode paused = ok("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"steps\",\"input\":{},"
        + "\"interrupt_before\":[\"b\"]}");
    // the run's last values chunk, as the reference's join answers: a pause without interrupts
    assertEquals("{\"__interrupt__\":[]}", paused.toString());
    JsonNode state = ok("GET", "/threads/" + thread + "/state", null);
    assertEquals(List.of("b"), texts(state.get("next")));
    assertEquals(List.of("a"), texts(state.get("values").get("seen")), state.toString());
    assertEquals("interrupted", ok("GET", "/threads/" + thread, null).get("status").asText());
    JsonNode after = ok("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"steps\","
        + "\"interrupt_after\":\"*\"}");
    assertEquals("{\"__interrupt__\":[]}", after.toString());
    assertEquals(List.of("a", "b"), texts(ok("GET", "/threads/" + thread + "/state", null).get("values").get("seen")));
    assertEquals("interrupted", ok("GET", "/threads/" + thread, null).get("status").asText());
    JsonNode done = ok("POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"steps\"}");
    assertEquals(List.of("a", "b", "c"), texts(done.get("seen")), done.toString());
    // a name the graph has no node for never pauses it, as in the reference (which checks names only at compile)
    JsonNode unknown = ok("POST", "/runs/wait", "{\"assistant_id\":\"steps\",\"input\":{},"
        + "\"interrupt_before\":[\"x\"],\"interrupt_after\":[\"y\"]}");
    assertEquals(List.of("a", "b", "c"), texts(unknown.get("seen")), unknown.toString());
    refused(422, "interrupt_after must be", "POST", "/runs/wait",
        "{\"assistant_id\":\"steps\",\"input\":{},\"interrupt_after\":\"b\"}");
    refused(422, "echo is an entrypoint", "POST", "/runs/wait",
        "{\"assistant_id\":\"echo\",\"input\":\"hi\",\"interrupt_before\":[\"a\"]}");
  }

  @Test
  void badRunConfigIsRefusedNamingTheField() {
    refused(422, "config.max_concurrency", "POST", "/runs/wait",
        "{\"assistant_id\":\"configured\",\"input\":{},\"config\":{\"max_concurrency\":2}}");
    refused(422, "config.recursion_limit", "POST", "/runs/wait",
        "{\"assistant_id\":\"configured\",\"input\":{},\"config\":{\"recursion_limit\":0}}");
    refused(422, "config.tags", "POST", "/runs/wait",
        "{\"assistant_id\":\"configured\",\"input\":{},\"config\":{\"tags\":\"a\"}}");
    refused(422, "config.run_name", "POST", "/runs/wait",
        "{\"assistant_id\":\"configured\",\"input\":{},\"config\":{\"run_name\":5}}");
    refused(422, "graph_id is not a field", "POST", "/runs/wait",
        "{\"assistant_id\":\"configured\",\"graph_id\":\"loop\",\"input\":{}}");
    refused(404, "No assistant found for", "POST", "/runs/wait", "{\"assistant_id\":\"" + UUID.randomUUID()
        + "\",\"input\":{}}");
    refused(422, "unknown field colour", "POST", "/runs/wait",
        "{\"assistant_id\":\"configured\",\"input\":{},\"colour\":1}");
    refused(422, "feedback_keys is not supported", "POST", "/runs/wait",
        "{\"assistant_id\":\"configured\",\"input\":{},\"feedback_keys\":[\"k\"]}");
    refused(422, "checkpoint_during must be a boolean", "POST", "/runs/wait",
        "{\"assistant_id\":\"configured\",\"input\":{},\"checkpoint_during\":1}");
  }

  @Test
  void deletingAnAssistantDeletesItsThreadsWhenAsked() {
    String kept = create("{\"graph_id\":\"configured\"}");
    String dropped = create("{\"graph_id\":\"configured\"}");
    String keptThread = ok("POST", "/threads", "{}").get("thread_id").asText();
    String droppedThread = ok("POST", "/threads", "{}").get("thread_id").asText();
    ok("POST", "/threads/" + keptThread + "/runs/wait", "{\"assistant_id\":\"" + kept + "\",\"input\":{}}");
    ok("POST", "/threads/" + droppedThread + "/runs/wait", "{\"assistant_id\":\"" + dropped + "\",\"input\":{}}");
    ok("DELETE", "/assistants/" + kept, null);
    assertEquals(200, call("GET", "/threads/" + keptThread, null).status());
    ok("DELETE", "/assistants/" + dropped + "?delete_threads=true", null);
    assertEquals(404, call("GET", "/threads/" + droppedThread, null).status());
    refused(422, "delete_threads", "DELETE", "/assistants/" + create("{\"graph_id\":\"steps\"}")
        + "?delete_threads=maybe", null);
  }

  @Test
  void infoFlagsAndTheOpenApiDocumentListWhatIsServed() {
    JsonNode flags = ok("GET", "/info", null).get("flags");
    for (String flag : List.of("assistants", "assistants_crud", "assistants_versions", "per_run_config",
        "per_run_interrupts", "openapi")) {
      assertTrue(flags.path(flag).asBoolean(), flag + " in " + flags);
    }
    JsonNode document = ok("GET", "/openapi.json", null);
    assertEquals("3.1.0", document.get("openapi").asText());
    JsonNode paths = document.get("paths");
    assertEquals(List.of("get", "patch", "delete"), fieldNames(paths.get("/assistants/{assistant_id}")));
    assertEquals("Patch Assistant", paths.at("/~1assistants~1{assistant_id}/patch/summary").asText());
    assertTrue(paths.at("/~1assistants/post/requestBody/content/application~1json/schema/properties")
        .has("graph_id"), paths.get("/assistants").toString());
    assertEquals("assistant_id", paths.at("/~1assistants~1{assistant_id}~1versions/post/parameters/0/name")
        .asText());
    // routes declared without a description are listed too: every served path, nothing else
    assertTrue(paths.has("/threads/{thread_id}/runs/stream"), paths.toString());
    assertEquals("Thread Runs", paths.at("/~1threads~1{thread_id}~1runs~1stream/post/tags/0").asText());
    assertFalse(paths.has("/crons"), "nothing that is not served");
    List<String> ids = new ArrayList<>();
    paths.forEach(path -> path.forEach(operation -> ids.add(operation.get("operationId").asText())));
    assertEquals(ids.size(), ids.stream().distinct().count(), ids.toString());
    assertNotEquals(0, ids.size());
  }

  static List<Integer> ints(JsonNode array, String field) {
    List<Integer> values = new ArrayList<>();
    array.forEach(node -> values.add(node.get(field).asInt()));
    return values;
  }

  static List<String> texts(JsonNode array, String field) {
    List<String> values = new ArrayList<>();
    array.forEach(node -> values.add(node.get(field).asText()));
    return values;
  }

  static List<String> texts(JsonNode array) {
    List<String> values = new ArrayList<>();
    array.forEach(node -> values.add(node.asText()));
    return values;
  }

  static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
