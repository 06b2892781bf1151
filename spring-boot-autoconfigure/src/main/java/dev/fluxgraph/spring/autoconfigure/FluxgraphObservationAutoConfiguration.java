package dev.fluxgraph.spring.autoconfigure;

import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.graph.CompiledGraph;
import dev.fluxgraph.instrument.Instrumentation;
import dev.fluxgraph.micrometer.MicrometerInstrumentation;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Observations and meters for every graph when the application has Micrometer (an {@link ObservationRegistry}
 * bean, which Spring Boot's actuator provides): an {@link Instrumentation} bean, {@link MicrometerInstrumentation}
 * on the context's observation registry and meter registry unless the application defines its own, installed on
 * every {@link Entrypoint} and {@link CompiledGraph} bean that has none of its own, so that runs of the bean
 * itself and runs through the API are both observed.
 */
@AutoConfiguration(before = FluxgraphAutoConfiguration.class, afterName = {
    "org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration",
    "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration"})
@ConditionalOnClass({MicrometerInstrumentation.class, ObservationRegistry.class})
public final class FluxgraphObservationAutoConfiguration {

  @Bean
  @ConditionalOnBean(ObservationRegistry.class)
  @ConditionalOnMissingBean(Instrumentation.class)
  MicrometerInstrumentation fluxgraphInstrumentation(ObservationRegistry observations,
                                                     ObjectProvider<MeterRegistry> meters) {
    MeterRegistry registry = meters.getIfUnique();
    return registry == null ? MicrometerInstrumentation.of(observations)
        : MicrometerInstrumentation.of(observations, registry);
  }

  /** Installs the context's instrumentation on graph beans without one (static: a post-processor starts early). */
  @Bean
  static BeanPostProcessor fluxgraphInstrumentationInstaller(ObjectProvider<Instrumentation> instrumentation) {
    return new BeanPostProcessor() {
      @Override
      public Object postProcessAfterInitialization(Object bean, String beanName) {
        if (bean instanceof Entrypoint<?, ?> entrypoint && entrypoint.instrumentation() == Instrumentation.none()) {
          Instrumentation hook = instrumentation.getIfUnique();
          return hook == null ? bean : entrypoint.withInstrumentation(hook);
        }
        if (bean instanceof CompiledGraph<?> graph && graph.instrumentation() == Instrumentation.none()) {
          Instrumentation hook = instrumentation.getIfUnique();
          return hook == null ? bean : graph.withInstrumentation(hook);
        }
        return bean;
      }
    };
  }
}
