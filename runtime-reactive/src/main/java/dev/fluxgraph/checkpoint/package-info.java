/** The checkpoint persistence SPI and its in-memory implementation. */
@NullMarked
package dev.fluxgraph.checkpoint;

import org.jspecify.annotations.NullMarked;
