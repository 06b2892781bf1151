/** The task result cache SPI and its in-memory implementation. */
@NullMarked
package dev.fluxgraph.cache;

import org.jspecify.annotations.NullMarked;
