/** The HTTP server speaking the LangGraph Server API, for the official JS client (see the README's feature table). */
@NullMarked
package dev.fluxgraph.server;

import org.jspecify.annotations.NullMarked;
