package dev.fluxgraph.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.CompiledGraph;
import dev.fluxgraph.graph.Reducers;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.messages.AiMessage;
import dev.fluxgraph.messages.HumanMessage;
import dev.fluxgraph.messages.Message;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * Issue 13 items 5 and 6 on PostgreSQL: a state typed with the message records is saved as LangChain's JSON, the ids
 * the reducer assigned survive a restart and a resume, and the resumed run's {@code messages} stream shows only what
 * the nodes it ran wrote. Each step uses a new saver (its own pool), as after a process restart.
 */
class MessagesPostgresIT {

  private static final Duration VERIFY = Duration.ofSeconds(30);

  record Chat(List<Message> messages) {
  }

  private final RunConfig config = RunConfig.thread("messages-it-" + UUID.randomUUID());

  @BeforeAll
  static void setup() {
    EmbeddedPostgres.setUpSaver();
  }

  /** Drafts (and, in parallel, adds a note), then asks the human, whose answer becomes a message. */
  private static CompiledGraph<Chat> graph(CheckpointSaver saver) {
    return StateGraph.of(Chat.class)
        .reducer("messages", Reducers.messages())
        .addNode("draft", (state, context) -> Mono.just(Map.of("messages", AiMessage.of("a draft"))))
        .addNode("note", (state, context) -> Mono.just(Map.of("messages", Map.of("role", "assistant",
            "content", "a note"))))
        .addNode("ask", (state, context) -> context.interrupt("ok?", String.class)
            .map(answer -> Map.of("messages", HumanMessage.of(answer))))
        .addEdge(StateGraph.START, "draft")
        .addEdge(StateGraph.START, "note")
        .addEdge(List.of("draft", "note"), "ask")
        .compile(CompileOptions.defaults().withCheckpointer(saver));
  }

  @Test
  void assignedIdsSurviveARestartAndAResumedRunStreamsOnlyNewMessages() throws Exception {
    List<StreamChunk> first = EmbeddedPostgres.withSaver(saver -> graph(saver).stream(new Chat(List.of(HumanMessage.of("write"))),
        config, StreamMode.MESSAGES).collectList().block(VERIFY));
    assertEquals(List.of("a draft", "a note"), first.stream().map(chunk -> content(chunk)).toList());

    Chat paused = EmbeddedPostgres.withSaver(saver -> (Chat) graph(saver).getState(config).block(VERIFY).values());
    assertEquals(List.of("human", "ai", "ai"), paused.messages().stream().map(Message::type).toList());
    paused.messages().forEach(message -> assertNotNull(message.id(), message::toString));
    assertEquals(List.of(paused.messages().get(1).id(), paused.messages().get(2).id()),
        first.stream().map(chunk -> ((Map<?, ?>) ((List<?>) chunk.data()).get(0)).get("id")).toList());

    List<StreamChunk> resumed = EmbeddedPostgres.withSaver(saver -> graph(saver).stream(Command.resume("yes"), config,
        StreamMode.MESSAGES).collectList().block(VERIFY));
    assertEquals(List.of("yes"), resumed.stream().map(chunk -> content(chunk)).toList());

    Chat done = EmbeddedPostgres.withSaver(saver -> (Chat) graph(saver).getState(config).block(VERIFY).values());
    assertEquals(paused.messages(), done.messages().subList(0, 3));
    assertEquals(HumanMessage.class, done.messages().get(3).getClass());
    // LangChain's keys, a null name and usage_metadata left out as LangChain JS leaves them
    assertEquals("additional_kwargs,content,id,invalid_tool_calls,response_metadata,tool_calls,type", sql("SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(("
        + "SELECT channel_values -> '__state__' -> 'messages' -> 1 FROM fluxgraph_checkpoints WHERE thread_id = ? "
        + "ORDER BY checkpoint_id DESC LIMIT 1)) k"));
    assertEquals("ai", sql("SELECT channel_values -> '__state__' -> 'messages' -> 2 ->> 'type' "
        + "FROM fluxgraph_checkpoints WHERE thread_id = ? ORDER BY checkpoint_id DESC LIMIT 1"));
  }

  private static Object content(StreamChunk chunk) {
    assertEquals(StreamMode.MESSAGES, chunk.mode());
    return assertInstanceOf(Map.class, ((List<?>) chunk.data()).get(0)).get("content");
  }

  private String sql(String query) throws Exception {
    try (Connection connection = EmbeddedPostgres.get().getPostgresDatabase().getConnection();
         PreparedStatement statement = connection.prepareStatement(query)) {
      statement.setString(1, config.threadId().orElseThrow());
      try (ResultSet result = statement.executeQuery()) {
        return result.next() ? result.getString(1) : null;
      }
    }
  }
}
