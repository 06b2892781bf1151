/**
 * The server's internals, behind {@link dev.fluxgraph.server.FluxgraphServer}. The convention: a package under
 * {@code dev.fluxgraph.internal} is not public API and may change without notice, though its classes may be public
 * for the server's other packages (where a class is used only in its package, it stays package-private). This package
 * holds what every part shares (refusals as {@link dev.fluxgraph.internal.server.HttpProblem}, assistant ids, the
 * served graphs) and the start-up plumbing other libraries reach by name (Logback's configurator); the parts are
 * {@code api} (routes per resource, request and response plumbing), {@code runs} (the run lifecycle),
 * {@code storage} (thread and run records, in memory or in PostgreSQL) and {@code sse} (event-stream framing).
 */
@NullMarked
package dev.fluxgraph.internal.server;

import org.jspecify.annotations.NullMarked;
