package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

/**
 * Many clients racing on a few threads with every multitask strategy, cancels and deletes: no answer is a 5xx, every
 * run that was not deleted reaches a final status, no thread is left busy, and each thread takes a new run afterwards.
 */
class ServerConcurrencyIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> STRATEGIES = List.of("reject", "interrupt", "rollback", "enqueue");

  private record Reply(int status, String body) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (Exception e) {
        throw new AssertionError(body, e);
      }
    }
  }

  private static Mono<Reply> send(HttpClient http, String method, String path, String body) {
    return http.request(io.netty.handler.codec.http.HttpMethod.valueOf(method)).uri(path)
        .send(ByteBufFlux.fromString(Mono.just(body)))
        .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8).defaultIfEmpty("")
            .map(text -> new Reply(response.status().code(), text)));
  }

  @RepeatedTest(3)
  void racingRunsCancelsAndDeletesLeaveEveryRunFinishedAndEveryThreadFree() {
    race(new InMemorySaver());
  }

  @Test
  void theSameRacesOnPostgres() throws Exception {
    try (io.zonky.test.db.postgres.embedded.EmbeddedPostgres postgres =
             io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder().start();
         dev.fluxgraph.postgres.PostgresSaver saver = dev.fluxgraph.postgres.PostgresSaver.connect(
             "r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/postgres")) {
      saver.setup().block(Duration.ofSeconds(30));
      for (int round = 0; round < 3; round++) {
        race(saver);
      }
    }
  }

  private static void race(dev.fluxgraph.checkpoint.CheckpointSaver saver) {
    Task<Integer, Integer> work = Task.of("work", Integer.class,
        (Integer n) -> Mono.delay(Duration.ofMillis(ThreadLocalRandom.current().nextInt(40))).thenReturn(n + 1));
    Entrypoint<Integer, Integer> graph = Entrypoint.named("work").checkpointer(saver)
        .define(Integer.class, Integer.class, (n, context) -> work.call(n).flatMap(work::call));
    FluxgraphServer server = FluxgraphServer.builder().graph("work", graph).checkpointer(saver).port(0)
        .discoverGraphs(false).build().start().block(Duration.ofSeconds(30));
    try {
      HttpClient http = HttpClient.create().baseUrl("http://127.0.0.1:" + server.port());
      List<String> threads = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        threads.add(send(http, "POST", "/threads", "{}").block(Duration.ofSeconds(10)).json().get("thread_id")
            .asText());
      }
      Map<String, String> runThreads = new ConcurrentHashMap<>(); // run id -> thread id
      ConcurrentLinkedQueue<String> deleted = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<String> serverErrors = new ConcurrentLinkedQueue<>();
      Map<Integer, Integer> answers = new ConcurrentHashMap<>();
      ConcurrentLinkedQueue<String> hung = new ConcurrentLinkedQueue<>();
      Map<Integer, StringBuilder> receivedSoFar = new ConcurrentHashMap<>();
      Map<String, Integer> finals = new ConcurrentHashMap<>();
      Random seeds = new Random();
      List<Long> operationSeeds = new ArrayList<>();
      for (int i = 0; i < 240; i++) {
        operationSeeds.add(seeds.nextLong());
      }
      Flux.fromIterable(operationSeeds).flatMap(seed -> {
        Random random = new Random(seed);
        String thread = threads.get(random.nextInt(threads.size()));
        String strategy = STRATEGIES.get(random.nextInt(STRATEGIES.size()));
        String run = "{\"assistant_id\":\"work\",\"input\":" + random.nextInt(100) + ",\"multitask_strategy\":\""
            + strategy + "\"}";
        List<String> known = new ArrayList<>(runThreads.keySet());
        String someRun = known.isEmpty() ? null : known.get(random.nextInt(known.size()));
        int kind = random.nextInt(10);
        Mono<Reply> operation;
        String[] described = {thread + " " + run};
        if (kind < 4) {
          operation = send(http, "POST", "/threads/" + thread + "/runs", run).doOnNext(reply -> {
            if (reply.status() == 200) {
              runThreads.put(reply.json().get("run_id").asText(), thread);
            }
          });
        } else if (kind < 7) {
          StringBuilder received = new StringBuilder(); // what a stream that hangs had sent
          described[0] += " received: " + System.identityHashCode(received);
          receivedSoFar.put(System.identityHashCode(received), received);
          operation = http.post().uri("/threads/" + thread + "/runs/stream")
              .send(ByteBufFlux.fromString(Mono.just(run)))
              .response((response, content) -> content.asString(StandardCharsets.UTF_8)
                  .doOnNext(text -> {
                    synchronized (received) {
                      received.append(text);
                    }
                  })
                  .then(Mono.fromCallable(() -> new Reply(response.status().code(), received.toString()))))
              .next();
        } else if (kind < 8) {
          operation = send(http, "POST", "/threads/" + thread + "/runs/wait", run);
        } else if (kind < 9 && someRun != null) {
          String action = random.nextBoolean() ? "interrupt" : "rollback";
          operation = send(http, "POST", "/threads/" + runThreads.get(someRun) + "/runs/" + someRun
              + "/cancel?action=" + action, "");
          if (action.equals("rollback")) {
            operation = operation.doOnNext(reply -> deleted.add(someRun)); // a rolled-back run's record goes
          }
        } else if (someRun != null) {
          operation = send(http, "DELETE", "/threads/" + runThreads.get(someRun) + "/runs/" + someRun, "")
              .doOnNext(reply -> deleted.add(someRun));
        } else {
          operation = send(http, "GET", "/threads/" + thread, "");
        }
        return operation.timeout(Duration.ofSeconds(20)).onErrorResume(error -> {
          hung.add(kind + " " + described[0] + " " + error);
          return Mono.empty();
        }).doOnNext(reply -> {
          answers.merge(reply.status(), 1, Integer::sum);
          if (reply.status() >= 500) {
            serverErrors.add(reply.status() + " " + reply.body());
          }
        });
      }, 24).blockLast(Duration.ofSeconds(120));
      assertEquals(List.of(), List.copyOf(serverErrors), "no 5xx");
      if (!hung.isEmpty()) {
        StringBuilder state = new StringBuilder();
        for (String thread : threads) {
          state.append("\n").append(thread).append(": ")
              .append(send(http, "GET", "/threads/" + thread, "").block(Duration.ofSeconds(10)).body())
              .append("\n  runs: ").append(send(http, "GET", "/threads/" + thread + "/runs?limit=1000", "")
                  .block(Duration.ofSeconds(10)).body())
              .append("\n  state: ").append(send(http, "GET", "/threads/" + thread + "/state", "")
                  .block(Duration.ofSeconds(10)).body());
        }
        StringBuilder partial = new StringBuilder();
        for (String description : hung) {
          int at = description.indexOf("received: ");
          if (at >= 0) {
            int id = Integer.parseInt(description.substring(at + 10).split(" ")[0]);
            synchronized (receivedSoFar.get(id)) {
              partial.append("\n").append(receivedSoFar.get(id));
            }
          }
        }
        throw new AssertionError("unanswered: " + hung + "\nreceived:" + partial + state);
      }

      // every run not deleted ends (joined within the time limit), with a final status
      for (Map.Entry<String, String> entry : runThreads.entrySet()) {
        if (deleted.contains(entry.getKey())) {
          continue;
        }
        String path = "/threads/" + entry.getValue() + "/runs/" + entry.getKey();
        send(http, "GET", path + "/join", "").block(Duration.ofSeconds(30));
        Reply fetched = send(http, "GET", path, "").block(Duration.ofSeconds(10));
        if (fetched.status() == 404) {
          continue; // deleted as part of a rollback by a later run's multitask strategy
        }
        String status = fetched.json().get("status").asText();
        assertTrue(List.of("success", "error", "interrupted").contains(status), path + " is " + status);
        finals.merge(status, 1, Integer::sum);
      }
      // the races happened: some runs were refused as the thread was busy, some were cancelled or replaced
      assertTrue(answers.getOrDefault(409, 0) > 0, answers.toString());
      assertTrue(finals.getOrDefault("interrupted", 0) > 0 && finals.getOrDefault("success", 0) > 0, finals.toString());
      // no thread is left busy, and each takes a new run with the default strategy (reject)
      for (String thread : threads) {
        String status = "busy";
        for (int i = 0; i < 200 && status.equals("busy"); i++) {
          status = send(http, "GET", "/threads/" + thread, "").block(Duration.ofSeconds(10)).json().get("status")
              .asText();
          if (status.equals("busy")) {
            Mono.delay(Duration.ofMillis(25)).block();
          }
        }
        assertTrue(!status.equals("busy"), "thread " + thread + " stays busy");
        Reply last = send(http, "POST", "/threads/" + thread + "/runs/wait", "{\"assistant_id\":\"work\",\"input\":1}")
            .block(Duration.ofSeconds(30));
        assertEquals(200, last.status(), last.body());
        assertEquals(3, last.json().asInt(), last.body());
      }
    } finally {
      server.stop().block(Duration.ofSeconds(10));
    }
  }
}
