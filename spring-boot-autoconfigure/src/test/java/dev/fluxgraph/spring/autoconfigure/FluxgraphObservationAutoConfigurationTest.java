package dev.fluxgraph.spring.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.CompiledGraph;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.instrument.Instrumentation;
import dev.fluxgraph.instrument.RunObserver;
import dev.fluxgraph.micrometer.MicrometerInstrumentation;
import dev.fluxgraph.types.RunConfig;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistryAssert;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import reactor.core.publisher.Mono;

/** The observation wiring's conditions: an ObservationRegistry bean or not, the application's own hooks. */
class FluxgraphObservationAutoConfigurationTest {

  private final ApplicationContextRunner contexts = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(FluxgraphObservationAutoConfiguration.class))
      .withUserConfiguration(Graphs.class);

  @Test
  void withAnObservationRegistryEveryGraphBeanIsObserved() {
    contexts.withUserConfiguration(Observations.class).run(context -> {
      assertThat(context).hasNotFailed();
      Instrumentation hook = context.getBean(Instrumentation.class);
      assertThat(hook).isInstanceOf(MicrometerInstrumentation.class);
      @SuppressWarnings("unchecked")
      Entrypoint<String, String> essay = context.getBean("essay", Entrypoint.class);
      assertThat(essay.instrumentation()).isSameAs(hook);
      assertThat(context.getBean("chain", CompiledGraph.class).instrumentation()).isSameAs(hook);
      assertThat(context.getBean("own", Entrypoint.class).instrumentation()).isSameAs(Graphs.OWN);

      assertThat(essay.invoke("x", RunConfig.none()).block(Duration.ofSeconds(10))).isEqualTo("x!");
      TestObservationRegistryAssert.assertThat(context.getBean(TestObservationRegistry.class))
          .hasObservationWithNameEqualTo("fluxgraph.run").that().hasBeenStopped()
          .hasLowCardinalityKeyValue("entrypoint", "essay").hasLowCardinalityKeyValue("outcome", "completed");
    });
  }

  @Test
  void withoutAnObservationRegistryNothingIsInstalled() {
    contexts.run(context -> {
      assertThat(context).hasNotFailed();
      assertThat(context).doesNotHaveBean(Instrumentation.class);
      assertThat(context.getBean("essay", Entrypoint.class).instrumentation()).isSameAs(Instrumentation.none());
      assertThat(context.getBean("chain", CompiledGraph.class).instrumentation()).isSameAs(Instrumentation.none());
    });
  }

  @Test
  void theApplicationsOwnInstrumentationBeanWins() {
    contexts.withUserConfiguration(Observations.class, OwnHook.class).run(context -> {
      assertThat(context).hasNotFailed();
      assertThat(context.getBean(Instrumentation.class)).isSameAs(OwnHook.HOOK);
      assertThat(context.getBean("essay", Entrypoint.class).instrumentation()).isSameAs(OwnHook.HOOK);
    });
  }

  @Configuration(proxyBeanMethods = false)
  static class Graphs {
    static final Instrumentation OWN = (workflow, config, context) -> RunObserver.NOOP;

    @Bean
    Entrypoint<String, String> essay() {
      return Entrypoint.named("essay").define(String.class, String.class, (s, context) -> Mono.just(s + "!"));
    }

    @Bean
    Entrypoint<String, String> own() {
      return Entrypoint.named("own").instrumentation(OWN)
          .define(String.class, String.class, (s, context) -> Mono.just(s));
    }

    @Bean
    CompiledGraph<Map<String, Object>> chain() {
      return StateGraph.ofMap().addNode("a", (state, context) -> Mono.just(Map.of("n", 1)))
          .addEdge(StateGraph.START, "a").compile(CompileOptions.defaults().withName("chain"));
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class Observations {
    @Bean
    TestObservationRegistry observationRegistry() {
      return TestObservationRegistry.create();
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnHook {
    static final Instrumentation HOOK = (workflow, config, context) -> RunObserver.NOOP;

    @Bean
    Instrumentation instrumentation(ObservationRegistry unused) {
      return HOOK;
    }
  }
}
