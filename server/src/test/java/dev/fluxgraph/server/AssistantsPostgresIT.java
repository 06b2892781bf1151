package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.postgres.PostgresSaver;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

/**
 * {@link AssistantsContract} on PostgreSQL, and what only a database shows: assistants and their versions survive a
 * restart, checked through plain SQL too.
 */
class AssistantsPostgresIT extends AssistantsContract {

  private static EmbeddedPostgres postgres;
  private static PostgresSaver saver;

  @BeforeAll
  static void database() throws Exception {
    postgres = EmbeddedPostgres.builder().start();
    saver = PostgresSaver.connect("r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/postgres");
    saver.setup().block(WAIT);
  }

  @AfterAll
  static void close() throws Exception {
    saver.close();
    postgres.close();
  }

  @Override
  FluxgraphServer.Builder server() {
    return graphs(FluxgraphServer.builder(), saver);
  }

  @Test
  void concurrentPatchesEachGetAVersionOfTheirOwn() {
    String id = create("{\"graph_id\":\"steps\"}");
    List<Integer> versions = Flux.range(0, 8)
        .flatMap(i -> Mono.fromCallable(() -> ok("PATCH", "/assistants/" + id, "{\"name\":\"n" + i + "\"}")
            .get("version").asInt()).subscribeOn(Schedulers.boundedElastic()))
        .collectSortedList().block(WAIT);
    assertEquals(List.of(2, 3, 4, 5, 6, 7, 8, 9), versions);
    assertEquals("9", TestSql.first(postgres, "SELECT count(*) FROM fluxgraph_assistant_versions WHERE assistant_id"
        + " = '" + id + "'"));
  }

  @Test
  void aRunOnOneProcessHasTheDefaultsAnotherProcessJustPatchedOrItsDeletion() {
    String id = create("{\"graph_id\":\"configured\",\"config\":{\"configurable\":{\"model\":\"big\"}}}");
    String run = "{\"assistant_id\":\"" + id + "\",\"input\":{}}";
    assertEquals("big", ok("POST", "/runs/wait", run).at("/seen/configurable/model").asText());
    FluxgraphServer other = server().build().start().block(WAIT);
    try {
      HttpClient otherHttp = HttpClient.create().baseUrl("http://127.0.0.1:" + other.port());
      // this process read the assistant for its last run; the other one patches it, then this one runs it again
      assertEquals(200, otherHttp.patch().uri("/assistants/" + id).send(ByteBufFlux.fromString(Mono.just(
          "{\"config\":{\"configurable\":{\"model\":\"huge\"}}}"))).response().block(WAIT).status().code());
      assertEquals("huge", ok("POST", "/runs/wait", run).at("/seen/configurable/model").asText());
      assertEquals("huge", ok("POST", "/runs/wait", run).at("/seen/configurable/model").asText());
      assertEquals(200, otherHttp.post().uri("/assistants/" + id + "/latest").send(ByteBufFlux.fromString(Mono.just(
          "{\"version\":1}"))).response().block(WAIT).status().code());
      assertEquals("big", ok("POST", "/runs/wait", run).at("/seen/configurable/model").asText(),
          "the version set latest elsewhere");
      assertEquals(200, otherHttp.delete().uri("/assistants/" + id).response().block(WAIT).status().code());
      refused(404, id, "POST", "/runs/wait", run);
    } finally {
      other.stop().block(WAIT);
    }
  }

  @Test
  void assistantsAndTheirVersionsSurviveARestart() {
    String id = create("{\"graph_id\":\"steps\",\"name\":\"kept\",\"config\":{\"recursion_limit\":4}}");
    ok("PATCH", "/assistants/" + id, "{\"name\":\"kept twice\"}");
    assertEquals("2", TestSql.first(postgres, "SELECT count(*) FROM fluxgraph_assistant_versions WHERE assistant_id"
        + " = '" + id + "'"));
    stop();
    start();
    JsonNode assistant = ok("GET", "/assistants/" + id, null);
    assertEquals("kept twice", assistant.get("name").asText());
    assertEquals(2, assistant.get("version").asInt());
    assertEquals(4, assistant.at("/config/recursion_limit").asInt());
    assertEquals(List.of(2, 1), ints(ok("POST", "/assistants/" + id + "/versions", "{}"), "version"));
    // the graphs' own assistants are registered once, not again at each start
    assertEquals("4", TestSql.first(postgres, "SELECT count(*) FROM fluxgraph_assistants WHERE metadata @> "
        + "'{\"created_by\":\"system\"}'"));
  }
}
