/** The server's start-up plumbing that other libraries reach by name (Logback's configurator). Not public API. */
@NullMarked
package dev.fluxgraph.internal.server;

import org.jspecify.annotations.NullMarked;
