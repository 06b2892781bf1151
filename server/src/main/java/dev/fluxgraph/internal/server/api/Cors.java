package dev.fluxgraph.internal.server.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.fluxgraph.server.ApiResponse;
import dev.fluxgraph.types.FluxgraphJson;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * Which browser origins may call the server (CORS), checked before anything else, authentication included: a
 * preflight ({@code OPTIONS} with {@code Access-Control-Request-Method}) is answered here, an allowed origin's requests
 * get {@code Access-Control-Allow-Origin} and the exposed headers the SDK reads, and a request from an origin that is
 * not allowed is refused with 403 (the browser would hide the answer anyway; refusing also keeps such a page from
 * starting runs with a "simple" request that needs no preflight). Requests without {@code Origin} (other clients) and
 * same-origin ones pass untouched.
 */
public final class Cors {

  /**
   * The request headers always allowed, those the SDK sends: JSON bodies, the API key or a bearer token, and
   * joinStream's resume point. Others a preflight asks for (the SDK's {@code defaultHeaders}, Studio's) are allowed
   * too: the origin is trusted already.
   */
  static final String ALLOWED_HEADERS = "content-type, x-api-key, authorization, last-event-id";
  static final String ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
  /**
   * The response headers a page may read: {@code useStream} learns the run id from {@code Content-Location}, the SDK
   * reconnects a broken stream through {@code Location}, searches page with the pagination headers.
   */
  static final String EXPOSED_HEADERS = "content-location, location, x-pagination-total, x-pagination-next";
  /** How long a browser may reuse a preflight's answer, in seconds (Chromium caps it at 7200). */
  public static final int MAX_AGE_SECONDS = 600;

  private static final Pattern ORIGIN = Pattern.compile("[a-z][a-z0-9+.-]*://[^/?#\\s]+");
  /** An HTTP header name (RFC 9110 token). */
  private static final Pattern HEADER_NAME = Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]+");

  /** No policy of the API's own: every request goes to the routes as it came, and the host's CORS handling applies. */
  public static final Cors HOST = new Cors(false, Set.of(), true);

  private final boolean anyOrigin;
  private final Set<String> origins;
  private final boolean byHost;

  private Cors(boolean anyOrigin, Set<String> origins, boolean byHost) {
    this.anyOrigin = anyOrigin;
    this.origins = origins;
    this.byHost = byHost;
  }

  /**
   * The policy allowing {@code origins}: {@code "*"} for any origin, else exact origins ({@code scheme://host[:port]},
   * compared case-insensitively, a trailing slash ignored); an empty list allows no cross-origin caller.
   *
   * @throws IllegalArgumentException naming an entry that is not an origin
   */
  public static Cors allowing(List<String> origins) {
    Objects.requireNonNull(origins, "origins must not be null");
    Set<String> exact = new LinkedHashSet<>();
    boolean any = false;
    for (String origin : origins) {
      Objects.requireNonNull(origin, "an allowed origin must not be null");
      String normalized = normalize(origin);
      if (normalized.equals("*")) {
        any = true;
      } else if (ORIGIN.matcher(normalized).matches()) {
        exact.add(normalized);
      } else {
        throw new IllegalArgumentException("allowed CORS origin '" + origin + "' is neither * nor scheme://host[:port] "
            + "(e.g. http://localhost:3000)");
      }
    }
    return new Cors(any, Collections.unmodifiableSet(exact), false); // in the order given, for messages
  }

  private static String normalize(String origin) {
    String trimmed = origin.trim().toLowerCase(Locale.ROOT);
    return trimmed.endsWith("/") ? trimmed.substring(0, trimmed.length() - 1) : trimmed;
  }

  /** Whether a page from {@code origin} may call the server. */
  boolean allows(String origin) {
    return anyOrigin || origins.contains(normalize(origin));
  }

  /** Applies the policy to a request, then hands it to {@code next} unless it was answered here. */
  Mono<Void> filter(Request request, ApiResponse response, Routes.Handler next) {
    if (byHost) {
      return next.handle(request, response);
    }
    String origin = request.header("Origin");
    boolean options = request.method().equals("OPTIONS");
    if (origin == null || sameOrigin(origin, request)) {
      return options ? allow(request, response) : next.handle(request, response);
    }
    if (!anyOrigin) {
      response.addHeader("Vary", "Origin");
    }
    if (!allows(origin)) {
      return refuse(request, response, origin);
    }
    response.header("Access-Control-Allow-Origin", anyOrigin ? "*" : origin);
    if (options && request.header("Access-Control-Request-Method") != null) {
      response.header("Access-Control-Allow-Methods", ALLOWED_METHODS)
          .header("Access-Control-Allow-Headers", allowedHeaders(request.header("Access-Control-Request-Headers")))
          .addHeader("Vary", "Access-Control-Request-Headers")
          .header("Access-Control-Max-Age", String.valueOf(MAX_AGE_SECONDS));
      // Chrome asks before a public page may reach a private or local address (Private Network Access)
      if ("true".equalsIgnoreCase(request.header("Access-Control-Request-Private-Network"))) {
        response.header("Access-Control-Allow-Private-Network", "true");
      }
      return request.discard().then(response.status(204).send());
    }
    response.header("Access-Control-Expose-Headers", EXPOSED_HEADERS);
    return options ? allow(request, response) : next.handle(request, response);
  }

  /** {@link #ALLOWED_HEADERS} and the other header names the preflight asked for. */
  private static String allowedHeaders(@Nullable String requested) {
    Set<String> allowed = new LinkedHashSet<>(List.of(ALLOWED_HEADERS.split(", ")));
    if (requested != null) {
      for (String name : requested.split(",")) {
        String header = name.trim().toLowerCase(Locale.ROOT);
        if (HEADER_NAME.matcher(header).matches()) {
          allowed.add(header);
        }
      }
    }
    return String.join(", ", allowed);
  }

  /** A plain {@code OPTIONS} (not a preflight): the methods the server answers. */
  private static Mono<Void> allow(Request request, ApiResponse response) {
    // every answer here reads the request to its end first: an unread request stalls the connection's next one
    return request.discard().then(response.status(204).header("Allow", ALLOWED_METHODS).send());
  }

  /** Whether the page is served by this server's own address (the {@code Host} it was reached at). */
  private static boolean sameOrigin(String origin, Request request) {
    String host = request.header("Host");
    int scheme = origin.indexOf("://");
    return host != null && scheme > 0 && origin.substring(scheme + 3).equalsIgnoreCase(host);
  }

  private Mono<Void> refuse(Request request, ApiResponse response, String origin) {
    String detail = "origin " + origin + " is not allowed to call this server; "
        + (origins.isEmpty() ? "no origin is allowed; " : "allowed: " + String.join(", ", origins) + "; ")
        + "allow it with --cors-allow-origin (FluxgraphServer.Builder.corsAllowOrigins)";
    try {
      byte[] body = FluxgraphJson.mapper().writeValueAsBytes(Map.of("detail", detail));
      return request.discard().then(response.status(403).header("Content-Type", "application/json").send(body));
    } catch (JsonProcessingException e) {
      return request.discard().then(response.status(403).send(detail.getBytes(StandardCharsets.UTF_8)));
    }
  }
}
