package dev.fluxgraph.internal.server.runs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxgraph.internal.server.storage.RunStore;
import dev.fluxgraph.types.FluxgraphJson;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufMono;
import reactor.netty.http.client.HttpClient;
import reactor.util.retry.Retry;

/**
 * A run's {@code webhook}: once the run ended (its final status committed), its record is POSTed as JSON to the URL
 * the request named, with {@code values} (what join answers) and, for a failed run, {@code error}; an answer other
 * than 2xx, a timeout (10 s) or a network error is tried again up to {@link #ATTEMPTS} times in all, 1 s then 2 s
 * apart, except a 4xx, which another try would not change. A webhook that fails in the end is logged; the run is not
 * affected either way. Sent by the process that ended the run.
 */
public final class Webhooks {

  private static final Logger LOG = LoggerFactory.getLogger(Webhooks.class);
  private static final ObjectMapper JSON = FluxgraphJson.mapper();
  static final int ATTEMPTS = 3;
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final HttpClient http = HttpClient.create().responseTimeout(TIMEOUT);
  private final Duration backoff;

  Webhooks() {
    this(Duration.ofSeconds(1));
  }

  Webhooks(Duration backoff) {
    this.backoff = backoff;
  }

  /**
   * The webhook of a run request body, or null when it has none.
   *
   * @throws IllegalArgumentException naming the problem when it is not an absolute http or https URL
   */
  public static @Nullable URI of(JsonNode body) {
    JsonNode webhook = body.path("webhook");
    if (webhook.isMissingNode() || webhook.isNull()) {
      return null;
    }
    if (!webhook.isTextual()) {
      throw new IllegalArgumentException("webhook must be a URL (a string)");
    }
    try {
      URI uri = new URI(webhook.asText());
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
        throw new IllegalArgumentException("webhook must be an absolute http or https URL, was '" + webhook.asText()
            + "'");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("webhook is not a URL: " + e.getMessage(), e);
    }
  }

  /** Sends the run's end to {@code webhook}, retrying; completes (never errors) once delivered or given up. */
  Mono<Void> send(URI webhook, RunStore.RunRecord run, JsonNode result) {
    return Mono.defer(() -> {
      String payload = payload(run, result);
      return http.headers(headers -> headers.set("Content-Type", "application/json"))
          .post().uri(webhook).send(ByteBufMono.fromString(Mono.just(payload)))
          .responseSingle((response, body) -> body.asString().defaultIfEmpty("").map(text -> {
            int status = response.status().code();
            if (status / 100 == 2) {
              return status;
            }
            throw new Refused(status, text);
          }))
          .retryWhen(Retry.backoff(ATTEMPTS - 1, backoff).maxBackoff(backoff.multipliedBy(2)).jitter(0)
              .filter(error -> !(error instanceof Refused refused) || refused.status >= 500))
          .doOnNext(status -> LOG.debug("webhook of run {} delivered to {} ({})", run.runId(), webhook, status))
          .onErrorResume(error -> {
            Throwable cause = Exceptions.isRetryExhausted(error) && error.getCause() != null ? error.getCause()
                : error;
            LOG.warn("webhook of run {} to {} failed: {}", run.runId(), webhook, cause.getMessage() == null
                ? cause.toString() : cause.getMessage());
            return Mono.empty();
          })
          .then();
    });
  }

  /** The wire Run, then {@code values}, {@code error} and when it was sent. */
  private static String payload(RunStore.RunRecord run, JsonNode result) {
    ObjectNode node = JSON.createObjectNode();
    node.put("run_id", run.runId());
    node.put("thread_id", run.threadId());
    node.put("assistant_id", run.assistantId());
    node.put("created_at", run.createdAt().toString());
    node.put("updated_at", run.updatedAt().toString());
    node.put("status", run.status());
    node.set("metadata", JSON.valueToTree(run.metadata()));
    node.put("multitask_strategy", run.multitaskStrategy());
    JsonNode error = result.path("__error__");
    if (error.isObject()) {
      node.putNull("values");
      node.put("error", error.path("message").asText());
    } else {
      node.set("values", result);
    }
    node.put("webhook_sent_at", Instant.now().toString());
    try {
      return JSON.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a run's record is JSON", e);
    }
  }

  /** An answer that is not 2xx. */
  private static final class Refused extends RuntimeException {
    private final int status;

    Refused(int status, String body) {
      super("answered " + status + (body.isBlank() ? "" : ": " + body.lines().findFirst().orElse("")), null, false,
          false);
      this.status = status;
    }
  }
}
