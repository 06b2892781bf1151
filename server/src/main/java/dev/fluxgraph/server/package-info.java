/** The HTTP server speaking the LangGraph Server API (work in progress: see the README's feature table). */
@NullMarked
package dev.fluxgraph.server;

import org.jspecify.annotations.NullMarked;
