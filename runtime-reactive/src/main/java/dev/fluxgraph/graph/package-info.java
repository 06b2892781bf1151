/**
 * The Graph API: {@link dev.fluxgraph.graph.StateGraph} builds a graph of nodes over a shared state, compiled into a
 * {@link dev.fluxgraph.graph.CompiledGraph} that runs on the same engine as entrypoints.
 */
@NullMarked
package dev.fluxgraph.graph;

import org.jspecify.annotations.NullMarked;
