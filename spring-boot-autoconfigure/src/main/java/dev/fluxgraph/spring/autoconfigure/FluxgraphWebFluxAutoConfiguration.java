package dev.fluxgraph.spring.autoconfigure;

import dev.fluxgraph.server.FluxgraphApi;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerResponse;

/**
 * The LangGraph Server API served by a reactive web application, under {@code fluxgraph.server.base-path}; off with
 * {@code fluxgraph.server.enabled=false}.
 */
@AutoConfiguration(after = FluxgraphAutoConfiguration.class)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
@ConditionalOnClass(RouterFunction.class)
@ConditionalOnBean(FluxgraphApi.class)
@ConditionalOnBooleanProperty(name = "fluxgraph.server.enabled", matchIfMissing = true)
public final class FluxgraphWebFluxAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean(name = "fluxgraphRoutes")
  RouterFunction<ServerResponse> fluxgraphRoutes(FluxgraphApi api, FluxgraphProperties properties) {
    return WebFluxHost.routes(api, properties.server().basePath());
  }
}
