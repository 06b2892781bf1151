package dev.fluxgraph.internal.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.internal.server.Assistants;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.internal.server.ServedAssistants;
import dev.fluxgraph.internal.server.ServedGraphs;
import dev.fluxgraph.internal.server.runs.RunRequest;
import dev.fluxgraph.internal.server.storage.AssistantStore.AssistantRecord;
import dev.fluxgraph.types.FluxgraphJson;
import dev.fluxgraph.types.RunConfig;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * A run request's config and breakpoints as {@link RunRequests} reads them, and an assistant's defaults laid under a
 * request ({@link ServedAssistants#runBody}).
 */
class RunConfigRequestsTest {

  private static final ServedGraphs GRAPHS = new ServedGraphs(Map.of(
      "echo", Entrypoint.named("echo").define(String.class, String.class, (in, context) -> Mono.just(in)),
      "steps", StateGraph.ofMap()
          .addNode("a", (state, context) -> Mono.just(Map.<String, Object>of()))
          .addNode("b", (state, context) -> Mono.just(Map.<String, Object>of()))
          .addEdge(StateGraph.START, "a").addEdge("a", "b")
          .compile(CompileOptions.defaults().withName("steps")).asEntrypoint()));

  private static RunRequest parse(String json) throws Exception {
    return new RunRequests(GRAPHS, null).parse(FluxgraphJson.mapper().readTree(json), false);
  }

  private static JsonNode json(String text) throws Exception {
    return FluxgraphJson.mapper().readTree(text);
  }

  private static String refusal(String json) {
    return assertThrows(HttpProblem.class, () -> parse(json)).getMessage();
  }

  @Test
  void theConfigsFieldsBecomeTheRunsConfig() throws Exception {
    RunRequest run = parse("{\"assistant_id\":\"steps\",\"input\":{},\"metadata\":{\"k\":1},\"config\":{"
        + "\"configurable\":{\"model\":\"m\",\"thread_id\":\"ignored\"},\"recursion_limit\":5,\"tags\":[\"x\"],"
        + "\"run_name\":\"n\",\"metadata\":{\"k\":0,\"from_config\":true}},\"interrupt_before\":[\"b\"],"
        + "\"interrupt_after\":\"*\"}");
    RunConfig config = run.settings().applyTo(RunConfig.thread("t").withConfigurable(run.configurable()));
    assertEquals(Map.of("model", "m"), config.configurable());
    assertEquals(Optional.of(5), config.recursionLimit());
    assertEquals(List.of("x"), config.tags());
    assertEquals(Optional.of("n"), config.runName());
    assertEquals(Optional.of(Set.of("b")), config.interruptBefore());
    assertEquals(Optional.of(Set.of("*")), config.interruptAfter());
    assertEquals(Map.of("k", 1, "from_config", true), run.metadata(), "the run's metadata over config.metadata");
    assertEquals(Assistants.idOf("steps"), run.assistantId());
    // a name that is no node of the graph is kept (it never pauses the run), as the reference does
    assertEquals(Optional.of(Set.of("z")), parse("{\"assistant_id\":\"steps\",\"input\":{},"
        + "\"interrupt_after\":[\"z\"]}").settings().applyTo(RunConfig.thread("t")).interruptAfter());
    RunRequest plain = parse("{\"assistant_id\":\"steps\",\"input\":{}}");
    assertEquals(RunRequest.Settings.NONE, plain.settings());
  }

  @Test
  void whatIsNotHonouredIsRefusedNamingIt() {
    assertTrue(refusal("{\"assistant_id\":\"echo\",\"config\":{\"callbacks\":[]}}").contains("config.callbacks"));
    assertTrue(refusal("{\"assistant_id\":\"echo\",\"config\":{\"recursion_limit\":2.5}}")
        .contains("config.recursion_limit"));
    assertTrue(refusal("{\"assistant_id\":\"echo\",\"config\":{\"tags\":[1]}}").contains("config.tags"));
    assertTrue(refusal("{\"assistant_id\":\"echo\",\"config\":{\"metadata\":1}}").contains("config.metadata"));
    assertTrue(refusal("{\"assistant_id\":\"echo\",\"interrupt_before\":[\"a\"]}").contains("entrypoint"));
    assertTrue(refusal("{\"assistant_id\":\"steps\",\"interrupt_after\":[1]}").contains("interrupt_after"));
  }

  @Test
  void anAssistantsDefaultsLieUnderTheRequest() throws Exception {
    Instant now = Instant.now();
    AssistantRecord assistant = new AssistantRecord("6f1f0f3e-0000-4000-8000-000000000001", "steps",
        Map.of("configurable", Map.of("model", "big", "user", "ann"), "recursion_limit", 9, "tags", List.of("a")),
        Map.of("lang", "en", "tone", "dry"), Map.of(), "pirate", null, 1, now, now);
    JsonNode body = FluxgraphJson.mapper().readTree("{\"assistant_id\":\"pirate\",\"config\":{\"configurable\":"
        + "{\"user\":\"bob\"},\"tags\":[\"b\"]},\"context\":{\"tone\":\"warm\"}}");
    JsonNode merged = ServedAssistants.runBody(body, assistant);
    assertEquals(json("{\"model\":\"big\",\"user\":\"bob\"}"), merged.at("/config/configurable"));
    assertEquals(9, merged.at("/config/recursion_limit").asInt());
    assertEquals("[\"b\"]", merged.at("/config/tags").toString(), "a field the request has is the request's");
    assertEquals(json("{\"lang\":\"en\",\"tone\":\"warm\"}"), merged.get("context"));
    assertEquals(assistant.assistantId(), merged.get("assistant_id").asText());
    assertEquals("steps", merged.get("graph_id").asText());
    RunRequest run = new RunRequests(GRAPHS, null).parse(merged, false);
    assertEquals(assistant.assistantId(), run.assistantId());
    assertEquals("steps", run.graphId());
    assertEquals(Map.of("model", "big", "user", "bob"), run.configurable());
    // a field of the wrong type is left for the request's checks to name
    JsonNode wrong = ServedAssistants.runBody(FluxgraphJson.mapper().readTree(
        "{\"assistant_id\":\"x\",\"config\":3,\"context\":[1]}"), assistant);
    assertEquals(3, wrong.get("config").asInt());
    assertEquals("[1]", wrong.get("context").toString());
    assertNull(ServedAssistants.runBody(FluxgraphJson.mapper().readTree("{\"assistant_id\":\"x\"}"),
        new AssistantRecord("id", "steps", Map.of(), Map.of(), Map.of(), "n", null, 1, now, now)).get("config"));
  }
}
