/** Immutable values exchanged with the runtime: commands, configuration, policies, stream chunks and state snapshots. */
@NullMarked
package dev.fluxgraph.types;

import org.jspecify.annotations.NullMarked;
