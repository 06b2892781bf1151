package dev.fluxgraph.internal.server;

/** A request the server refuses: answered with {@code status} and {@code {"detail": message}}. */
public final class HttpProblem extends RuntimeException {

  private final int status;

  public HttpProblem(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  public int status() {
    return status;
  }

  public static HttpProblem notFound(String what) {
    return new HttpProblem(404, what + " not found");
  }

  public static HttpProblem invalid(String message) {
    return new HttpProblem(422, message);
  }
}
