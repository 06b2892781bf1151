package dev.fluxgraph.spring.autoconfigure;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxgraph.types.FluxgraphJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

/** A plain HTTP client for the tests, over a real socket: status and JSON body of one request. */
final class Http {

  private final HttpClient client;

  Http(String baseUrl) {
    this.client = HttpClient.create().baseUrl(baseUrl).responseTimeout(Duration.ofSeconds(30));
  }

  record Reply(int status, String body) {
    JsonNode json() {
      try {
        return FluxgraphJson.mapper().readTree(body);
      } catch (IOException e) {
        throw new UncheckedIOException("not JSON: " + body, e);
      }
    }
  }

  Reply get(String path) {
    return client.get().uri(path).responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8)
        .defaultIfEmpty("").map(text -> new Reply(response.status().code(), text))).block(Duration.ofSeconds(60));
  }

  Reply post(String path, String json) {
    return client.headers(headers -> headers.set("Content-Type", "application/json")).post().uri(path)
        .send(ByteBufFlux.fromString(Mono.just(json)))
        .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8).defaultIfEmpty("")
            .map(text -> new Reply(response.status().code(), text))).block(Duration.ofSeconds(60));
  }

  HttpClient client() {
    return client;
  }
}
