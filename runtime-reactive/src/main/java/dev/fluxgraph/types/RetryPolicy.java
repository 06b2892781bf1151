package dev.fluxgraph.types;

import dev.fluxgraph.errors.FluxgraphException;
import dev.fluxgraph.errors.NodeTimeoutException;
import dev.fluxgraph.errors.SerializationException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import reactor.core.Exceptions;

/**
 * When and how often a failed task (or entrypoint body) is attempted again. Immutable and copy-on-write: every
 * {@code withX} returns a new policy.
 *
 * <p>The delay after the k-th failed attempt is {@code min(maxInterval, initialInterval * backoffFactor^(k-1))},
 * plus a random extra of up to one second when {@code jitter} is set. Interrupts are never retried.
 *
 * @param initialInterval delay before the second attempt; positive
 * @param backoffFactor   growth of the delay per attempt; at least 1
 * @param maxInterval     upper bound of the delay (before jitter); at least {@code initialInterval}
 * @param maxAttempts     attempts in total, including the first; at least 1
 * @param jitter          whether up to one second of random delay is added
 * @param retryOn         which failures are retried
 */
public record RetryPolicy(Duration initialInterval, double backoffFactor, Duration maxInterval, int maxAttempts,
                          boolean jitter, Predicate<Throwable> retryOn) {

  private static final List<Class<? extends Throwable>> PROGRAMMING_ERRORS = List.of(
      IllegalArgumentException.class, IllegalStateException.class, NullPointerException.class,
      ClassCastException.class, ArithmeticException.class, IndexOutOfBoundsException.class,
      UnsupportedOperationException.class, SerializationException.class);

  /**
   * The default predicate: retries I/O failures ({@link IOException}, {@link UncheckedIOException}), timeouts
   * ({@link TimeoutException}, {@link NodeTimeoutException}) and HTTP errors with a 5xx status (any exception
   * exposing {@code statusCode()}, {@code getStatusCode()}, {@code getRawStatusCode()} or {@code status()} as an
   * int, or as an object with an int {@code value()} or {@code code()}). It never retries programming errors
   * ({@code IllegalArgumentException}, {@code IllegalStateException}, {@code NullPointerException},
   * {@code ClassCastException}, {@code ArithmeticException}, {@code IndexOutOfBoundsException},
   * {@code UnsupportedOperationException}), {@link SerializationException}, other Fluxgraph exceptions or
   * {@link Error}s. Any other exception is retried, as in LangGraph.
   */
  public static final Predicate<Throwable> DEFAULT_RETRY_ON = RetryPolicy::defaultRetryOn;

  public RetryPolicy {
    Objects.requireNonNull(initialInterval, "initialInterval must not be null");
    Objects.requireNonNull(maxInterval, "maxInterval must not be null");
    Objects.requireNonNull(retryOn, "retryOn must not be null");
    if (initialInterval.isNegative() || initialInterval.isZero()) {
      throw new IllegalArgumentException("initialInterval must be positive, was " + initialInterval);
    }
    if (!(backoffFactor >= 1.0) || Double.isInfinite(backoffFactor)) {
      throw new IllegalArgumentException("backoffFactor must be a finite number >= 1, was " + backoffFactor);
    }
    if (maxInterval.compareTo(initialInterval) < 0) {
      throw new IllegalArgumentException("maxInterval (" + maxInterval + ") must not be below initialInterval ("
          + initialInterval + ")");
    }
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1, was " + maxAttempts);
    }
  }

  /** 500 ms initial interval, factor 2.0, at most 128 s, 3 attempts, jitter, {@link #DEFAULT_RETRY_ON}. */
  public static RetryPolicy defaults() {
    return new RetryPolicy(Duration.ofMillis(500), 2.0, Duration.ofSeconds(128), 3, true, DEFAULT_RETRY_ON);
  }

  /** {@link #defaults()} retrying exactly the given exception types (and their subclasses). */
  @SafeVarargs
  @SuppressWarnings("varargs")
  public static RetryPolicy retryOn(Class<? extends Throwable>... types) {
    Objects.requireNonNull(types, "types must not be null");
    if (types.length == 0) {
      throw new IllegalArgumentException("retryOn needs at least one exception type");
    }
    List<Class<? extends Throwable>> list = java.util.Arrays.stream(types).toList();
    return defaults().withRetryOn(error -> list.stream().anyMatch(type -> type.isInstance(error)));
  }

  public RetryPolicy withInitialInterval(Duration d) {
    return new RetryPolicy(d, backoffFactor, maxInterval.compareTo(d) < 0 ? d : maxInterval, maxAttempts, jitter,
        retryOn);
  }

  public RetryPolicy withBackoffFactor(double factor) {
    return new RetryPolicy(initialInterval, factor, maxInterval, maxAttempts, jitter, retryOn);
  }

  public RetryPolicy withMaxInterval(Duration d) {
    return new RetryPolicy(initialInterval, backoffFactor, d, maxAttempts, jitter, retryOn);
  }

  public RetryPolicy withMaxAttempts(int attempts) {
    return new RetryPolicy(initialInterval, backoffFactor, maxInterval, attempts, jitter, retryOn);
  }

  public RetryPolicy withJitter(boolean enabled) {
    return new RetryPolicy(initialInterval, backoffFactor, maxInterval, maxAttempts, enabled, retryOn);
  }

  public RetryPolicy withRetryOn(Predicate<Throwable> predicate) {
    return new RetryPolicy(initialInterval, backoffFactor, maxInterval, maxAttempts, jitter, predicate);
  }

  /** The delay (without jitter) after the given failed attempt, counting from 1. */
  public Duration backoff(int failedAttempt) {
    if (failedAttempt < 1) {
      throw new IllegalArgumentException("failedAttempt counts from 1, was " + failedAttempt);
    }
    double millis = initialInterval.toMillis() * Math.pow(backoffFactor, failedAttempt - 1);
    return millis >= maxInterval.toMillis() ? maxInterval : Duration.ofMillis((long) millis);
  }

  private static boolean defaultRetryOn(Throwable raw) {
    Throwable error = Exceptions.unwrap(raw);
    if (error instanceof Error) {
      return false;
    }
    if (error instanceof IOException || error instanceof UncheckedIOException
        || error instanceof TimeoutException || error instanceof NodeTimeoutException) {
      return true;
    }
    if (error instanceof FluxgraphException) {
      return false;
    }
    if (PROGRAMMING_ERRORS.stream().anyMatch(type -> type.isInstance(error))) {
      return false;
    }
    Integer status = httpStatus(error);
    return status == null || status >= 500;
  }

  /** The HTTP status an exception of any HTTP client library exposes, or null. */
  private static Integer httpStatus(Throwable error) {
    for (String name : List.of("statusCode", "getStatusCode", "getRawStatusCode", "status")) {
      try {
        Method method = error.getClass().getMethod(name);
        method.trySetAccessible(); // public accessor of a non-public exception class
        Object value = method.invoke(error);
        Integer status = asStatus(value);
        if (status != null) {
          return status;
        }
      } catch (ReflectiveOperationException | RuntimeException ignored) {
        // not this library's accessor; try the next name
      }
    }
    return null;
  }

  private static Integer asStatus(Object value) throws ReflectiveOperationException {
    if (value instanceof Integer status) {
      return status;
    }
    if (value == null) {
      return null;
    }
    for (String name : List.of("value", "code")) {
      try {
        Method method = value.getClass().getMethod(name);
        method.trySetAccessible();
        Object inner = method.invoke(value);
        if (inner instanceof Integer status) {
          return status;
        }
      } catch (NoSuchMethodException ignored) {
        // try the next accessor
      }
    }
    return null;
  }
}
