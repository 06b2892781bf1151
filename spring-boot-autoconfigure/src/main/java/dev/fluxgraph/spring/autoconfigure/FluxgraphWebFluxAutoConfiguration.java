package dev.fluxgraph.spring.autoconfigure;

import dev.fluxgraph.server.FluxgraphApi;
import java.util.List;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.web.server.WebFilter;
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

  /** With Fluxgraph's own CORS policy, the preflights go to it too (WebFlux would answer them itself). */
  @Bean
  @Conditional(OnOwnCors.class)
  @ConditionalOnMissingBean(name = "fluxgraphCorsPreflights")
  WebFilter fluxgraphCorsPreflights(FluxgraphApi api, FluxgraphProperties properties) {
    return WebFluxHost.preflights(api, properties.server().basePath());
  }

  /** {@code fluxgraph.server.cors.allowed-origins} is not empty. */
  static final class OnOwnCors extends SpringBootCondition {
    @Override
    public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
      List<String> origins = Binder.get(context.getEnvironment())
          .bind("fluxgraph.server.cors.allowed-origins", Bindable.listOf(String.class)).orElse(List.of());
      return origins.isEmpty() ? ConditionOutcome.noMatch("no fluxgraph.server.cors.allowed-origins")
          : ConditionOutcome.match("fluxgraph.server.cors.allowed-origins " + origins);
    }
  }
}
