/** The engine: run loop, task calls, scopes and the checkpoint format. Not part of the public API. */
@NullMarked
package dev.fluxgraph.internal;

import org.jspecify.annotations.NullMarked;
