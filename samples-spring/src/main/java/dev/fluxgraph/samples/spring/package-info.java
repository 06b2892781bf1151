/** How Fluxgraph fits a reactive Spring service: a workflow bean, served by the starter. */
@NullMarked
package dev.fluxgraph.samples.spring;

import org.jspecify.annotations.NullMarked;
