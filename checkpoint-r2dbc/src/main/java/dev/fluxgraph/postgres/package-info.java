/** PostgreSQL persistence over R2DBC (work in progress). */
@NullMarked
package dev.fluxgraph.postgres;

import org.jspecify.annotations.NullMarked;
