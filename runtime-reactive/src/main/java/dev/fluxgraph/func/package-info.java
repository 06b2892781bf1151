/** Defining and running workflows: tasks, entrypoints and the context they run in. */
@NullMarked
package dev.fluxgraph.func;

import org.jspecify.annotations.NullMarked;
