package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.store.InMemoryStore;
import dev.fluxgraph.store.Item;
import dev.fluxgraph.store.Store;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.TypeRef;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/**
 * "Long-term memory": facts a user states on one thread are kept in the store under their user id and recalled
 * on another thread.
 */
public final class LongTermMemory implements Sample {

  static final Task<Map<String, String>, String> REMEMBER = Task.of("remember", String.class,
      (Map<String, String> message, TaskContext context) -> context.store()
          .put(List.of("memories", message.get("user")), "name", Map.of("value", message.get("name")))
          .thenReturn("Nice to meet you, " + message.get("name") + "!"));

  static final Task<Map<String, String>, String> RECALL = Task.of("recall", String.class,
      (Map<String, String> message, TaskContext context) -> context.store()
          .get(List.of("memories", message.get("user")), "name")
          .map(Item::value)
          .map(value -> "Your name is " + value.get("value") + ".")
          .defaultIfEmpty("I don't know your name yet."));

  /** Remembers when the message carries a name, recalls otherwise. */
  public static Entrypoint<Map<String, String>, String> chat(Store store) {
    return Entrypoint.named("chat").checkpointer(new InMemorySaver()).store(store)
        .define(new TypeRef<Map<String, String>>() { }, TypeRef.of(String.class),
            (message, context) -> message.containsKey("name") ? REMEMBER.call(message) : RECALL.call(message));
  }

  @Override
  public String name() {
    return "long-term-memory";
  }

  @Override
  public String description() {
    return "the store shared across threads: remember a name on one thread, recall it on another";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    Entrypoint<Map<String, String>, String> chat = chat(new InMemoryStore());
    String name = args.isEmpty() ? "Bob" : args.get(0);
    out.println("thread 1: " + chat.invoke(Map.of("user", "u1", "name", name), RunConfig.thread("1")).block());
    out.println("thread 2: " + chat.invoke(Map.of("user", "u1"), RunConfig.thread("2")).block());
    out.println("thread 3, other user: " + chat.invoke(Map.of("user", "u2"), RunConfig.thread("3")).block());
  }
}
