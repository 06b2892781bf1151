package dev.fluxgraph.springai;

import dev.fluxgraph.messages.HumanMessage;
import dev.fluxgraph.messages.Message;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.types.RunConfig;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The child JVM of {@link SpringAiKillIT}: {@code KilledAgent <r2dbc url> <model base url> <thread id>} runs
 * {@link WeatherAgent} on the thread with a tool that prints {@value #TOOL_STARTED} and then never returns, so the
 * process is inside the tool call, the model's answer committed, when the test kills it.
 */
final class KilledAgent {

  static final String TOOL_STARTED = "tool started";

  private KilledAgent() {
  }

  public static void main(String[] args) {
    if (args.length != 3) {
      throw new IllegalArgumentException("usage: KilledAgent <r2dbc url> <model base url> <thread id>");
    }
    ConfigurableApplicationContext app = OpenAiStarter.start(args[1]);
    PostgresSaver saver = PostgresSaver.connect(args[0]);
    List<Message> result = WeatherAgent.define(OpenAiStarter.chatModel(app), saver, WeatherTool.of(query -> {
      System.out.println(TOOL_STARTED);
      System.out.flush();
      while (true) {
        LockSupport.park(); // until the test kills this process
      }
    })).invoke(List.of(HumanMessage.of("weather?")), RunConfig.thread(args[2])).block();
    System.out.println("the run ended, which it must not: " + result);
    System.exit(1);
  }
}
