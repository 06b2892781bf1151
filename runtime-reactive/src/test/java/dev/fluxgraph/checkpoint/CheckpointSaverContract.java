package dev.fluxgraph.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * The behaviour every {@link CheckpointSaver} must have, as its Javadoc states it. Extend it and return the saver
 * under test from {@link #saver()}, which is called once per test and may return one shared instance: every test
 * works on fresh, random thread ids, so tests neither see nor disturb each other's data.
 *
 * <p>JSON values in these tests are the node types a JSON parser produces (an {@code int}-sized number is an
 * {@code IntNode}, not a {@code LongNode}), so savers that store JSON text pass them unchanged.
 *
 * <p>Shipped in this module's test-jar.
 */
public abstract class CheckpointSaverContract {

  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private final String thread = "thread-" + UUID.randomUUID();
  private int sequence;
  private @Nullable CheckpointSaver saver;

  /** The saver under test; called once per test. */
  protected abstract CheckpointSaver saver();

  private CheckpointSaver subject() {
    if (saver == null) {
      saver = saver();
    }
    return saver;
  }

  /** A checkpoint id greater than every earlier one of this test (ids are time-ordered strings). */
  private String nextId() {
    return String.format("1f0000aa-0000-7000-8000-%012d", ++sequence);
  }

  private Checkpoint checkpoint(String id, @Nullable String parentId, String namespace) {
    return checkpoint(thread, namespace, id, parentId);
  }

  private Checkpoint checkpoint(String threadId, String namespace, String id, @Nullable String parentId) {
    ObjectNode start = JSON.objectNode();
    start.put("n", 1).putArray("list").add("a").add(2);
    Map<String, Object> metadata = new java.util.LinkedHashMap<>();
    metadata.put("source", "input");
    metadata.put("step", sequence);
    metadata.put("nested", Map.of("k", "v", "list", List.of(1, "two")));
    metadata.put("ticket", null); // run metadata comes from JSON, which has nulls
    return new Checkpoint(threadId, namespace, id, parentId, Instant.now().truncatedTo(ChronoUnit.MILLIS), metadata,
        Map.of("__start__", start, "__run__", TextNode.valueOf(id)));
  }

  private void save(Checkpoint checkpoint) {
    StepVerifier.create(subject().put(checkpoint)).expectComplete().verify(TIMEOUT);
  }

  private void saveWrites(String checkpointId, PendingWrite... writes) {
    StepVerifier.create(subject().putWrites(thread, "", checkpointId, List.of(writes)))
        .expectComplete().verify(TIMEOUT);
  }

  private static PendingWrite write(String taskId, String channel, JsonNode value) {
    return new PendingWrite(taskId, "task-" + taskId, channel, value);
  }

  private void assertListed(String namespace, @Nullable String before, int limit, List<String> expectedIds) {
    StepVerifier.create(subject().list(thread, namespace, before, limit).map(tuple -> tuple.checkpoint().id()))
        .expectNextSequence(expectedIds)
        .expectComplete().verify(TIMEOUT);
  }

  private static void assertIllegalArgument(Mono<?> failing, String... inMessage) {
    StepVerifier.create(failing)
        .expectErrorSatisfies(error -> {
          assertEquals(IllegalArgumentException.class, error.getClass(), () -> "got " + error);
          for (String part : inMessage) {
            assertTrue(error.getMessage().contains(part), () -> "'" + part + "' not in: " + error.getMessage());
          }
        })
        .verify(TIMEOUT);
  }

  // get

  @Test
  void getOfAnUnknownThreadIsEmpty() {
    StepVerifier.create(subject().get(thread, "", null)).expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().get(thread, "", nextId())).expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().list(thread, "", null, 10)).expectComplete().verify(TIMEOUT);
  }

  @Test
  void getOfAnUnknownIdOnAKnownThreadIsEmpty() {
    String saved = nextId();
    save(checkpoint(saved, null, ""));
    StepVerifier.create(subject().get(thread, "", nextId())).expectComplete().verify(TIMEOUT);
  }

  @Test
  void putThenGetRoundTripsEveryField() {
    Checkpoint parent = checkpoint(nextId(), null, "");
    Checkpoint saved = checkpoint(nextId(), parent.id(), "");
    save(parent);
    save(saved);
    StepVerifier.create(subject().get(thread, "", saved.id()))
        .assertNext(tuple -> {
          Checkpoint read = tuple.checkpoint();
          assertEquals(saved.threadId(), read.threadId());
          assertEquals(saved.namespace(), read.namespace());
          assertEquals(saved.id(), read.id());
          assertEquals(parent.id(), read.parentId());
          assertEquals(saved.createdAt(), read.createdAt());
          assertEquals(saved.values(), read.values());
          assertEquals("input", read.metadata().get("source"));
          assertEquals(Integer.valueOf(2), read.metadata().get("step"));
          assertEquals(Map.of("k", "v", "list", List.of(1, "two")), read.metadata().get("nested"));
          assertEquals(saved.metadata().keySet(), read.metadata().keySet());
          assertEquals(null, read.metadata().get("ticket"));
          assertEquals(List.of(), tuple.writes());
        })
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().get(thread, "", parent.id()))
        .assertNext(tuple -> assertNull(tuple.checkpoint().parentId()))
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void getWithoutAnIdIsTheCheckpointWithTheGreatestId() {
    String older = nextId();
    String newer = nextId();
    // Saved newest first: "latest" means the greatest id, not the last one saved.
    save(checkpoint(newer, older, ""));
    save(checkpoint(older, null, ""));
    StepVerifier.create(subject().get(thread, "", null))
        .assertNext(tuple -> assertEquals(newer, tuple.checkpoint().id()))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().get(thread, "", older))
        .assertNext(tuple -> assertEquals(older, tuple.checkpoint().id()))
        .expectComplete().verify(TIMEOUT);
  }

  // list

  @Test
  void listIsNewestFirstWithAnExclusiveBeforeAndALimit() {
    List<String> ids = new ArrayList<>();
    String parent = null;
    for (int i = 0; i < 5; i++) {
      String id = nextId();
      save(checkpoint(id, parent, ""));
      ids.add(id);
      parent = id;
    }
    List<String> newestFirst = List.of(ids.get(4), ids.get(3), ids.get(2), ids.get(1), ids.get(0));
    assertListed("", null, Integer.MAX_VALUE, newestFirst);
    assertListed("", null, 5, newestFirst);
    assertListed("", null, 2, List.of(ids.get(4), ids.get(3)));
    assertListed("", null, 1, List.of(ids.get(4)));
    assertListed("", ids.get(3), 2, List.of(ids.get(2), ids.get(1)));
    assertListed("", ids.get(1), 10, List.of(ids.get(0)));
    assertListed("", ids.get(0), 10, List.of());
    // before need not be a saved id: it is compared like any id.
    assertListed("", ids.get(4) + "~", 10, newestFirst);
    assertListed("", ids.get(2) + "~", 10, List.of(ids.get(2), ids.get(1), ids.get(0)));
  }

  @Test
  void listCarriesEachCheckpointsWrites() {
    String first = nextId();
    String second = nextId();
    save(checkpoint(first, null, ""));
    save(checkpoint(second, first, ""));
    saveWrites(first, write("a", PendingWrite.RESULT, JSON.numberNode(1)));
    saveWrites(second, write("b", PendingWrite.RESULT, JSON.numberNode(2)),
        write("c", PendingWrite.ERROR, JSON.objectNode().put("message", "boom")));
    StepVerifier.create(subject().list(thread, "", null, 10))
        .assertNext(tuple -> assertEquals(List.of("b", "c"),
            tuple.writes().stream().map(PendingWrite::taskId).toList()))
        .assertNext(tuple -> assertEquals(List.of(write("a", PendingWrite.RESULT, JSON.numberNode(1))),
            tuple.writes()))
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void listRejectsANonPositiveLimit() {
    for (int limit : new int[] {0, -1, Integer.MIN_VALUE}) {
      assertIllegalArgument(Flux.defer(() -> subject().list(thread, "", null, limit)).then(), "limit");
    }
  }

  // put

  @Test
  void putIsIdempotentAndTheFirstSaveWins() {
    String id = nextId();
    Checkpoint first = checkpoint(id, null, "");
    Checkpoint again = new Checkpoint(thread, "", id, "other-parent", first.createdAt().plusSeconds(1),
        Map.of("source", "loop", "step", 9), Map.of("__run__", TextNode.valueOf("changed")));
    save(first);
    saveWrites(id, write("a", PendingWrite.RESULT, JSON.numberNode(1)));
    save(again);
    save(first);
    StepVerifier.create(subject().list(thread, "", null, 10))
        .assertNext(tuple -> {
          assertEquals("input", tuple.checkpoint().metadata().get("source"));
          assertNull(tuple.checkpoint().parentId());
          assertEquals(first.createdAt(), tuple.checkpoint().createdAt());
          assertEquals(first.values(), tuple.checkpoint().values());
          assertEquals(1, tuple.writes().size(), "saving the checkpoint again keeps its writes");
        })
        .expectComplete().verify(TIMEOUT);
  }

  // putWrites

  @Test
  void writesAreWriteOnceAndKeepTheirFirstWrittenOrder() {
    String id = nextId();
    save(checkpoint(id, null, ""));
    saveWrites(id, write("b", PendingWrite.RESULT, TextNode.valueOf("first")),
        write("a", PendingWrite.RESULT, JSON.numberNode(1)));
    saveWrites(id, new PendingWrite("b", "renamed", PendingWrite.RESULT, TextNode.valueOf("second")),
        write("b", PendingWrite.ERROR, JSON.objectNode().put("message", "boom")),
        write("a", PendingWrite.RESULT, JSON.numberNode(2)));
    saveWrites(id);
    StepVerifier.create(subject().get(thread, "", id))
        .assertNext(tuple -> assertEquals(List.of(
                write("b", PendingWrite.RESULT, TextNode.valueOf("first")),
                write("a", PendingWrite.RESULT, JSON.numberNode(1)),
                write("b", PendingWrite.ERROR, JSON.objectNode().put("message", "boom"))),
            tuple.writes()))
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void aDuplicateWithinOneCallKeepsTheFirst() {
    String id = nextId();
    save(checkpoint(id, null, ""));
    saveWrites(id, write("i", PendingWrite.INTERRUPT, TextNode.valueOf("ask")),
        write("i", PendingWrite.INTERRUPT, TextNode.valueOf("ask again")),
        write("i", PendingWrite.RESUME, TextNode.valueOf("answer")));
    StepVerifier.create(subject().get(thread, "", id))
        .assertNext(tuple -> assertEquals(List.of(write("i", PendingWrite.INTERRUPT, TextNode.valueOf("ask")),
            write("i", PendingWrite.RESUME, TextNode.valueOf("answer"))), tuple.writes()))
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void writesToAMissingCheckpointFailNamingThreadAndCheckpoint() {
    String missing = nextId();
    assertIllegalArgument(Mono.defer(() -> subject().putWrites(thread, "", missing,
        List.of(write("a", PendingWrite.RESULT, NullNode.getInstance())))), thread, missing);
  }

  @Test
  void aWriteToAMissingCheckpointFailsAloneAmongConcurrentOnes() {
    String saved = nextId();
    String missing = nextId();
    String fresh = nextId();
    save(checkpoint(saved, null, ""));
    PendingWrite good = write("a", PendingWrite.RESULT, TextNode.valueOf("kept"));
    // issued together, so a batching saver carries them in one batch: only the write to the missing one fails
    Mono<String> goodWrites = subject().putWrites(thread, "", saved, List.of(good)).thenReturn("good");
    Mono<String> badWrites = subject().putWrites(thread, "", missing, List.of(good)).thenReturn("bad")
        .onErrorResume(IllegalArgumentException.class, error -> Mono.just("refused: " + error.getMessage()));
    Mono<String> put = subject().put(checkpoint(fresh, saved, "")).thenReturn("put");
    StepVerifier.create(Flux.merge(goodWrites, badWrites, put).collectList())
        .assertNext(outcomes -> {
          assertEquals(3, outcomes.size(), outcomes::toString);
          assertTrue(outcomes.contains("good") && outcomes.contains("put"), outcomes::toString);
          assertTrue(outcomes.stream().anyMatch(o -> o.startsWith("refused: ") && o.contains(missing)),
              outcomes::toString);
        })
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().get(thread, "", saved))
        .assertNext(tuple -> assertEquals(List.of(good), tuple.writes()))
        .expectComplete().verify(TIMEOUT);
    assertListed("", null, 10, List.of(fresh, saved));
  }

  @Test
  void writesToACheckpointOfAnotherNamespaceFail() {
    String id = nextId();
    save(checkpoint(id, null, "child"));
    assertIllegalArgument(Mono.defer(() -> subject().putWrites(thread, "", id,
        List.of(write("a", PendingWrite.RESULT, NullNode.getInstance())))), id);
    StepVerifier.create(subject().get(thread, "child", id))
        .assertNext(tuple -> assertEquals(List.of(), tuple.writes()))
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void jsonValuesOfEveryShapeRoundTrip() {
    String id = nextId();
    save(checkpoint(id, null, ""));
    List<JsonNode> values = List.of(
        TextNode.valueOf("text with \"quotes\", \\ backslashes, ünïcode and emoji \uD83D\uDE00"),
        TextNode.valueOf(""),
        JSON.numberNode(42), JSON.numberNode(-7), JSON.numberNode(Long.MAX_VALUE),
        JSON.numberNode(new BigInteger("123456789012345678901234567890")), JSON.numberNode(3.25),
        JSON.booleanNode(true), JSON.booleanNode(false), NullNode.getInstance(),
        JSON.arrayNode(), JSON.objectNode(),
        JSON.arrayNode().add(1).add("x").addNull().add(JSON.objectNode().put("k", false)),
        JSON.objectNode().put("a", 1).putNull("none").set("b", JSON.arrayNode().add(JSON.arrayNode().add(2))));
    List<PendingWrite> writes = IntStream.range(0, values.size())
        .mapToObj(i -> write("t" + i, PendingWrite.RESULT, values.get(i))).toList();
    saveWrites(id, writes.toArray(PendingWrite[]::new));
    StepVerifier.create(subject().get(thread, "", id))
        .assertNext(tuple -> assertEquals(values, tuple.writes().stream().map(PendingWrite::value).toList()))
        .expectComplete().verify(TIMEOUT);
  }

  // namespaces and threads

  @Test
  void namespacesAreSeparate() {
    String root = nextId();
    String child = nextId();
    save(checkpoint(root, null, ""));
    save(checkpoint(child, null, "child"));
    StepVerifier.create(subject().get(thread, "", null))
        .assertNext(tuple -> assertEquals(root, tuple.checkpoint().id()))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().get(thread, "child", null))
        .assertNext(tuple -> assertEquals("child", tuple.checkpoint().namespace()))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().get(thread, "", child)).expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().get(thread, "child", root)).expectComplete().verify(TIMEOUT);
    assertListed("", null, 10, List.of(root));
    assertListed("child", null, 10, List.of(child));
  }

  @Test
  void threadsAreSeparate() {
    String other = "other-" + UUID.randomUUID();
    String mine = nextId();
    String theirs = nextId();
    save(checkpoint(mine, null, ""));
    save(checkpoint(other, "", theirs, null));
    StepVerifier.create(subject().get(thread, "", null))
        .assertNext(tuple -> assertEquals(mine, tuple.checkpoint().id()))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().get(thread, "", theirs)).expectComplete().verify(TIMEOUT);
    assertListed("", null, 10, List.of(mine));
    StepVerifier.create(subject().deleteThread(other)).expectComplete().verify(TIMEOUT);
  }

  @Test
  void deleteThreadRemovesEveryNamespaceAndNothingElse() {
    String other = "other-" + UUID.randomUUID();
    String root = nextId();
    save(checkpoint(root, null, ""));
    saveWrites(root, write("a", PendingWrite.RESULT, JSON.numberNode(1)));
    save(checkpoint(nextId(), null, "child"));
    String theirs = nextId();
    save(checkpoint(other, "", theirs, null));
    StepVerifier.create(subject().putWrites(other, "", theirs, List.of(write("a", PendingWrite.RESULT,
        JSON.numberNode(2))))).expectComplete().verify(TIMEOUT);

    StepVerifier.create(subject().deleteThread(thread)).expectComplete().verify(TIMEOUT);

    StepVerifier.create(subject().get(thread, "", null)).expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().get(thread, "child", null)).expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().list(thread, "", null, 10)).expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().get(other, "", null))
        .assertNext(tuple -> assertEquals(List.of(write("a", PendingWrite.RESULT, JSON.numberNode(2))),
            tuple.writes()))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().deleteThread(other)).expectComplete().verify(TIMEOUT);
  }

  @Test
  void deleteAfterRemovesTheNewerCheckpointsOfThatNamespaceWithTheirWrites() {
    String first = nextId();
    String second = nextId();
    String third = nextId();
    save(checkpoint(first, null, ""));
    save(checkpoint(second, first, ""));
    save(checkpoint(third, second, ""));
    saveWrites(third, write("a", PendingWrite.RESULT, JSON.numberNode(3)));
    String child = nextId();
    save(checkpoint(child, null, "child"));

    StepVerifier.create(subject().deleteAfter(thread, "", first)).expectComplete().verify(TIMEOUT);

    assertListed("", null, 10, List.of(first));
    StepVerifier.create(subject().get(thread, "", third)).expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().get(thread, "child", null)).expectNextCount(1).expectComplete().verify(TIMEOUT);
    save(checkpoint(third, first, "")); // the id is free again, without the old writes
    StepVerifier.create(subject().get(thread, "", third))
        .assertNext(tuple -> assertEquals(List.of(), tuple.writes(), "the old writes went with the checkpoint"))
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void updateMetadataMergesIntoTheNewestOrTheNamedCheckpointOnly() {
    String first = nextId();
    String second = nextId();
    save(checkpoint(first, null, ""));
    save(checkpoint(second, first, ""));
    saveWrites(second, write("a", PendingWrite.RESULT, JSON.numberNode(2)));
    Map<String, Object> patch = new java.util.LinkedHashMap<>();
    patch.put("tag", "reviewed");
    patch.put("source", "patched");
    patch.put("cleared", null);

    StepVerifier.create(subject().updateMetadata(thread, "", null, patch))
        .assertNext(updated -> {
          assertEquals(second, updated.id(), "the newest checkpoint without an id");
          assertEquals("reviewed", updated.metadata().get("tag"));
          assertEquals("patched", updated.metadata().get("source"), "an entry of the patch replaces its key");
          assertEquals(Map.of("k", "v", "list", List.of(1, "two")), updated.metadata().get("nested"),
              "the other entries stay");
          assertTrue(updated.metadata().containsKey("cleared"), "a null entry is kept as null");
        })
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().get(thread, "", second))
        .assertNext(tuple -> {
          assertEquals("reviewed", tuple.checkpoint().metadata().get("tag"), "the change is saved");
          assertEquals(1, tuple.writes().size(), "the writes stay");
          assertEquals(TextNode.valueOf(second), tuple.checkpoint().values().get("__run__"), "the values stay");
        })
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().get(thread, "", first))
        .assertNext(tuple -> assertNull(tuple.checkpoint().metadata().get("tag"), "an older one is unchanged"))
        .expectComplete().verify(TIMEOUT);

    StepVerifier.create(subject().updateMetadata(thread, "", first, Map.of("tag", "old")))
        .assertNext(updated -> assertEquals(first, updated.id()))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().get(thread, "", first))
        .assertNext(tuple -> assertEquals("old", tuple.checkpoint().metadata().get("tag")))
        .expectComplete().verify(TIMEOUT);
    assertListed("", null, 10, List.of(second, first)); // no new checkpoint
  }

  @Test
  void updateMetadataOfAMissingCheckpointIsEmpty() {
    StepVerifier.create(subject().updateMetadata("no-such-" + thread, "", null, Map.of("a", 1)))
        .expectComplete().verify(TIMEOUT);
    save(checkpoint(nextId(), null, ""));
    StepVerifier.create(subject().updateMetadata(thread, "", nextId(), Map.of("a", 1)))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().updateMetadata(thread, "other-namespace", null, Map.of("a", 1)))
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void pruneToLatestKeepsTheNewestCheckpointOfEachNamespaceWithItsWrites() {
    String first = nextId();
    String second = nextId();
    String third = nextId();
    save(checkpoint(first, null, ""));
    save(checkpoint(second, first, ""));
    saveWrites(second, write("a", PendingWrite.RESULT, JSON.numberNode(2)));
    save(checkpoint(third, second, ""));
    saveWrites(third, write("b", PendingWrite.RESULT, JSON.numberNode(3)));
    String childOld = nextId();
    String childNew = nextId();
    save(checkpoint(childOld, null, "child"));
    save(checkpoint(childNew, childOld, "child"));
    String other = "other-" + thread;
    save(checkpoint(other, "", nextId(), null));
    save(checkpoint(other, "", nextId(), null));

    StepVerifier.create(subject().pruneToLatest(thread)).expectNext(3L).expectComplete().verify(TIMEOUT);

    assertListed("", null, 10, List.of(third));
    assertListed("child", null, 10, List.of(childNew));
    StepVerifier.create(subject().get(thread, "", null))
        .assertNext(tuple -> assertEquals(1, tuple.writes().size(), "the newest keeps its writes"))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().list(other, "", null, 10)).expectNextCount(2).expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().pruneToLatest(thread)).expectNext(0L).expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().pruneToLatest("no-such-" + thread)).expectNext(0L).expectComplete()
        .verify(TIMEOUT);
    StepVerifier.create(subject().deleteThread(other)).expectComplete().verify(TIMEOUT);
  }

  @Test
  void aDeletedThreadStartsAfresh() {
    String old = nextId();
    save(checkpoint(old, null, ""));
    saveWrites(old, write("a", PendingWrite.RESULT, JSON.numberNode(1)));
    StepVerifier.create(subject().deleteThread(thread)).expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().deleteThread(thread)).expectComplete().verify(TIMEOUT);
    save(checkpoint(old, null, ""));
    StepVerifier.create(subject().get(thread, "", old))
        .assertNext(tuple -> assertEquals(List.of(), tuple.writes(), "the old writes went with the thread"))
        .expectComplete().verify(TIMEOUT);
  }

  // concurrency

  @Test
  void concurrentWritesAllLandAndDuplicatesKeepOneOfTheAttemptedValues() {
    String id = nextId();
    save(checkpoint(id, null, ""));
    Flux<Void> distinct = Flux.range(0, 200)
        .flatMap(i -> subject().putWrites(thread, "", id, List.of(write("task-" + i, PendingWrite.RESULT,
            JSON.numberNode(i)))).subscribeOn(Schedulers.parallel()), 32);
    Flux<Void> duplicates = Flux.range(0, 50)
        .flatMap(i -> subject().putWrites(thread, "", id, List.of(write("same", PendingWrite.RESULT,
            JSON.numberNode(i)))).subscribeOn(Schedulers.parallel()), 16);
    StepVerifier.create(Flux.merge(distinct, duplicates)).expectComplete().verify(TIMEOUT);
    JsonNode[] kept = new JsonNode[1];
    StepVerifier.create(subject().get(thread, "", id))
        .assertNext(tuple -> {
          assertEquals(201, tuple.writes().size());
          Set<String> tasks = tuple.writes().stream().map(PendingWrite::taskId).collect(Collectors.toSet());
          assertEquals(201, tasks.size(), "each identity once");
          IntStream.range(0, 200).forEach(i -> assertTrue(tasks.contains("task-" + i), "task-" + i));
          List<PendingWrite> same = tuple.writes().stream().filter(w -> w.taskId().equals("same")).toList();
          assertEquals(1, same.size());
          int value = same.get(0).value().intValue();
          assertTrue(value >= 0 && value < 50, "one of the attempted values, was " + value);
          kept[0] = same.get(0).value();
        })
        .expectComplete().verify(TIMEOUT);
    // The acknowledged value never changes afterwards.
    saveWrites(id, write("same", PendingWrite.RESULT, JSON.numberNode(1000)));
    StepVerifier.create(subject().get(thread, "", id).map(tuple -> tuple.writes().stream()
            .filter(w -> w.taskId().equals("same")).findFirst().orElseThrow().value()))
        .expectNext(kept[0])
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void concurrentPutsOfOneIdKeepOneCheckpoint() {
    String id = nextId();
    StepVerifier.create(Flux.range(0, 50)
            .flatMap(i -> subject().put(new Checkpoint(thread, "", id, null, Instant.EPOCH,
                Map.of("source", "loop", "step", i), Map.of())).subscribeOn(Schedulers.parallel()), 16))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(subject().list(thread, "", null, 10))
        .assertNext(tuple -> {
          int step = ((Number) tuple.checkpoint().metadata().get("step")).intValue();
          assertTrue(step >= 0 && step < 50, "one of the attempted checkpoints, step " + step);
        })
        .expectComplete().verify(TIMEOUT);
  }

  // laziness and arguments

  @Test
  void publishersAreColdAndRepeatable() {
    String id = nextId();
    Mono<Void> put = subject().put(checkpoint(id, null, ""));
    Mono<Void> delete = subject().deleteThread(thread);
    Mono<Void> writes = subject().putWrites(thread, "", id, List.of(write("a", PendingWrite.RESULT,
        JSON.numberNode(1))));
    Mono<CheckpointTuple> get = subject().get(thread, "", null);
    StepVerifier.create(get).expectComplete().verify(TIMEOUT);
    StepVerifier.create(put).expectComplete().verify(TIMEOUT);
    StepVerifier.create(put).expectComplete().verify(TIMEOUT);
    StepVerifier.create(writes).expectComplete().verify(TIMEOUT);
    StepVerifier.create(writes).expectComplete().verify(TIMEOUT);
    StepVerifier.create(get.map(tuple -> tuple.writes().size())).expectNext(1).expectComplete().verify(TIMEOUT);
    StepVerifier.create(delete).expectComplete().verify(TIMEOUT);
    StepVerifier.create(get).expectComplete().verify(TIMEOUT);
  }

  @Test
  void nullArgumentsAreRejectedAtCallTime() {
    String id = nextId();
    List<PendingWrite> none = List.of();
    assertNullRejected("threadId", () -> subject().get(null, "", null));
    assertNullRejected("namespace", () -> subject().get(thread, null, null));
    assertNullRejected("threadId", () -> subject().list(null, "", null, 1));
    assertNullRejected("namespace", () -> subject().list(thread, null, null, 1));
    assertNullRejected("checkpoint", () -> subject().put(null));
    assertNullRejected("threadId", () -> subject().putWrites(null, "", id, none));
    assertNullRejected("namespace", () -> subject().putWrites(thread, null, id, none));
    assertNullRejected("checkpointId", () -> subject().putWrites(thread, "", null, none));
    assertNullRejected("writes", () -> subject().putWrites(thread, "", id, null));
    assertNullRejected("threadId", () -> subject().deleteThread(null));
  }

  private static void assertNullRejected(String argument, Executable call) {
    NullPointerException error = assertThrows(NullPointerException.class, call);
    assertEquals(argument + " must not be null", error.getMessage());
  }
}
