/**
 * The HTTP routes of the LangGraph Server API, one class per resource (assistants, threads, thread state, runs, meta),
 * and the request and response plumbing they share once: authentication, JSON bodies, field checks, {@code {"detail"}}
 * answers, CORS. Internal (see {@code dev.fluxgraph.internal.server}).
 */
@NullMarked
package dev.fluxgraph.internal.server.api;

import org.jspecify.annotations.NullMarked;

