/**
 * The server's internals, behind {@link FluxgraphServer}: not public API, though public across
 * its packages. The convention: everything under {@code dev.fluxgraph.internal} may change without notice. This
 * package holds what every part shares (refusals as {@link HttpProblem}, assistant ids,
 * the served graphs) and the start-up plumbing other libraries reach by name (Logback's configurator); the parts are
 * {@code api} (routes per resource, request and response plumbing), {@code runs} (the run lifecycle), {@code storage}
 * (thread and run records, in memory or in PostgreSQL) and {@code sse} (event-stream framing).
 */
@NullMarked
package dev.fluxgraph.internal.server;

import dev.fluxgraph.server.FluxgraphServer;
import org.jspecify.annotations.NullMarked;

