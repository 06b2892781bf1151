package dev.fluxgraph.springai;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.messages.Message;
import dev.fluxgraph.types.Durability;
import dev.fluxgraph.types.TypeRef;
import java.util.List;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.tool.ToolCallback;

/**
 * The agent of {@link SpringAiKillIT}, defined alike in the child JVM that is killed and in the test JVM that resumes
 * it: the model-and-tools loop of {@link SpringAiChat#agent} on a {@code get_weather} tool, durability {@code sync}
 * (a task's result is persisted before the next task starts).
 */
final class WeatherAgent {

  static final TypeRef<List<Message>> MESSAGES = new TypeRef<>() { };

  private WeatherAgent() {
  }

  static Entrypoint<List<Message>, List<Message>> define(ChatModel model, CheckpointSaver saver, ToolCallback tool) {
    return Entrypoint.named("weather_agent").checkpointer(saver).durability(Durability.SYNC)
        .define(MESSAGES, MESSAGES, SpringAiChat.of(model).withTools(tool).agent(5));
  }
}
