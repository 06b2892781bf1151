package dev.fluxgraph.func;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fluxgraph.cache.InMemoryCache;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.types.CachePolicy;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.GraphOutput;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.TypeRef;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** SEMANTICS §6: entrypoints invoked inside a run. */
class NestedEntrypointTest {

  private final InMemorySaver saver = new InMemorySaver();
  private final RunConfig config = RunConfig.thread(UUID.randomUUID().toString());
  private static final TypeRef<Map<String, Integer>> MAP = new TypeRef<>() { };

  @Test
  void aFinishedChildIsNotRunAgainWhenTheParentResumes() {
    AtomicInteger childRuns = new AtomicInteger();
    Entrypoint<Map<String, Integer>, Integer> multiply = Entrypoint.named("multiply")
        .define(MAP, TypeRef.of(Integer.class), (in, context) -> {
          childRuns.incrementAndGet();
          return Mono.just(in.get("a") * in.get("b"));
        });
    Entrypoint<Map<String, Integer>, Map<String, Integer>> main = Entrypoint.named("main").checkpointer(saver)
        .define(MAP, MAP, (in, context) -> multiply.invoke(Map.of("a", in.get("x"), "b", in.get("y")))
            .flatMap(product -> context.interrupt("ok?", Boolean.class)
                .map(ok -> Map.of("product", ok ? product : -1))));
    GraphOutput<Map<String, Integer>> paused = main.run(Map.of("x", 6, "y", 7), config).block();
    assertEquals(1, paused.interrupts().size());
    StepVerifier.create(main.invoke(Command.resume(true), config)).expectNext(Map.of("product", 42)).verifyComplete();
    assertEquals(1, childRuns.get());
  }

  @Test
  void interruptsInsideTheChildPauseTheParentAndResumeIntoTheChild() {
    AtomicInteger childTaskRuns = new AtomicInteger();
    Task<String, String> prepare = Task.of("prepare", String.class, (String s) -> {
      childTaskRuns.incrementAndGet();
      return Mono.just(s.toUpperCase());
    });
    Entrypoint<String, String> child = Entrypoint.named("child")
        .define(String.class, String.class, (s, context) -> prepare.call(s)
            .flatMap(p -> context.interrupt("confirm " + p, String.class).map(answer -> p + "/" + answer)));
    Entrypoint<String, String> parent = Entrypoint.named("parent").checkpointer(saver)
        .define(String.class, String.class, (s, context) -> child.invoke(s).map(r -> "[" + r + "]"));
    GraphOutput<String> paused = parent.run("abc", config).block();
    assertEquals("confirm ABC", paused.interrupts().get(0).value());
    StepVerifier.create(parent.invoke(Command.resume("yes"), config)).expectNext("[ABC/yes]").verifyComplete();
    assertEquals(1, childTaskRuns.get());
  }

  @Test
  void aChildUsesTheParentsStore() {
    dev.fluxgraph.store.InMemoryStore store = new dev.fluxgraph.store.InMemoryStore();
    Entrypoint<String, String> child = Entrypoint.named("child").define(String.class, String.class,
        (key, context) -> context.store().put(java.util.List.of("memories"), key, Map.of("seen", true)).thenReturn(key));
    Entrypoint<String, Boolean> parent = Entrypoint.named("parent").checkpointer(saver).store(store)
        .define(String.class, Boolean.class, (key, context) -> child.invoke(key)
            .flatMap(k -> context.store().get(java.util.List.of("memories"), k))
            .map(item -> (Boolean) item.value().get("seen")));
    StepVerifier.create(parent.invoke("k1", config)).expectNext(true).verifyComplete();
  }

  @Test
  void aChildUsesTheParentsCache() {
    AtomicInteger bodyRuns = new AtomicInteger();
    Task<Integer, Integer> square = Task.of("square", Integer.class, (Integer n) -> {
      bodyRuns.incrementAndGet();
      return Mono.just(n * n);
    }).withCache(CachePolicy.forever());
    Entrypoint<Integer, Integer> child = Entrypoint.named("child").define(Integer.class, Integer.class,
        (n, context) -> square.call(n));
    Entrypoint<Integer, Integer> parent = Entrypoint.named("parent").checkpointer(saver).cache(new InMemoryCache())
        .define(Integer.class, Integer.class, (n, context) -> child.invoke(n));
    StepVerifier.create(parent.invoke(7, config)).expectNext(49).verifyComplete();
    StepVerifier.create(parent.invoke(7, RunConfig.thread(UUID.randomUUID().toString()))).expectNext(49)
        .verifyComplete();
    assertEquals(1, bodyRuns.get(), "the second run's child found the first one's result in the parent's cache");
  }

  /** SEMANTICS §4: previous is the value of the thread's last completed run, not of a failed one. */
  @Test
  void previousSkipsARunThatFailed() {
    Entrypoint<String, String> remember = Entrypoint.named("remember").checkpointer(saver)
        .define(String.class, String.class, (s, context) -> s.equals("fail")
            ? Mono.error(new IllegalStateException("no"))
            : Mono.just(s + "<" + context.previous().orElse("none")));
    StepVerifier.create(remember.invoke("a", config)).expectNext("a<none").verifyComplete();
    StepVerifier.create(remember.invoke("fail", config)).expectError(IllegalStateException.class).verify();
    StepVerifier.create(remember.invoke("b", config)).expectNext("b<a<none").verifyComplete();
  }

  @Test
  void outsideARunInvokeRunsStandalone() {
    Entrypoint<Integer, Integer> inc = Entrypoint.named("inc").define(Integer.class, Integer.class,
        (n, context) -> Mono.just(n + 1));
    StepVerifier.create(inc.invoke(1)).expectNext(2).verifyComplete();
  }
}
