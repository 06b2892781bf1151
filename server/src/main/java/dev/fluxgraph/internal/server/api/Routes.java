package dev.fluxgraph.internal.server.api;

import dev.fluxgraph.server.ApiRequest;
import dev.fluxgraph.server.ApiResponse;
import java.util.ArrayList;
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

  private static final Pattern VARIABLE = Pattern.compile("\\{([^/]+?)}");

  /** A template route, or one of its own rule ({@code predicate}). */
  private record Route(String method, Pattern template, List<String> variables, @Nullable Predicate<Request> predicate,
                       Handler handler) {
  }

  private final List<Route> routes = new ArrayList<>();

  Routes get(String template, Handler handler) {
    return add("GET", template, handler);
  }

  Routes post(String template, Handler handler) {
    return add("POST", template, handler);
  }

  Routes delete(String template, Handler handler) {
    return add("DELETE", template, handler);
  }

  Routes put(String template, Handler handler) {
    return add("PUT", template, handler);
  }

  Routes patch(String template, Handler handler) {
    return add("PATCH", template, handler);
  }

  /** A route of its own matching rule, with no path variables. */
  Routes route(Predicate<Request> predicate, Handler handler) {
    routes.add(new Route("", Pattern.compile(""), List.of(), predicate, handler));
    return this;
  }

  private Routes add(String method, String template, Handler handler) {
    List<String> variables = new ArrayList<>();
    Matcher names = VARIABLE.matcher(template);
    StringBuilder regex = new StringBuilder("^");
    int last = 0;
    while (names.find()) {
      regex.append(Pattern.quote(template.substring(last, names.start()))).append("([^/]*)");
      variables.add(names.group(1));
      last = names.end();
    }
    regex.append(Pattern.quote(template.substring(last))).append('$');
    routes.add(new Route(method, Pattern.compile(regex.toString()), List.copyOf(variables), null, handler));
    return this;
  }

  /** Answers the request with the first route that matches it. @throws IllegalStateException when none does */
  Mono<Void> handle(ApiRequest request, ApiResponse response) {
    String path = pathOf(request.uri());
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
      Matcher matcher = route.template.matcher(path);
      if (matcher.matches()) {
        Map<String, String> params = new LinkedHashMap<>();
        for (int i = 0; i < route.variables.size(); i++) {
          params.put(route.variables.get(i), matcher.group(i + 1));
        }
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
