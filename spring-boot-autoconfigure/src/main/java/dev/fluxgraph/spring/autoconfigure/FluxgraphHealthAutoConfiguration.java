package dev.fluxgraph.spring.autoconfigure;

import dev.fluxgraph.server.FluxgraphApi;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.ReactiveHealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * The actuator's {@code fluxgraph} health component: up while the API is started and, in PostgreSQL, the database
 * answers and this process's worker holds its lease; details {@code database}, {@code workerId}, {@code leaseHeld},
 * {@code queueDepth} (runs waiting to be claimed), {@code persistence}, {@code graphs}. Off with
 * {@code management.health.fluxgraph.enabled=false}.
 */
@AutoConfiguration(after = FluxgraphAutoConfiguration.class)
@ConditionalOnClass(ReactiveHealthIndicator.class)
@ConditionalOnBean(FluxgraphApi.class)
@ConditionalOnEnabledHealthIndicator("fluxgraph")
public final class FluxgraphHealthAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean(name = "fluxgraphHealthIndicator")
  ReactiveHealthIndicator fluxgraphHealthIndicator(FluxgraphApi api) {
    return () -> api.health().map(health -> (health.up() ? Health.up() : Health.down())
        .withDetails(health.details()).build());
  }
}
