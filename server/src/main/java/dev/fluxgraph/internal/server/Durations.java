package dev.fluxgraph.internal.server;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as the command line writes them: a whole number and a unit, {@code 500ms}, {@code 5s}, {@code 2m}. */
public final class Durations {

  private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h)");

  private Durations() {
  }

  /** @throws IllegalArgumentException naming the text and the expected form when it is not such a duration */
  public static Duration parse(String text) {
    Matcher matcher = DURATION.matcher(text.strip());
    if (!matcher.matches()) {
      throw new IllegalArgumentException("'" + text + "' is not a duration; write a whole number and a unit (ms, s,"
          + " m or h), like 500ms, 5s or 2m");
    }
    long amount = Long.parseLong(matcher.group(1));
    return switch (matcher.group(2)) {
      case "ms" -> Duration.ofMillis(amount);
      case "s" -> Duration.ofSeconds(amount);
      case "m" -> Duration.ofMinutes(amount);
      default -> Duration.ofHours(amount);
    };
  }

  /**
   * {@code period} give or take a quarter, at random: what processes sharing a database wait between periodic passes,
   * so that they do not run them in step.
   */
  public static Duration jittered(Duration period) {
    long millis = period.toMillis();
    return Duration.ofMillis(millis * 3 / 4 + ThreadLocalRandom.current().nextLong(millis / 2 + 1));
  }

  /** The duration written back in the largest unit that keeps it whole ({@code 1500ms}, {@code 30s}, {@code 2m}). */
  public static String format(Duration duration) {
    long millis = duration.toMillis();
    if (millis % 3_600_000 == 0 && millis > 0) {
      return millis / 3_600_000 + "h";
    }
    if (millis % 60_000 == 0 && millis > 0) {
      return millis / 60_000 + "m";
    }
    return millis % 1000 == 0 && millis > 0 ? millis / 1000 + "s" : millis + "ms";
  }
}
