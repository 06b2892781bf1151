package dev.fluxgraph.internal.server.api;

import dev.fluxgraph.server.ApiRequest;
import dev.fluxgraph.server.ApiResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The API's routing, the same in every host: routes are tried in the order registered and the first that matches
 * answers. A template matches the whole path (the query left out, nothing decoded), each {@code {name}} one segment,
 * possibly empty, bound as a path variable: the rules of reactor-netty's routes, which the API was first served by.
 */
final class Routes {

  /** What answers a request. */
  @FunctionalInterface
  interface Handler {
    Mono<Void> handle(Request request, ApiResponse response);
  }

  private static final Pattern VARIABLE = Pattern.compile("\\{([^/{}]+)}");

  /**
   * What {@code GET /openapi.json} says of a route, declared with it ({@link OpenApi} renders every template route;
   * a route without one is described from its method and template alone).
   *
   * @param tag      the resource group (the reference's tags: Assistants, Threads, Thread Runs, ...)
   * @param query    the query parameters: name to JSON Schema
   * @param headers  the request headers it reads: name to JSON Schema
   * @param body     the request body's JSON Schema, or null for none
   * @param answer   the 200 answer's JSON Schema, or null for one without a body (204)
   * @param media    the 200 answer's media type: {@code application/json}, or {@code text/event-stream} for SSE
   */
  record Doc(String tag, String summary, Map<String, Map<String, Object>> query,
             Map<String, Map<String, Object>> headers, @Nullable Map<String, Object> body,
             @Nullable Map<String, Object> answer, String media) {
    static final String JSON = "application/json";
    static final String EVENTS = "text/event-stream";

    static Doc of(String tag, String summary) {
      return new Doc(tag, summary, Map.of(), Map.of(), null, Map.of("type", "object"), JSON);
    }

    Doc body(Map<String, Object> schema) {
      return new Doc(tag, summary, query, headers, schema, answer, media);
    }

    Doc answer(@Nullable Map<String, Object> schema) {
      return new Doc(tag, summary, query, headers, body, schema, JSON);
    }

    /** An answer of server-sent events (their framing described in words: OpenAPI has no schema for a stream). */
    Doc events(String description) {
      return new Doc(tag, summary, query, headers, body, Map.of("type", "string", "description", description),
          EVENTS);
    }

    Doc query(String name, Map<String, Object> schema) {
      return new Doc(tag, summary, with(query, name, schema), headers, body, answer, media);
    }

    Doc header(String name, Map<String, Object> schema) {
      return new Doc(tag, summary, query, with(headers, name, schema), body, answer, media);
    }

    private static Map<String, Map<String, Object>> with(Map<String, Map<String, Object>> parameters, String name,
                                                         Map<String, Object> schema) {
      Map<String, Map<String, Object>> all = new LinkedHashMap<>(parameters);
      all.put(name, schema);
      return Collections.unmodifiableMap(all);
    }
  }

  /** A declared route as {@code GET /openapi.json} lists it. */
  record Operation(String method, String template, List<String> variables, @Nullable Doc doc) {
  }

  /**
   * A template route, its path split at {@code /} into {@code segments} (null at a variable's place), or one of its
   * own rule ({@code predicate}).
   */
  private record Route(String method, @Nullable String[] segments, List<String> variables,
                       @Nullable Predicate<Request> predicate, Handler handler) {

    /** The path variables of {@code path} (split at {@code /}), or null when this template does not match it. */
    @Nullable Map<String, String> match(String[] path) {
      if (path.length != segments.length) {
        return null;
      }
      for (int i = 0; i < path.length; i++) {
        if (segments[i] != null && !segments[i].equals(path[i])) {
          return null;
        }
      }
      Map<String, String> params = new LinkedHashMap<>();
      int variable = 0;
      for (int i = 0; i < path.length; i++) {
        if (segments[i] == null) {
          params.put(variables.get(variable++), path[i]);
        }
      }
      return params;
    }
  }

  private final List<Route> routes = new ArrayList<>();
  private final List<Operation> operations = new ArrayList<>();

  Routes get(String template, Handler handler) {
    return add("GET", template, handler, null);
  }

  Routes post(String template, Handler handler) {
    return add("POST", template, handler, null);
  }

  Routes delete(String template, Handler handler) {
    return add("DELETE", template, handler, null);
  }

  Routes get(String template, Doc doc, Handler handler) {
    return add("GET", template, handler, doc);
  }

  Routes post(String template, Doc doc, Handler handler) {
    return add("POST", template, handler, doc);
  }

  Routes patch(String template, Doc doc, Handler handler) {
    return add("PATCH", template, handler, doc);
  }

  Routes delete(String template, Doc doc, Handler handler) {
    return add("DELETE", template, handler, doc);
  }

  /** The template routes declared so far, in order: what {@code GET /openapi.json} is generated from. */
  synchronized List<Operation> operations() {
    return List.copyOf(operations);
  }

  Routes put(String template, Handler handler) {
    return add("PUT", template, handler, null);
  }

  Routes put(String template, Doc doc, Handler handler) {
    return add("PUT", template, handler, doc);
  }

  Routes patch(String template, Handler handler) {
    return add("PATCH", template, handler, null);
  }

  /** A route of its own matching rule, with no path variables. */
  Routes route(Predicate<Request> predicate, Handler handler) {
    routes.add(new Route("", new String[0], List.of(), predicate, handler));
    return this;
  }

  /**
   * A route of its own matching rule, listed in the OpenAPI document as {@code method template} (the template's
   * variables its path parameters) with {@code doc}.
   */
  synchronized Routes route(Predicate<Request> predicate, String method, String template, Doc doc,
                            Handler handler) {
    route(predicate, handler);
    List<String> variables = new ArrayList<>();
    Matcher names = VARIABLE.matcher(template);
    while (names.find()) {
      variables.add(names.group(1));
    }
    operations.add(new Operation(method, template, List.copyOf(variables), doc));
    return this;
  }

  private synchronized Routes add(String method, String template, Handler handler, @Nullable Doc doc) {
    List<String> variables = new ArrayList<>();
    String[] segments = template.split("/", -1);
    for (int i = 0; i < segments.length; i++) {
      Matcher variable = VARIABLE.matcher(segments[i]);
      if (variable.matches()) {
        variables.add(variable.group(1));
        segments[i] = null;
      } else if (segments[i].indexOf('{') >= 0) {
        throw new IllegalArgumentException("a path variable must be a whole segment: " + template);
      }
    }
    routes.add(new Route(method, segments, List.copyOf(variables), null, handler));
    operations.add(new Operation(method, template, List.copyOf(variables), doc));
    return this;
  }

  /** Answers the request with the first route that matches it. @throws IllegalStateException when none does */
  Mono<Void> handle(ApiRequest request, ApiResponse response) {
    String path = pathOf(request.uri());
    String[] segments = path.split("/", -1);
    for (Route route : routes) {
      Predicate<Request> predicate = route.predicate;
      if (predicate != null) {
        Request plain = new Request(request, Map.of());
        if (predicate.test(plain)) {
          return route.handler.handle(plain, response);
        }
        continue;
      }
      if (!route.method.equals(request.method())) {
        continue;
      }
      Map<String, String> params = route.match(segments);
      if (params != null) {
        return route.handler.handle(new Request(request, params), response);
      }
    }
    return Mono.error(new IllegalStateException("no route for " + request.method() + " " + path));
  }

  /** The path of a request's URI: without the query, and without scheme and authority if it came absolute. */
  private static String pathOf(String uri) {
    int query = uri.lastIndexOf('?');
    String path = query < 0 ? uri : uri.substring(0, query);
    if (!path.startsWith("/")) {
      int scheme = path.indexOf("://");
      int slash = scheme < 0 ? -1 : path.indexOf('/', scheme + 3);
      path = slash < 0 ? "/" : path.substring(slash);
    }
    return path;
  }
}
