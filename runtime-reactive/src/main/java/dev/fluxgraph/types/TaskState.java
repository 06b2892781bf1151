package dev.fluxgraph.types;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A task recorded in a checkpoint.
 *
 * @param id         the task call id
 * @param name       the task (or entrypoint) name
 * @param error      the error message if its last attempt failed
 * @param interrupts interrupts the task raised
 * @param result     the saved result as JSON data, or null
 */
public record TaskState(String id, String name, @Nullable String error, List<Interrupt> interrupts,
                        @Nullable Object result) {
  public TaskState {
    Objects.requireNonNull(id, "id must not be null");
    Objects.requireNonNull(name, "name must not be null");
    interrupts = List.copyOf(interrupts);
  }
}
