/**
 * Server-sent events: framing one event, heartbeats, and an event-stream answer. Internal (see {@code
 * dev.fluxgraph.internal.server}).
 */
@NullMarked
package dev.fluxgraph.internal.server.sse;

import org.jspecify.annotations.NullMarked;

