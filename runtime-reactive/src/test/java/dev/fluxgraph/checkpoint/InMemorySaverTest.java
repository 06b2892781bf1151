package dev.fluxgraph.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.node.TextNode;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/** {@link InMemorySaver} against the saver contract; and what it promises beyond it. */
class InMemorySaverTest extends CheckpointSaverContract {

  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final InMemorySaver saver = new InMemorySaver();

  @Override
  protected CheckpointSaver saver() {
    return saver;
  }

  private static Checkpoint checkpoint(String id) {
    return new Checkpoint("t", "", id, null, Instant.EPOCH, Map.of("source", "input", "step", -1), Map.of());
  }

  @Test
  void aNullWriteIsRejectedAtCallTime() {
    List<PendingWrite> writes = Arrays.asList(new PendingWrite("a", "a", PendingWrite.RESULT,
        TextNode.valueOf("v")), null);
    NullPointerException error = assertThrows(NullPointerException.class,
        () -> saver.putWrites("t", "", "c1", writes));
    assertEquals("writes must not contain null", error.getMessage());
  }

  @Test
  void readsWithoutNewWritesShareOneTupleAndValuesAreNotCopied() {
    Checkpoint checkpoint = checkpoint("c1");
    PendingWrite write = new PendingWrite("a", "a", PendingWrite.RESULT, TextNode.valueOf("v"));
    StepVerifier.create(saver.put(checkpoint)).expectComplete().verify(TIMEOUT);
    StepVerifier.create(saver.putWrites("t", "", "c1", List.of(write))).expectComplete().verify(TIMEOUT);
    CheckpointTuple[] first = new CheckpointTuple[1];
    StepVerifier.create(saver.get("t", "", null))
        .assertNext(tuple -> {
          assertSame(checkpoint, tuple.checkpoint());
          assertSame(write, tuple.writes().get(0));
          first[0] = tuple;
        })
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(saver.get("t", "", "c1"))
        .assertNext(tuple -> assertSame(first[0], tuple))
        .expectComplete().verify(TIMEOUT);
    // A duplicate changes nothing, so the tuple stays; a new write makes a new one.
    StepVerifier.create(saver.putWrites("t", "", "c1", List.of(write))).expectComplete().verify(TIMEOUT);
    StepVerifier.create(saver.get("t", "", "c1"))
        .assertNext(tuple -> assertSame(first[0], tuple))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(saver.putWrites("t", "", "c1", List.of(new PendingWrite("b", "b", PendingWrite.RESULT,
        TextNode.valueOf("w"))))).expectComplete().verify(TIMEOUT);
    StepVerifier.create(saver.get("t", "", "c1"))
        .assertNext(tuple -> assertEquals(2, tuple.writes().size()))
        .expectComplete().verify(TIMEOUT);
  }
}
