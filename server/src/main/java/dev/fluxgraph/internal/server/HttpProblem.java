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

  /**
   * A run refused on a busy thread ({@code multitask_strategy: reject}): 409, as the Agent Server OpenAPI document
   * gives, with the reference server's sentence and which run holds the thread.
   */
  public static HttpProblem busy(String threadId, String runId) {
    return new HttpProblem(409, "Thread is already running a task. Wait for it to finish or choose a different "
        + "multitask strategy. (thread " + threadId + " is busy with run " + runId + ", multitask_strategy reject)");
  }
}
