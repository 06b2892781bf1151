/**
 * Micrometer observations and meters for Fluxgraph runs: {@link dev.fluxgraph.micrometer.MicrometerInstrumentation}
 * turns the runtime's instrumentation hook into {@code fluxgraph.run} and {@code fluxgraph.task} observations (spans
 * and timers named after the OpenTelemetry GenAI conventions), the {@code fluxgraph.interrupts},
 * {@code fluxgraph.replays} and {@code fluxgraph.retries} counters and the {@code fluxgraph.checkpoint.write} timer.
 */
@NullMarked
package dev.fluxgraph.micrometer;

import org.jspecify.annotations.NullMarked;
