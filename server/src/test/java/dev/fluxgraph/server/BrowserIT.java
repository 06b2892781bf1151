package dev.fluxgraph.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.StateGraph;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * A page built on the SDK's React hook {@code useStream} (as agent-chat-ui is), bundled with esbuild, served from
 * another origin than the server and driven in headless Chromium ({@code src/test/browser/drive.mjs} with
 * puppeteer-core): a human-in-the-loop run (submit, interrupt, resume, final values), a reload showing the stored
 * state, a reload rejoining a running run, and a stop cancelling one. The server wants an API key and allows only the
 * page's origin, so every call is a CORS call with a preflight. {@code ./test.sh} installs the npm packages; Debian's
 * chromium is installed by {@code ensure-chromium.sh} when missing (as root).
 */
class BrowserIT {

  private static final Path BROWSER = Path.of("src/test/browser");
  private static final String KEY = "browser-key";

  /** Gates the {@code gated} graph waits on, opened by the page's test through {@code POST /release/{gate}}. */
  private final Map<String, Sinks.Empty<Void>> gates = new ConcurrentHashMap<>();

  private Sinks.Empty<Void> gate(String name) {
    return gates.computeIfAbsent(name, ignored -> Sinks.empty());
  }

  @Test
  void aUseStreamPageFromAnotherOriginDrivesRunsInChromium() throws Exception {
    assertTrue(Files.isDirectory(BROWSER.resolve("node_modules/puppeteer-core")),
        "run `npm ci` in server/src/test/browser first (./test.sh does)");
    String chromium = run(List.of("bash", "ensure-chromium.sh"), Duration.ofMinutes(10),
        "Debian's chromium is needed for this test and could not be installed").strip();
    chromium = chromium.lines().reduce((first, second) -> second).orElse(chromium);
    Path page = Path.of("target/browser-page").toAbsolutePath();
    run(List.of("node", "build.mjs", page.toString()), Duration.ofMinutes(2), "bundling the page failed");

    DisposableServer statics = HttpServer.create().host("127.0.0.1").port(0)
        .handle((request, response) -> {
          String path = new QueryStringDecoder(request.uri()).path();
          if (request.method().equals(HttpMethod.POST) && path.startsWith("/release/")) {
            gate(path.substring("/release/".length())).tryEmitEmpty();
            return request.receive().then(response.status(204).send());
          }
          Path file = path.equals("/") ? page.resolve("index.html") : path.equals("/app.js") ? page.resolve("app.js")
              : null;
          if (file == null) {
            return response.status(404).send();
          }
          return response.header("Content-Type", file.toString().endsWith(".js") ? "text/javascript"
              : "text/html; charset=utf-8").sendFile(file);
        })
        .bindNow();
    String pageOrigin = "http://127.0.0.1:" + statics.port();
    InMemorySaver saver = new InMemorySaver();
    FluxgraphServer server = FluxgraphServer.builder().discoverGraphs(false).port(0).apiKey(KEY)
        .corsAllowOrigins(pageOrigin)
        .graph("review", StateGraph.ofMap()
            .addNode("draft", (state, context) -> Mono.just(Map.<String, Object>of("draft",
                "draft about " + state.get("topic"))))
            .addNode("review", (state, context) -> context.interrupt("approve " + state.get("draft") + "?",
                String.class).map(verdict -> Map.<String, Object>of("verdict", verdict)))
            .addNode("publish", (state, context) -> Mono.just(Map.<String, Object>of("published",
                state.get("draft") + " (" + state.get("verdict") + ")")))
            .addEdge(StateGraph.START, "draft")
            .addEdge("draft", "review")
            .addEdge("review", "publish")
            .compile(CompileOptions.defaults().withName("review").withCheckpointer(saver))
            .asEntrypoint())
        .graph("gated", StateGraph.ofMap()
            .addNode("start", (state, context) -> Mono.just(Map.<String, Object>of("phase", "started")))
            .addNode("finish", (state, context) -> gate(String.valueOf(state.get("gate"))).asMono()
                .thenReturn(Map.<String, Object>of("phase", "finished")))
            .addEdge(StateGraph.START, "start")
            .addEdge("start", "finish")
            .compile(CompileOptions.defaults().withName("gated").withCheckpointer(saver))
            .asEntrypoint())
        .build().start().block(Duration.ofSeconds(10));
    try {
      String output = run(List.of("node", "drive.mjs", pageOrigin, "http://127.0.0.1:" + server.port(), KEY, chromium),
          Duration.ofMinutes(3), "the browser checks failed");
      System.out.print(output); // the checks, one a line, in the test's report
      assertTrue(output.contains("all browser checks passed"), output);
    } finally {
      server.stop().block(Duration.ofSeconds(10));
      statics.disposeNow();
    }
  }

  /** Runs a command in src/test/browser; fails with {@code failure} and its output unless it exits 0 in time. */
  private static String run(List<String> command, Duration timeout, String failure)
      throws IOException, InterruptedException {
    Path log = Files.createTempFile("fluxgraph-browser", ".log");
    try {
      Process process = new ProcessBuilder(command).directory(BROWSER.toFile()).redirectErrorStream(true)
          .redirectOutput(log.toFile()).start();
      boolean finished = process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS);
      if (!finished) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      String output = Files.readString(log, StandardCharsets.UTF_8);
      if (!finished) {
        fail(failure + ": `" + String.join(" ", command) + "` did not finish within " + timeout + ":\n" + output);
      }
      assertEquals(0, process.exitValue(), failure + ": `" + String.join(" ", command) + "`:\n" + output);
      return output;
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
