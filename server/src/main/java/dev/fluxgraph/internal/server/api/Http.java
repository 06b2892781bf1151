package dev.fluxgraph.internal.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.errors.FluxgraphException;
import dev.fluxgraph.internal.server.HttpProblem;
import dev.fluxgraph.server.ApiResponse;
import dev.fluxgraph.types.FluxgraphJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.netty.channel.AbortedException;

/**
 * The request and response plumbing every route shares: the API key, the JSON body (bounded, an object), JSON
 * answers, and refusals as {@code {"detail": ...}} with a 4xx status, never a stack trace.
 */
final class Http {

  private static final Logger LOG = LoggerFactory.getLogger(Http.class);
  private static final ObjectMapper JSON = FluxgraphJson.mapper();
  private static final int MAX_BODY_BYTES = 1 << 20;

  private final @Nullable String apiKey;

  Http(@Nullable String apiKey) {
    this.apiKey = apiKey;
  }

  /** A JSON handler: checks the key, reads the body (bounded), answers 200 with the result or the problem. */
  Routes.Handler handle(BiFunction<Request, JsonNode, Mono<? extends JsonNode>> handler) {
    return (request, response) -> guarded(request, response, body -> handler.apply(request, body)
        .flatMap(result -> json(response, 200, result)));
  }

  /** Checks the key, reads the body (bounded) and hands it to {@code handler}; a failure is answered as a problem. */
  Mono<Void> guarded(Request request, ApiResponse response, Function<JsonNode, Mono<Void>> handler) {
    return guarded(request, response, false, handler);
  }

  /** {@link #guarded} for a body that is a JSON array (a batch), not an object. */
  Mono<Void> guardedList(Request request, ApiResponse response, Function<JsonNode, Mono<Void>> handler) {
    return guarded(request, response, true, handler);
  }

  private Mono<Void> guarded(Request request, ApiResponse response, boolean list,
                             Function<JsonNode, Mono<Void>> handler) {
    return Mono.defer(() -> {
      try {
        authorize(request);
      } catch (HttpProblem refused) {
        return request.discard().then(Mono.error(refused)); // the body is drained: the connection stays usable
      }
      return body(request, list).flatMap(handler);
    }).onErrorResume(error -> problem(response, error));
  }

  private void authorize(Request request) {
    if (apiKey == null) {
      return;
    }
    String given = request.header("x-api-key");
    if (given == null || !MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
        apiKey.getBytes(StandardCharsets.UTF_8))) {
      throw new HttpProblem(401, "missing or wrong x-api-key");
    }
  }

  private static Mono<JsonNode> body(Request request, boolean list) {
    return request.body()
        .defaultIfEmpty(new byte[0])
        .map(bytes -> {
          if (bytes.length > MAX_BODY_BYTES) {
            throw new HttpProblem(413, "request body larger than " + MAX_BODY_BYTES + " bytes");
          }
          if (bytes.length == 0) {
            if (list) {
              throw HttpProblem.invalid("the request body must be a JSON array");
            }
            return (JsonNode) JSON.createObjectNode();
          }
          try {
            JsonNode node = JSON.readTree(bytes);
            if (list ? !node.isArray() : !node.isObject()) {
              throw HttpProblem.invalid("the request body must be a JSON " + (list ? "array" : "object"));
            }
            return node;
          } catch (IOException e) {
            throw HttpProblem.invalid("malformed JSON: " + e.getMessage().lines().findFirst().orElse(""));
          }
        });
  }

  /** Answers {@code status} with {@code value} as JSON. */
  static Mono<Void> json(ApiResponse response, int status, Object value) {
    try {
      byte[] bytes = JSON.writeValueAsBytes(value);
      return response.status(status).header("Content-Type", "application/json").send(bytes);
    } catch (IOException e) {
      return Mono.error(e);
    }
  }

  /** Answers a refusal with its status and {@code {"detail"}}; anything unexpected is a 500 without its trace. */
  static Mono<Void> problem(ApiResponse response, Throwable error) {
    int status = error instanceof HttpProblem problem ? problem.status()
        : error instanceof IllegalArgumentException || error instanceof FluxgraphException ? 422 : 500;
    String detail = error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
    if (status == 500) {
      detail = "internal error: " + error.getClass().getSimpleName();
      if (error instanceof AbortedException) { // the client left: nothing went wrong here
        LOG.debug("client left before the answer: {}", error.toString());
      } else {
        LOG.error("internal error answered with 500", error); // the client gets no trace
      }
    }
    if (response.hasSentHeaders()) {
      return Mono.empty();
    }
    return json(response, status, Map.of("detail", detail));
  }
}
