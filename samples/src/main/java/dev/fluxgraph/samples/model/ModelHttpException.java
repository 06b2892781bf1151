package dev.fluxgraph.samples.model;

/** The model endpoint answered with an error status; 5xx is retried by {@code RetryPolicy.DEFAULT_RETRY_ON}. */
public class ModelHttpException extends RuntimeException {

  private final int status;

  public ModelHttpException(int status, String body) {
    super("the model endpoint answered HTTP " + status + ": " + (body.length() > 300 ? body.substring(0, 300) : body));
    this.status = status;
  }

  /** The HTTP status. */
  public int statusCode() {
    return status;
  }
}
