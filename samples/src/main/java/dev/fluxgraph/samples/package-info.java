/** Runnable counterparts of the reference documents' examples (work in progress). */
@NullMarked
package dev.fluxgraph.samples;

import org.jspecify.annotations.NullMarked;
