package dev.fluxgraph.server;

/** A request the server refuses: answered with {@code status} and {@code {"detail": message}}. */
final class HttpProblem extends RuntimeException {

  private final int status;

  HttpProblem(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  int status() {
    return status;
  }

  static HttpProblem notFound(String what) {
    return new HttpProblem(404, what + " not found");
  }

  static HttpProblem invalid(String message) {
    return new HttpProblem(422, message);
  }
}
