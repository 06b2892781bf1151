package dev.fluxgraph.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

/** A test's JSON client of a server over a real socket: each call answers the status, the body and its JSON. */
final class ApiClient {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** An answer: its status, its body as sent, and a header. */
  record Reply(int status, String body, String contentLocation) {
    /** The body as JSON. @throws AssertionError when it is not JSON */
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON (status " + status + "): " + body, e);
      }
    }

    String detail() {
      return json().path("detail").asText();
    }
  }

  private final HttpClient http;
  private final int port;

  ApiClient(int port) {
    this.http = HttpClient.create().baseUrl("http://127.0.0.1:" + port);
    this.port = port;
  }

  /** The server's port. */
  int port() {
    return port;
  }

  Reply send(String method, String path, String body) {
    return http.request(HttpMethod.valueOf(method)).uri(path)
        .send(ByteBufFlux.fromString(Mono.just(body)))
        .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8).defaultIfEmpty("")
            .map(text -> new Reply(response.status().code(), text,
                String.valueOf(response.responseHeaders().get("Content-Location")))))
        .block(Duration.ofSeconds(20));
  }

  Reply get(String path) {
    return http.get().uri(path)
        .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8).defaultIfEmpty("")
            .map(text -> new Reply(response.status().code(), text,
                String.valueOf(response.responseHeaders().get("Content-Location")))))
        .block(Duration.ofSeconds(20));
  }

  Reply post(String path, String body) {
    return send("POST", path, body);
  }
}
