package dev.fluxgraph.internal.server.runs;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A cron's schedule, in UTC, parsed and stepped by cron-utils: five fields (minute, hour, day of month, month, day of
 * week, as crontab reads them), or six, the sixth the second (as croniter, which the reference server uses, reads
 * them). Immutable.
 */
public final class CronSchedule {

  private static final CronParser UNIX = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
  /** Seconds first, then crontab's five fields with their meaning (day of week 0-7, Sunday 0 or 7). */
  private static final CronParser WITH_SECONDS =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.SPRING));

  private final String expression;
  private final ExecutionTime times;

  private CronSchedule(String expression, ExecutionTime times) {
    this.expression = expression;
    this.times = times;
  }

  /** @throws IllegalArgumentException naming the problem when {@code expression} is not a cron expression */
  public static CronSchedule parse(String expression) {
    Objects.requireNonNull(expression, "expression must not be null");
    String[] fields = expression.trim().split("\\s+");
    try {
      if (fields.length == 5) {
        return new CronSchedule(expression, ExecutionTime.forCron(UNIX.parse(String.join(" ", fields))));
      }
      if (fields.length == 6) {
        String secondsFirst = fields[5] + " " + String.join(" ", Arrays.copyOf(fields, 5));
        return new CronSchedule(expression, ExecutionTime.forCron(WITH_SECONDS.parse(secondsFirst)));
      }
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("schedule '" + expression + "' is not a valid cron expression: "
          + e.getMessage(), e);
    }
    throw new IllegalArgumentException("schedule '" + expression + "' must have 5 fields (minute hour day-of-month "
        + "month day-of-week) or 6 (the sixth the second), has " + fields.length);
  }

  /** The first time after {@code after} the schedule names, or null when there is none. */
  public @Nullable Instant nextAfter(Instant after) {
    return times.nextExecution(ZonedDateTime.ofInstant(after, ZoneOffset.UTC)).map(ZonedDateTime::toInstant)
        .orElse(null);
  }

  /** The first time after {@code after} the schedule names, null when none is before {@code end} (if given). */
  public @Nullable Instant nextAfter(Instant after, @Nullable Instant end) {
    Instant next = nextAfter(after);
    return next == null || end != null && next.isAfter(end) ? null : next;
  }

  @Override
  public String toString() {
    return expression;
  }
}
