/**
 * The instrumentation hook: what a run reports about itself (run started and ended with its outcome, tasks started,
 * ended and replayed, retries, interrupts, checkpoint writes with their latency) to an {@link
 * dev.fluxgraph.instrument.Instrumentation} installed on an entrypoint or graph. Without one the engine reports to
 * {@link dev.fluxgraph.instrument.Instrumentation#none()}, which costs nothing measurable. The
 * {@code fluxgraph-micrometer} module turns these reports into Micrometer observations and meters.
 */
@NullMarked
package dev.fluxgraph.instrument;

import org.jspecify.annotations.NullMarked;
