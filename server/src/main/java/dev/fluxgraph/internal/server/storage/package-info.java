/**
 * Where the server keeps thread and run records: an interface per resource, with in-memory and PostgreSQL
 * implementations side by side. Internal (see {@code dev.fluxgraph.internal.server}).
 */
@NullMarked
package dev.fluxgraph.internal.server.storage;

import org.jspecify.annotations.NullMarked;

