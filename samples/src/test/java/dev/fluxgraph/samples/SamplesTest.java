package dev.fluxgraph.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every sample prints what its reference document shows. */
class SamplesTest {

  private static List<String> typed(String input, String... args) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    int code = SampleRunner.run(List.of(args), new BufferedReader(new StringReader(input)), out);
    assertEquals(0, code, bytes::toString);
    return bytes.toString(StandardCharsets.UTF_8).lines().toList();
  }

  private static List<String> run(String... args) {
    return typed("", args);
  }

  @Test
  void listAndUnknown() {
    List<String> listing = run();
    assertEquals(Samples.all().size() + 2, listing.size());
    assertTrue(listing.stream().anyMatch(line -> line.contains("review-tool-calls")));
    assertTrue(listing.stream().anyMatch(line -> line.contains("human-in-the-loop")));
    assertEquals(2, SampleRunner.run(List.of("nope"), new BufferedReader(new StringReader("")),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
  }

  @Test
  void simpleWorkflow() {
    assertEquals(List.of("The number is odd."), run("simple-workflow"));
    assertEquals(List.of("The number is even."), run("simple-workflow", "8"));
  }

  @Test
  void parallelAddOne() {
    assertEquals(List.of("[2,3,4]"), run("parallel-add-one"));
  }

  @Test
  void callingAnotherEntrypoint() {
    assertEquals(List.of("{\"product\":42}"), run("calling-entrypoint"));
  }

  @Test
  void callingGraph() {
    assertEquals(List.of("{\"bar\":10}"), run("calling-graph"));
    assertEquals(List.of("{\"bar\":14}"), run("calling-graph", "7"));
  }

  @Test
  void streaming() {
    assertEquals(List.of("custom: \"hello\"", "updates: {\"add_one\":2}", "custom: \"world\"",
        "updates: {\"add_two\":3}", "updates: {\"main\":5}"), run("streaming"));
  }

  @Test
  void retryPolicy() {
    assertEquals(List.of("OK", "attempts: 2"), run("retry-policy"));
  }

  @Test
  void timeouts() {
    assertEquals(List.of("Task timed out"), run("timeouts"));
  }

  @Test
  void caching() {
    assertEquals(List.of("{\"slow_add\":10}", "{\"slow_add\":10,\"__metadata__\":{\"cached\":true}}",
        "{\"main\":{\"result1\":10,\"result2\":10}}"), run("caching"));
  }

  @Test
  void resumeAfterError() {
    assertEquals(List.of("first run failed: Failure", "Ran slow task.", "slow_task ran 1 time(s)"),
        run("resume-after-error"));
  }

  @Test
  void humanInTheLoopWithTheAnswerAsArgumentOrTyped() {
    List<String> lines = run("human-in-the-loop", "foo", "baz");
    assertEquals("{\"step_1\":\"foo bar\"}", lines.get(0));
    assertTrue(lines.get(1).startsWith("{\"__interrupt__\":[{\"id\":\""), lines.get(1));
    assertTrue(lines.get(1).endsWith("\"value\":\"Please provide feedback: foo bar\"}]}"), lines.get(1));
    assertEquals(List.of("{\"human_feedback\":\"foo bar baz\"}", "{\"step_3\":\"foo bar baz qux\"}",
        "{\"graph\":\"foo bar baz qux\"}"), lines.subList(2, 5));

    List<String> typed = typed("typed answer\n", "human-in-the-loop");
    assertEquals("feedback> {\"human_feedback\":\"foo bar typed answer\"}", typed.get(2));
  }

  @Test
  void reviewWorkflow() {
    List<String> lines = run("review-workflow", "cats", "This essay is great.");
    assertEquals("{\"compose_essay\":\"An essay about cats\"}", lines.get(0));
    assertTrue(lines.get(1).contains("\"question\":\"Please provide a review\""), lines.get(1));
    assertTrue(lines.get(2).startsWith("{\"review_workflow\":{"), lines.get(2));
    assertTrue(lines.get(2).contains("\"review\":\"This essay is great.\""), lines.get(2));
    assertTrue(lines.get(2).contains("\"essay\":\"An essay about cats\""), lines.get(2));
  }

  @Test
  void threadState() {
    List<String> lines = run("thread-state");
    assertTrue(lines.get(0).startsWith("state: values=1 next=[] metadata="), lines.get(0));
    assertEquals(List.of(
        "history: step=2 source=loop values=1 next=[] tasks=[]",
        "history: step=1 source=input values=0 next=[accumulate] tasks=[accumulate]",
        "history: step=0 source=loop values=0 next=[] tasks=[]",
        "history: step=-1 source=input values=null next=[accumulate] tasks=[accumulate]"), lines.subList(1, 5));
  }

  @Test
  void finalAccumulate() {
    assertEquals(List.of("0", "1", "3"), run("final-accumulate"));
  }

  @Test
  void previous() {
    assertEquals(List.of("previous = null", "world", "previous = world", "world"), run("previous"));
  }

  @Test
  void longTermMemory() {
    assertEquals(List.of("thread 1: Nice to meet you, Bob!", "thread 2: Your name is Bob.",
        "thread 3, other user: I don't know your name yet."), run("long-term-memory"));
  }

  @Test
  void determinism() {
    List<String> lines = run("determinism");
    String dice = lines.get(0).replaceAll("\\D", "");
    assertTrue(lines.get(1).startsWith("ann rolled " + dice + " at "), lines.toString());
    assertEquals("body side effect ran 2 times; the roll ran once", lines.get(2));
  }
}
