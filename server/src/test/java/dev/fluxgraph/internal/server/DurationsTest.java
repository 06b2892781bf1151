package dev.fluxgraph.internal.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

  @Test
  void parsesAWholeNumberAndAUnit() {
    assertEquals(Duration.ofMillis(500), Durations.parse("500ms"));
    assertEquals(Duration.ofSeconds(5), Durations.parse("5s"));
    assertEquals(Duration.ofMinutes(2), Durations.parse("2m"));
    assertEquals(Duration.ofHours(1), Durations.parse("1h"));
    assertEquals(Duration.ZERO, Durations.parse("0s"));
    assertEquals(Duration.ofSeconds(30), Durations.parse(" 30s "));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "5", "s", "5x", "1.5s", "-1s", "5 s", "5S", "PT5S", "5sec", "1234567890s"})
  void refusesAnythingElseNamingTheTextAndTheForm(String text) {
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
    assertEquals("'" + text + "' is not a duration; write a whole number and a unit (ms, s, m or h), like 500ms, 5s"
        + " or 2m", refused.getMessage());
  }

  @Test
  void formatsInTheLargestWholeUnit() {
    assertEquals("1500ms", Durations.format(Duration.ofMillis(1500)));
    assertEquals("30s", Durations.format(Duration.ofSeconds(30)));
    assertEquals("2m", Durations.format(Duration.ofMinutes(2)));
    assertEquals("1h", Durations.format(Duration.ofMinutes(60)));
    assertEquals("0ms", Durations.format(Duration.ZERO));
  }
}
