/** The HTTP server speaking the LangGraph Server API (work in progress). */
@NullMarked
package dev.fluxgraph.server;

import org.jspecify.annotations.NullMarked;
