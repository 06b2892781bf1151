/** The long-term memory store SPI and its in-memory implementation. */
@NullMarked
package dev.fluxgraph.store;

import org.jspecify.annotations.NullMarked;
