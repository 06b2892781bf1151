package dev.fluxgraph.spring.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.CompiledGraph;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.postgres.PostgresStore;
import dev.fluxgraph.server.FluxgraphApi;
import dev.fluxgraph.server.FluxgraphServer;
import dev.fluxgraph.server.GraphProvider;
import dev.fluxgraph.store.InMemoryStore;
import dev.fluxgraph.store.Store;
import dev.fluxgraph.types.Durability;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.autoconfigure.contributor.HealthContributorAutoConfiguration;
import org.springframework.boot.health.contributor.ReactiveHealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import reactor.core.publisher.Mono;

/** Each condition of the auto-configuration, in a context of its own. */
class FluxgraphAutoConfigurationTest {

  private static final AutoConfigurations FLUXGRAPH = AutoConfigurations.of(FluxgraphAutoConfiguration.class,
      FluxgraphWebFluxAutoConfiguration.class, FluxgraphHealthAutoConfiguration.class,
      FluxgraphInfoAutoConfiguration.class);

  private final ApplicationContextRunner contexts = new ApplicationContextRunner().withConfiguration(FLUXGRAPH);
  private final ReactiveWebApplicationContextRunner webContexts = new ReactiveWebApplicationContextRunner()
      .withConfiguration(FLUXGRAPH);

  @Test
  void withoutAConnectionFactoryEverythingIsInMemory() {
    contexts.withUserConfiguration(OneGraph.class).run(context -> {
      assertThat(context).hasNotFailed();
      assertThat(context.getBean(CheckpointSaver.class)).isInstanceOf(InMemorySaver.class);
      assertThat(context.getBean(Store.class)).isInstanceOf(InMemoryStore.class);
      FluxgraphApi api = context.getBean(FluxgraphApi.class);
      assertThat(api.graphIds()).containsExactly("essay");
      assertThat(api.sharesDatabase()).isFalse();
      assertThat(context.getBean(FluxgraphLifecycle.class).isRunning()).isTrue();
    });
  }

  @Test
  void withAPostgresConnectionFactoryCheckpointsAndStoreAreInPostgres() {
    // no graph: nothing starts, so the factory (to nowhere) is never connected
    contexts.withUserConfiguration(PostgresFactory.class).run(context -> {
      assertThat(context).hasNotFailed();
      PostgresSaver saver = context.getBean(PostgresSaver.class);
      assertThat(saver.connectionFactory()).isSameAs(context.getBean(ConnectionFactory.class));
      assertThat(context.getBean(Store.class)).isInstanceOf(PostgresStore.class);
      assertThat(context).doesNotHaveBean(FluxgraphApi.class);
    });
  }

  @Test
  void springR2dbcUrlAloneIsEnoughWithoutBootsR2dbcStarter() {
    contexts.withPropertyValues("spring.r2dbc.url=r2dbc:postgresql://localhost:1/app", "spring.r2dbc.username=app",
        "spring.r2dbc.password=secret").run(context -> {
          assertThat(context).hasSingleBean(ConnectionFactory.class);
          ConnectionFactory made = context.getBean(ConnectionFactory.class);
          assertThat(made).isInstanceOf(io.r2dbc.pool.ConnectionPool.class);
          assertThat(made.getMetadata().getName()).isEqualTo("PostgreSQL");
          assertThat(context.getBean(PostgresSaver.class).connectionFactory()).isSameAs(made);
          assertThat(context.getBean(Store.class)).isInstanceOf(PostgresStore.class);
        });
    contexts.withUserConfiguration(PostgresFactory.class).withPropertyValues("spring.r2dbc.url=r2dbc:postgresql://x/y")
        .run(context -> assertThat(context).doesNotHaveBean("fluxgraphConnectionFactory"));
  }

  @Test
  void persistenceMemoryLeavesTheConnectionFactoryAlone() {
    contexts.withUserConfiguration(PostgresFactory.class).withPropertyValues("fluxgraph.persistence=memory")
        .run(context -> {
          assertThat(context.getBean(CheckpointSaver.class)).isInstanceOf(InMemorySaver.class);
          assertThat(context.getBean(Store.class)).isInstanceOf(InMemoryStore.class);
        });
  }

  @Test
  void persistencePostgresWithoutAConnectionFactoryFailsNamingTheFix() {
    contexts.withPropertyValues("fluxgraph.persistence=postgres").run(context -> {
      assertThat(context).hasFailed();
      assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("fluxgraph.persistence=postgres")
          .hasMessageContaining("spring.r2dbc.url");
    });
  }

  @Test
  void theApplicationsOwnBeansWin() {
    contexts.withUserConfiguration(OneGraph.class, OwnPersistence.class).run(context -> {
      assertThat(context.getBean(CheckpointSaver.class)).isSameAs(OwnPersistence.SAVER);
      assertThat(context.getBean(Store.class)).isSameAs(OwnPersistence.STORE);
      assertThat(context).hasSingleBean(CheckpointSaver.class).hasSingleBean(Store.class);
    });
    contexts.withUserConfiguration(OneGraph.class, OwnApi.class).run(context -> {
      assertThat(context.getBean(FluxgraphApi.class).graphIds()).containsExactly("own");
    });
  }

  @Test
  void everyGraphBeanIsServedUnderItsNameAndProvidersUnderTheirIds() {
    contexts.withUserConfiguration(OneGraph.class, GraphBeans.class).run(context -> {
      assertThat(context.getBean(FluxgraphApi.class).graphIds())
          .containsExactlyInAnyOrder("essay", "review", "provided_id");
      // the bean itself is left as the application built it
      Entrypoint<?, ?> essay = context.getBean("essay", Entrypoint.class);
      assertThat(essay.checkpointer().isPresent()).isFalse();
    });
  }

  @Test
  void twoGraphsOfOneNameAreRefused() {
    contexts.withUserConfiguration(OneGraph.class, SameName.class).run(context -> {
      assertThat(context).hasFailed();
      assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("'essay'")
          .hasMessageContaining("another name");
    });
  }

  @Test
  void withoutGraphsThereIsNoApi() {
    webContexts.run(context -> {
      assertThat(context).hasNotFailed().hasSingleBean(CheckpointSaver.class).doesNotHaveBean(FluxgraphApi.class)
          .doesNotHaveBean("fluxgraphRoutes");
    });
  }

  @Test
  void theRoutesAreServedInAReactiveWebAppUnlessSwitchedOff() {
    webContexts.withUserConfiguration(OneGraph.class).run(context -> assertThat(context).hasBean("fluxgraphRoutes"));
    webContexts.withUserConfiguration(OneGraph.class).withPropertyValues("fluxgraph.server.enabled=false")
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean("fluxgraphRoutes")
            .hasSingleBean(FluxgraphApi.class));
    contexts.withUserConfiguration(OneGraph.class).run(context -> assertThat(context).doesNotHaveBean("fluxgraphRoutes"));
  }

  @Test
  void propertiesBindWithTheirDefaults() {
    contexts.run(context -> {
      FluxgraphProperties properties = context.getBean(FluxgraphProperties.class);
      assertThat(properties.persistence()).isEqualTo(FluxgraphProperties.Persistence.AUTO);
      assertThat(properties.setupSchema()).isTrue();
      assertThat(properties.durability()).isNull();
      assertThat(properties.server().enabled()).isTrue();
      assertThat(properties.server().basePath()).isEqualTo("/fluxgraph");
      assertThat(properties.server().cors().allowedOrigins()).isEmpty();
      assertThat(properties.workers().leaseTtl()).isEqualTo(Duration.ofSeconds(30));
      assertThat(properties.workers().maxAttempts()).isEqualTo(3);
      assertThat(properties.retention().events()).isEqualTo(Duration.ofHours(1));
      assertThat(properties.retention().checkpoints().keepLatest()).isNull();
      assertThat(properties.retention().checkpoints().olderThan()).isNull();
    });
    contexts.withPropertyValues("fluxgraph.persistence=memory", "fluxgraph.persistence.setup-schema=false",
        "fluxgraph.durability=sync", "fluxgraph.server.base-path=/agents",
        "fluxgraph.server.cors.allowed-origins=http://localhost:3000", "fluxgraph.workers.lease-ttl=12s",
        "fluxgraph.workers.heartbeat-interval=2s", "fluxgraph.workers.id-prefix=app",
        "fluxgraph.retention.events=10m", "fluxgraph.retention.checkpoints.keep-latest=5").run(context -> {
          FluxgraphProperties properties = context.getBean(FluxgraphProperties.class);
          assertThat(properties.persistence()).isEqualTo(FluxgraphProperties.Persistence.MEMORY);
          assertThat(properties.setupSchema()).isFalse();
          assertThat(properties.durability()).isEqualTo(Durability.SYNC);
          assertThat(properties.server().basePath()).isEqualTo("/agents");
          assertThat(properties.server().cors().allowedOrigins()).containsExactly("http://localhost:3000");
          assertThat(properties.workers().leaseTtl()).isEqualTo(Duration.ofSeconds(12));
          assertThat(properties.workers().heartbeatInterval()).isEqualTo(Duration.ofSeconds(2));
          assertThat(properties.workers().idPrefix()).isEqualTo("app");
          assertThat(properties.retention().events()).isEqualTo(Duration.ofMinutes(10));
          assertThat(properties.retention().checkpoints().keepLatest()).isEqualTo(5);
          assertThat(properties.retention().checkpoints().interval()).isEqualTo(Duration.ofHours(1));
        });
  }

  @Test
  void badSettingsFailNamingTheProperty() {
    contexts.withPropertyValues("fluxgraph.server.base-path=fluxgraph/").run(context ->
        assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("fluxgraph.server.base-path"));
    contexts.withPropertyValues("fluxgraph.retention.checkpoints.keep-latest=2",
        "fluxgraph.retention.checkpoints.older-than=1d").run(context ->
        assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("not both"));
    contexts.withUserConfiguration(OneGraph.class).withPropertyValues("fluxgraph.workers.lease-ttl=6s",
        "fluxgraph.workers.heartbeat-interval=5s").run(context ->
        assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("a third of the lease TTL"));
  }

  @Test
  void theHealthIndicatorIsNamedFluxgraph() {
    contexts.withConfiguration(AutoConfigurations.of(HealthContributorAutoConfiguration.class))
        .withUserConfiguration(OneGraph.class).run(context -> {
          ReactiveHealthIndicator indicator = context.getBean("fluxgraphHealthIndicator",
              ReactiveHealthIndicator.class);
          var health = indicator.health().block(Duration.ofSeconds(5));
          assertThat(health.getStatus()).isEqualTo(Status.UP);
          assertThat(health.getDetails()).containsEntry("persistence", "memory").containsEntry("graphs", 1);
        });
    contexts.withUserConfiguration(OneGraph.class).withPropertyValues("management.health.fluxgraph.enabled=false")
        .run(context -> assertThat(context).doesNotHaveBean("fluxgraphHealthIndicator"));
  }

  @Configuration(proxyBeanMethods = false)
  static class OneGraph {
    @Bean
    Entrypoint<String, String> essay() {
      return Entrypoint.named("essay").define(String.class, String.class, (topic, context) -> Mono.just(topic));
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class GraphBeans {
    @Bean
    CompiledGraph<Map<String, Object>> review() {
      return StateGraph.ofMap().addNode("read", (state, context) -> Mono.just(Map.of("read", true)))
          .setEntryPoint("read").compile(CompileOptions.defaults().withName("review"));
    }

    @Bean
    GraphProvider provided() {
      return (checkpointer, store) -> Map.of("provided_id", Entrypoint.named("inner").checkpointer(checkpointer)
          .define(String.class, String.class, (in, context) -> Mono.just(in)));
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class SameName {
    @Bean
    Entrypoint<String, String> anotherEssay() {
      return Entrypoint.named("essay").define(String.class, String.class, (topic, context) -> Mono.just(topic));
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class PostgresFactory {
    @Bean
    ConnectionFactory connectionFactory() {
      return ConnectionFactories.get("r2dbc:postgresql://nobody@127.0.0.1:1/nowhere");
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnPersistence {
    static final CheckpointSaver SAVER = new InMemorySaver();
    static final Store STORE = new InMemoryStore();

    @Bean
    CheckpointSaver mySaver() {
      return SAVER;
    }

    @Bean
    Store myStore() {
      return STORE;
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnApi {
    @Bean
    FluxgraphApi myApi() {
      return FluxgraphServer.builder().discoverGraphs(false).graph("own", Entrypoint.named("own")
          .define(String.class, String.class, (in, context) -> Mono.just(in))).buildApi();
    }
  }

}
