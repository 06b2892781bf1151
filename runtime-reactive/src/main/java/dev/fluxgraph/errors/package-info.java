/** Exceptions raised by the runtime; all extend {@link dev.fluxgraph.errors.FluxgraphException}. */
@NullMarked
package dev.fluxgraph.errors;

import org.jspecify.annotations.NullMarked;
