/**
 * Spring Boot auto-configuration for Fluxgraph: a checkpointer and store on the application's R2DBC
 * {@code ConnectionFactory} (in memory without one), every {@code Entrypoint} and {@code CompiledGraph} bean served as a
 * graph, the LangGraph Server API as WebFlux routes under {@code fluxgraph.server.base-path}, and the actuator's
 * {@code fluxgraph} health and info. Configured by {@link dev.fluxgraph.spring.autoconfigure.FluxgraphProperties}.
 */
@NullMarked
package dev.fluxgraph.spring.autoconfigure;

import org.jspecify.annotations.NullMarked;
