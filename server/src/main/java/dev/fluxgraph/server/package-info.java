/**
 * The LangGraph Server API, for the official JS client (see the README's feature table): {@link
 * dev.fluxgraph.server.FluxgraphApi} (the API and its run machinery, for any host, through {@link
 * dev.fluxgraph.server.ApiRequest} and {@link dev.fluxgraph.server.ApiResponse}) and {@link
 * dev.fluxgraph.server.FluxgraphServer} (it on Reactor Netty, with the command line). Its internals are under
 * {@code dev.fluxgraph.internal.server} (not public API).
 */
@NullMarked
package dev.fluxgraph.server;

import org.jspecify.annotations.NullMarked;
