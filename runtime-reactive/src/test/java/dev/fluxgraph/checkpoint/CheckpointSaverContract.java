package dev.fluxgraph.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * The behaviour every {@link CheckpointSaver} must have. Extend it and return the saver under test from
 * {@link #saver()}; it may be shared between tests, which therefore use fresh thread ids.
 */
public abstract class CheckpointSaverContract {

  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  /** The saver under test. */
  protected abstract CheckpointSaver saver();

  private final String thread = "thread-" + UUID.randomUUID();
  private int sequence;

  /** A checkpoint id greater than the previous one (ids are time-ordered strings). */
  private String nextId() {
    return String.format("1f0000aa-0000-7000-8000-%012d", ++sequence);
  }

  private Checkpoint checkpoint(String id, String parentId, String namespace) {
    ObjectNode nested = JSON.objectNode();
    nested.put("n", 1).putArray("list").add("a").add(2);
    return new Checkpoint(thread, namespace, id, parentId, Instant.now().truncatedTo(ChronoUnit.MILLIS),
        Map.of("source", "input", "step", sequence, "nested", Map.of("k", "v")),
        Map.of("__start__", nested, "__run__", TextNode.valueOf(id)));
  }

  private static PendingWrite write(String taskId, String channel, JsonNode value) {
    return new PendingWrite(taskId, "task-" + taskId, channel, value);
  }

  @Test
  void getOfAnUnknownThreadIsEmpty() {
    StepVerifier.create(saver().get(thread, "", null)).expectComplete().verify(TIMEOUT);
    StepVerifier.create(saver().get(thread, "", "missing")).expectComplete().verify(TIMEOUT);
    StepVerifier.create(saver().list(thread, "", null, 10)).expectComplete().verify(TIMEOUT);
  }

  @Test
  void putThenGetRoundTripsEveryField() {
    Checkpoint first = checkpoint(nextId(), null, "");
    StepVerifier.create(saver().put(first)).expectComplete().verify(TIMEOUT);
    StepVerifier.create(saver().get(thread, "", first.id()))
        .assertNext(tuple -> {
          Checkpoint read = tuple.checkpoint();
          assertEquals(first.threadId(), read.threadId());
          assertEquals(first.namespace(), read.namespace());
          assertEquals(first.id(), read.id());
          assertEquals(null, read.parentId());
          assertEquals(first.createdAt(), read.createdAt());
          assertEquals(first.values(), read.values());
          assertEquals("input", read.metadata().get("source"));
          assertEquals(1, ((Number) read.metadata().get("step")).intValue());
          assertEquals(Map.of("k", "v"), read.metadata().get("nested"));
          assertTrue(tuple.writes().isEmpty());
        })
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void latestIsTheGreatestIdAndListIsNewestFirst() {
    List<String> ids = new ArrayList<>();
    String parent = null;
    for (int i = 0; i < 5; i++) {
      String id = nextId();
      saver().put(checkpoint(id, parent, "")).block(TIMEOUT);
      ids.add(id);
      parent = id;
    }
    StepVerifier.create(saver().get(thread, "", null))
        .assertNext(tuple -> assertEquals(ids.get(4), tuple.checkpoint().id()))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(saver().list(thread, "", null, Integer.MAX_VALUE).map(t -> t.checkpoint().id()).collectList())
        .expectNext(List.of(ids.get(4), ids.get(3), ids.get(2), ids.get(1), ids.get(0)))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(saver().list(thread, "", ids.get(3), 2).map(t -> t.checkpoint().id()).collectList())
        .expectNext(List.of(ids.get(2), ids.get(1)))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(saver().get(thread, "", ids.get(3)))
        .assertNext(tuple -> assertEquals(ids.get(2), tuple.checkpoint().parentId()))
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void listRejectsANonPositiveLimit() {
    StepVerifier.create(Flux.defer(() -> saver().list(thread, "", null, 0)))
        .expectErrorSatisfies(error -> {
          assertEquals(IllegalArgumentException.class, error.getClass());
          assertTrue(error.getMessage().contains("limit"), error.getMessage());
        })
        .verify(TIMEOUT);
  }

  @Test
  void putIsIdempotent() {
    String id = nextId();
    Checkpoint first = checkpoint(id, null, "");
    Checkpoint again = new Checkpoint(thread, "", id, null, first.createdAt(), Map.of("source", "loop", "step", 9),
        Map.of());
    saver().put(first).block(TIMEOUT);
    StepVerifier.create(saver().put(again)).expectComplete().verify(TIMEOUT);
    StepVerifier.create(saver().list(thread, "", null, 10).map(t -> t.checkpoint()).collectList())
        .assertNext(list -> {
          assertEquals(1, list.size());
          assertEquals("input", list.get(0).metadata().get("source"));
        })
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void writesAreWriteOnceAndKeepTheirFirstWrittenOrder() {
    String id = nextId();
    saver().put(checkpoint(id, null, "")).block(TIMEOUT);
    saver().putWrites(thread, "", id, List.of(write("b", PendingWrite.RESULT, TextNode.valueOf("first")),
        write("a", PendingWrite.RESULT, JSON.numberNode(1)))).block(TIMEOUT);
    StepVerifier.create(saver().putWrites(thread, "", id, List.of(
            write("b", PendingWrite.RESULT, TextNode.valueOf("second")),
            write("b", PendingWrite.ERROR, JSON.objectNode().put("message", "boom")))))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(saver().get(thread, "", id))
        .assertNext(tuple -> {
          assertEquals(List.of("b/" + PendingWrite.RESULT, "a/" + PendingWrite.RESULT, "b/" + PendingWrite.ERROR),
              tuple.writes().stream().map(w -> w.taskId() + "/" + w.channel()).toList());
          assertEquals(TextNode.valueOf("first"), tuple.writes().get(0).value());
          assertEquals("task-b", tuple.writes().get(0).taskName());
        })
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void writesToAMissingCheckpointFail() {
    StepVerifier.create(Flux.defer(() -> saver().putWrites(thread, "", "nope",
            List.of(write("a", PendingWrite.RESULT, NullNode.getInstance())))))
        .expectErrorSatisfies(error -> {
          assertEquals(IllegalArgumentException.class, error.getClass());
          assertTrue(error.getMessage().contains("nope"), error.getMessage());
        })
        .verify(TIMEOUT);
  }

  @Test
  void jsonValuesOfEveryShapeRoundTrip() {
    String id = nextId();
    saver().put(checkpoint(id, null, "")).block(TIMEOUT);
    List<JsonNode> values = List.of(TextNode.valueOf("text with \"quotes\" and ünïcode"), JSON.numberNode(42),
        JSON.numberNode(3.25), JSON.booleanNode(true), NullNode.getInstance(),
        JSON.arrayNode().add(1).add("x").add(JSON.objectNode().put("k", false)),
        JSON.objectNode().put("a", 1).set("b", JSON.arrayNode()));
    List<PendingWrite> writes = IntStream.range(0, values.size())
        .mapToObj(i -> write("t" + i, PendingWrite.RESULT, values.get(i))).toList();
    saver().putWrites(thread, "", id, writes).block(TIMEOUT);
    StepVerifier.create(saver().get(thread, "", id))
        .assertNext(tuple -> assertEquals(values, tuple.writes().stream().map(PendingWrite::value).toList()))
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void namespacesAreSeparate() {
    String root = nextId();
    String child = nextId();
    saver().put(checkpoint(root, null, "")).block(TIMEOUT);
    saver().put(checkpoint(child, null, "child")).block(TIMEOUT);
    StepVerifier.create(saver().get(thread, "", null))
        .assertNext(tuple -> assertEquals(root, tuple.checkpoint().id()))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(saver().list(thread, "child", null, 10).map(t -> t.checkpoint().id()))
        .expectNext(child)
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void deleteThreadRemovesEveryNamespaceAndNothingElse() {
    String other = "other-" + UUID.randomUUID();
    saver().put(checkpoint(nextId(), null, "")).block(TIMEOUT);
    saver().put(checkpoint(nextId(), null, "child")).block(TIMEOUT);
    saver().put(new Checkpoint(other, "", nextId(), null, Instant.now(), Map.of("source", "input", "step", -1),
        Map.of())).block(TIMEOUT);
    StepVerifier.create(saver().deleteThread(thread)).expectComplete().verify(TIMEOUT);
    StepVerifier.create(saver().get(thread, "", null)).expectComplete().verify(TIMEOUT);
    StepVerifier.create(saver().get(thread, "child", null)).expectComplete().verify(TIMEOUT);
    StepVerifier.create(saver().get(other, "", null)).expectNextCount(1).expectComplete().verify(TIMEOUT);
  }

  @Test
  void concurrentWritesAllLandAndDuplicatesKeepOneValue() {
    String id = nextId();
    saver().put(checkpoint(id, null, "")).block(TIMEOUT);
    Flux.range(0, 200)
        .flatMap(i -> saver().putWrites(thread, "", id, List.of(write("task-" + i, PendingWrite.RESULT,
            JSON.numberNode(i)))).subscribeOn(Schedulers.parallel()), 32)
        .then().block(TIMEOUT);
    Flux.range(0, 50)
        .flatMap(i -> saver().putWrites(thread, "", id, List.of(write("same", PendingWrite.RESULT,
            JSON.numberNode(i)))).subscribeOn(Schedulers.parallel()), 16)
        .then().block(TIMEOUT);
    StepVerifier.create(saver().get(thread, "", id))
        .assertNext(tuple -> {
          assertEquals(201, tuple.writes().size());
          List<PendingWrite> same = tuple.writes().stream().filter(w -> w.taskId().equals("same")).toList();
          assertEquals(1, same.size());
          int value = same.get(0).value().intValue();
          assertTrue(value >= 0 && value < 50);
        })
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void publishersAreCold() {
    String id = nextId();
    saver().put(checkpoint(id, null, "")); // never subscribed
    saver().deleteThread(thread);
    StepVerifier.create(saver().get(thread, "", null)).expectComplete().verify(TIMEOUT);
  }
}
