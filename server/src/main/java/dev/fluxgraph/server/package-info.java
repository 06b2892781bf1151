/**
 * The HTTP server speaking the LangGraph Server API, for the official JS client (see the README's feature table).
 * Its internals are under {@code dev.fluxgraph.internal.server} (not public API).
 */
@NullMarked
package dev.fluxgraph.server;

import org.jspecify.annotations.NullMarked;
