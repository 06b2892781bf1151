package dev.fluxgraph.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.graph.SchemaTest;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link SchemaTest}'s scenarios (schemas, node input types, private channels, subgraphs with another state, a
 * nested breakpoint) on {@link PostgresSaver}; the saved state is read back over plain JDBC.
 */
class SchemaPostgresIT extends SchemaTest {

  private static PostgresSaver shared;

  private CheckpointSaver current = shared;

  @BeforeAll
  static void setup() {
    shared = PostgresSaver.connect(EmbeddedPostgres.r2dbcUrl());
    shared.setup().block(VERIFY);
  }

  @AfterAll
  static void close() {
    shared.close();
  }

  @Override
  protected CheckpointSaver saver() {
    return current;
  }

  @Override
  @SuppressWarnings("unchecked")
  protected Map<String, Object> savedState() {
    try (Connection connection = EmbeddedPostgres.get().getPostgresDatabase().getConnection();
         PreparedStatement statement = connection.prepareStatement("SELECT channel_values -> '__state__' FROM "
             + "fluxgraph_checkpoints WHERE thread_id = ? AND checkpoint_ns = '' ORDER BY created_at DESC, "
             + "checkpoint_id DESC LIMIT 1")) {
      statement.setString(1, config.threadId().orElseThrow());
      try (ResultSet result = statement.executeQuery()) {
        assertTrue(result.next(), "a checkpoint row");
        return new ObjectMapper().readValue(result.getString(1), Map.class);
      }
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void proceedPastANestedBreakpointOnANewSaverAsAfterARestart() {
    AtomicInteger cityRuns = new AtomicInteger();
    try (PostgresSaver first = PostgresSaver.connect(EmbeddedPostgres.r2dbcUrl())) {
      current = first;
      GraphOutput<RouterState> stopped = weather(new ArrayList<>(), true, cityRuns)
          .run(new RouterState(List.of("sf?"), null), config).block(VERIFY);
      assertTrue(stopped.interrupts().isEmpty(), "a nested breakpoint is no interrupt to answer");
      assertEquals(List.of("weather_graph"), weather(new ArrayList<>(), true, cityRuns).getState(config).block(VERIFY)
          .next());
    }
    try (PostgresSaver second = PostgresSaver.connect(EmbeddedPostgres.r2dbcUrl())) {
      current = second;
      RouterState done = weather(new ArrayList<>(), true, cityRuns).invoke(Command.proceed(), config).block(VERIFY);
      assertEquals(List.of("sf?", "sf?", "It's sunny in San Francisco"), done.messages());
      assertEquals(1, cityRuns.get(), "the subgraph's finished node replays from PostgreSQL");
      assertEquals(List.of(), weather(new ArrayList<>(), true, cityRuns).getState(config).block(VERIFY).next());
    }
  }
}
