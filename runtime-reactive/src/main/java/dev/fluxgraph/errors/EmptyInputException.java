package dev.fluxgraph.errors;

/** A run was asked to continue ({@code Command.proceed()} or a null input) on a thread that has nothing to continue. */
public class EmptyInputException extends FluxgraphException {

  public EmptyInputException(String message) {
    super(message);
  }
}
