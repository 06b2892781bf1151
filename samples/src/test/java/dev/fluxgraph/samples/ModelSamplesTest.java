package dev.fluxgraph.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fluxgraph.samples.model.OfflineChatModel;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The samples that need a model, on the deterministic offline model (whatever the environment says). */
class ModelSamplesTest {

  private static List<String> run(Sample sample, String... args) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    sample.run(List.of(args), new BufferedReader(new StringReader("")),
        new PrintStream(bytes, true, StandardCharsets.UTF_8));
    return bytes.toString(StandardCharsets.UTF_8).lines().toList();
  }

  private final OfflineChatModel model = new OfflineChatModel();

  @Test
  void composeEssayStreamsTokens() {
    List<String> lines = run(new ComposeEssay(model), "cats");
    assertEquals("An essay about cats: cats is a subject worth knowing well.", lines.get(0));
    assertEquals("values: \"An essay about cats: cats is a subject worth knowing well.\"", lines.get(1));
  }

  @Test
  void parallelParagraphs() {
    assertEquals(List.of("A paragraph about quantum computing: quantum computing is a subject worth knowing well.",
        "", "A paragraph about climate change: climate change is a subject worth knowing well.", "",
        "A paragraph about history of aviation: history of aviation is a subject worth knowing well."),
        run(new ParallelParagraphs(model)));
  }

  @Test
  void chatbotRemembersThroughPrevious() {
    assertEquals(List.of("user: hi! I'm bob", "assistant: Hi Bob! How are you doing today?",
        "user: what's my name?", "assistant: Your name is Bob."), run(new Chatbot(model)));
  }

  @Test
  void reviewToolCallsAcceptEditOrAnswer() {
    List<String> accepted = run(new ReviewToolCalls(model), "What's the weather in sf?", "continue");
    assertTrue(accepted.get(0).startsWith("review: {\"question\":\"Is this correct?\",\"tool_call\":"), accepted.get(0));
    assertTrue(accepted.get(0).contains("\"city\":\"sf\""), accepted.get(0));
    assertEquals("assistant: Here is what I found: It's sunny in sf.", accepted.get(accepted.size() - 1));

    List<String> edited = run(new ReviewToolCalls(model), "What's the weather in sf?", "update nyc");
    assertEquals("assistant: Here is what I found: It's sunny in nyc.", edited.get(edited.size() - 1));

    List<String> answered = run(new ReviewToolCalls(model), "What's the weather in sf?", "feedback use UTC, please");
    assertEquals("assistant: Here is what I found: use UTC, please.", answered.get(answered.size() - 1));
  }
}
