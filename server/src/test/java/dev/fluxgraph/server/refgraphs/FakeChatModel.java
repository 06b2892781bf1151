package dev.fluxgraph.server.refgraphs;

import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.messages.AiMessage;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A deterministic chat model for the reference suite's graphs: per key (a thread id), it answers its replies in turn
 * and starts over after the last, whatever the messages say. Each answer gets a fresh message id and is streamed one
 * character at a time through {@link TaskContext#messages()} as {@code AIMessageChunk}s under that id, then returned
 * whole under the same id.
 */
final class FakeChatModel {

  private final List<String> replies;
  private final Map<String, AtomicInteger> turns = new ConcurrentHashMap<>();

  FakeChatModel(List<String> replies) {
    if (replies.isEmpty()) {
      throw new IllegalArgumentException("a fake chat model needs at least one reply");
    }
    this.replies = List.copyOf(replies);
  }

  /** The next reply for {@code key}, streamed. */
  Mono<AiMessage> invoke(String key, TaskContext context) {
    int turn = turns.computeIfAbsent(key, ignored -> new AtomicInteger()).getAndIncrement();
    String reply = replies.get(turn % replies.size());
    String id = UUID.randomUUID().toString();
    return Flux.fromStream(reply.codePoints().mapToObj(Character::toString))
        .concatMap(token -> context.messages().write(Map.of("type", "AIMessageChunk", "id", id, "content", token)))
        .then(Mono.fromSupplier(() -> AiMessage.of(reply).withId(id)));
  }
}
