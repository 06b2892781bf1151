/**
 * The run lifecycle: registering a run on its thread (multitask strategies), executing it, publishing its events,
 * finishing, cancelling and joining it. A run's status changes only through {@link
 * RunStatus#canBecome}, in {@code Run.transition}. Internal (see {@code
 * dev.fluxgraph.internal.server}).
 */
@NullMarked
package dev.fluxgraph.internal.server.runs;

import org.jspecify.annotations.NullMarked;

