/** How Fluxgraph fits a reactive Spring service: a workflow streamed as Server-Sent Events. */
@NullMarked
package dev.fluxgraph.samples.spring;

import org.jspecify.annotations.NullMarked;
