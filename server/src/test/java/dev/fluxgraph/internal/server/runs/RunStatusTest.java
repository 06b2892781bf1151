package dev.fluxgraph.internal.server.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The run status state machine: every transition it allows, and none else. */
class RunStatusTest {

  private static Set<RunStatus> next(RunStatus from) {
    Set<RunStatus> allowed = EnumSet.noneOf(RunStatus.class);
    for (RunStatus to : RunStatus.values()) {
      if (from.canBecome(to)) {
        allowed.add(to);
      }
    }
    return allowed;
  }

  @Test
  void pendingRunsThenEndsAndAFinalStatusIsFinal() {
    Set<RunStatus> ends = EnumSet.of(RunStatus.SUCCESS, RunStatus.ERROR, RunStatus.INTERRUPTED);
    Set<RunStatus> fromPending = EnumSet.copyOf(ends);
    fromPending.add(RunStatus.RUNNING);
    assertEquals(fromPending, next(RunStatus.PENDING), "pending: running, or ended (cancelled, failed to prepare)");
    assertEquals(ends, next(RunStatus.RUNNING), "running: only a final status, never back to pending");
    for (RunStatus end : ends) {
      assertEquals(Set.of(), next(end), end + " is final");
      assertTrue(end.finished(), end + " is finished");
    }
    assertFalse(RunStatus.PENDING.finished());
    assertFalse(RunStatus.RUNNING.finished());
  }

  @Test
  void statusesHaveTheProtocolsNames() {
    assertEquals(List.of("pending", "running", "success", "error", "interrupted"),
        Arrays.stream(RunStatus.values()).map(RunStatus::wire).toList());
  }
}
