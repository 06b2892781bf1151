package dev.fluxgraph.samples;

import dev.fluxgraph.cache.InMemoryCache;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.types.CachePolicy;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamMode;
import dev.fluxgraph.types.TypeRef;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Mono;

/** "Caching tasks": the second slow_add call with the same input is a cache hit, marked {"cached": true}. */
public final class Caching implements Sample {

  static final Task<Integer, Integer> SLOW_ADD = Task.of("slow_add", Integer.class,
          (Integer x) -> Mono.delay(Duration.ofMillis(300)).thenReturn(x * 2))
      .withCache(CachePolicy.ttl(Duration.ofSeconds(120)));

  /** Calls slow_add twice with the same input. */
  public static Entrypoint<Map<String, Integer>, Map<String, Integer>> main(InMemoryCache cache) {
    TypeRef<Map<String, Integer>> ints = new TypeRef<>() { };
    return Entrypoint.named("main").cache(cache).define(ints, ints, (inputs, context) ->
        SLOW_ADD.call(inputs.get("x")).flatMap(result1 -> SLOW_ADD.call(inputs.get("x")).map(result2 -> {
          Map<String, Integer> result = new LinkedHashMap<>();
          result.put("result1", result1);
          result.put("result2", result2);
          return result;
        })));
  }

  @Override
  public String name() {
    return "caching";
  }

  @Override
  public String description() {
    return "a task cached by CachePolicy: the second call is a cache hit (argument: x, default 5)";
  }

  @Override
  public void run(List<String> args, BufferedReader in, PrintStream out) {
    int x = args.isEmpty() ? 5 : Integer.parseInt(args.get(0));
    main(new InMemoryCache()).stream(Map.of("x", x), RunConfig.none(), StreamMode.UPDATES)
        .doOnNext(chunk -> out.println(Printing.json(chunk.data())))
        .blockLast();
  }
}
