package dev.fluxgraph.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The SPI's optional operations refuse, naming the saver and what it cannot do, on a saver that lacks them. */
class CheckpointSaverDefaultsTest {

  /** A saver with only the required operations (they are never called here). */
  private static final class MinimalSaver implements CheckpointSaver {
    @Override
    public Mono<CheckpointTuple> get(String threadId, String namespace, @Nullable String checkpointId) {
      return Mono.empty();
    }

    @Override
    public Flux<CheckpointTuple> list(String threadId, String namespace, @Nullable String before, int limit) {
      return Flux.empty();
    }

    @Override
    public Mono<Void> put(Checkpoint checkpoint) {
      return Mono.empty();
    }

    @Override
    public Mono<Void> putWrites(String threadId, String namespace, String checkpointId, List<PendingWrite> writes) {
      return Mono.empty();
    }

    @Override
    public Mono<Void> deleteThread(String threadId) {
      return Mono.empty();
    }
  }

  private static void assertRefused(Mono<?> refused, String what) {
    StepVerifier.create(refused)
        .expectErrorSatisfies(error -> {
          assertEquals(UnsupportedOperationException.class, error.getClass());
          assertTrue(error.getMessage().startsWith("MinimalSaver cannot"), error.getMessage());
          assertTrue(error.getMessage().contains(what), error.getMessage());
        })
        .verify();
  }

  @Test
  void updateMetadataIsRefusedClearly() {
    assertRefused(new MinimalSaver().updateMetadata("t", "", null, Map.of("a", 1)), "metadata");
  }

  @Test
  void pruneToLatestIsRefusedClearly() {
    assertRefused(new MinimalSaver().pruneToLatest("t"), "older than its latest");
  }

  @Test
  void deleteAfterIsRefusedClearly() {
    assertRefused(new MinimalSaver().deleteAfter("t", "", "c"), "roll back");
  }
}
