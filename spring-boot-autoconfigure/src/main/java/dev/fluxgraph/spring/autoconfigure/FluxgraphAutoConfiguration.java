package dev.fluxgraph.spring.autoconfigure;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.graph.CompiledGraph;
import dev.fluxgraph.postgres.PostgresSaver;
import dev.fluxgraph.postgres.PostgresStore;
import dev.fluxgraph.server.FluxgraphApi;
import dev.fluxgraph.server.FluxgraphServer;
import dev.fluxgraph.server.GraphProvider;
import dev.fluxgraph.spring.autoconfigure.FluxgraphProperties.Persistence;
import dev.fluxgraph.store.InMemoryStore;
import dev.fluxgraph.store.Store;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.postgresql.PostgresqlConnectionFactoryProvider;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryOptions;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.AnyNestedCondition;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.core.env.Environment;

/**
 * Fluxgraph's beans: a {@link CheckpointSaver} and a {@link Store} (PostgreSQL on the application's R2DBC
 * {@link ConnectionFactory}, else in memory, as {@code fluxgraph.persistence} says), the {@link FluxgraphApi} serving
 * every {@link Entrypoint} and {@link CompiledGraph} bean (graph id: its {@code name()}) and the graphs of
 * {@link GraphProvider} beans, each on that checkpointer and store unless it has its own, and the lifecycle that sets
 * up the schema and runs the API's workers. Each bean backs off for one of the application's own.
 */
@AutoConfiguration(afterName = "org.springframework.boot.r2dbc.autoconfigure.R2dbcAutoConfiguration")
@EnableConfigurationProperties(FluxgraphProperties.class)
public final class FluxgraphAutoConfiguration {

  private static final Logger LOG = LoggerFactory.getLogger(FluxgraphAutoConfiguration.class);

  /**
   * A pooled PostgreSQL {@link ConnectionFactory} on {@code spring.r2dbc.url} (with {@code spring.r2dbc.username} and
   * {@code password}) when the application has none, so the starter and that one property keep everything in
   * PostgreSQL without Spring Boot's R2DBC starter; with it, Boot makes the factory and this backs off. Results come in
   * binary format, as {@code PostgresSaver.connect} sets up its own pools.
   */
  @Bean(destroyMethod = "dispose")
  @ConditionalOnMissingBean(ConnectionFactory.class)
  @ConditionalOnProperty("spring.r2dbc.url")
  ConnectionPool fluxgraphConnectionFactory(Environment environment) {
    ConnectionFactoryOptions.Builder options = ConnectionFactoryOptions.parse(
        environment.getRequiredProperty("spring.r2dbc.url")).mutate();
    String user = environment.getProperty("spring.r2dbc.username");
    if (user != null) {
      options.option(ConnectionFactoryOptions.USER, user);
    }
    String password = environment.getProperty("spring.r2dbc.password");
    if (password != null) {
      options.option(ConnectionFactoryOptions.PASSWORD, password);
    }
    ConnectionFactoryOptions built = options.build();
    if (!built.hasOption(PostgresqlConnectionFactoryProvider.FORCE_BINARY)) {
      built = built.mutate().option(PostgresqlConnectionFactoryProvider.FORCE_BINARY, true).build();
    }
    ConnectionFactory factory = ConnectionFactories.get(built);
    return factory instanceof ConnectionPool pool ? pool
        : new ConnectionPool(ConnectionPoolConfiguration.builder(factory).initialSize(2).maxSize(16).build());
  }

  @Bean
  @ConditionalOnMissingBean
  CheckpointSaver fluxgraphCheckpointSaver(FluxgraphProperties properties,
                                           ObjectProvider<ConnectionFactory> connectionFactory) {
    ConnectionFactory database = database(properties.persistence(), connectionFactory);
    if (database == null) {
      if (properties.persistence() == Persistence.AUTO) {
        LOG.warn("Fluxgraph keeps checkpoints, threads and runs in memory: there is no PostgreSQL R2DBC "
            + "ConnectionFactory in the context; they are lost at every restart. Set spring.r2dbc.url to keep them in "
            + "PostgreSQL, or fluxgraph.persistence=memory to say that memory is meant.");
      }
      return new InMemorySaver();
    }
    return PostgresSaver.using(database);
  }

  @Bean
  @ConditionalOnMissingBean
  Store fluxgraphStore(FluxgraphProperties properties, ObjectProvider<ConnectionFactory> connectionFactory) {
    ConnectionFactory database = database(properties.persistence(), connectionFactory);
    return database == null ? new InMemoryStore() : PostgresStore.using(database);
  }

  /** The PostgreSQL connection factory the persistence mode asks for, or null for memory. */
  private static @Nullable ConnectionFactory database(Persistence persistence,
                                                      ObjectProvider<ConnectionFactory> connectionFactory) {
    if (persistence == Persistence.MEMORY) {
      return null;
    }
    ConnectionFactory factory = connectionFactory.getIfUnique();
    String driver = factory == null ? null : factory.getMetadata().getName();
    boolean postgres = driver != null && driver.toLowerCase(Locale.ROOT).contains("postgres");
    if (persistence == Persistence.POSTGRES && !postgres) {
      throw new IllegalStateException("fluxgraph.persistence=postgres needs a PostgreSQL R2DBC ConnectionFactory "
          + (factory == null ? "and the context has none (or several): set spring.r2dbc.url, with "
          + "spring-boot-starter-r2dbc on the class path" : "but the context's is " + driver));
    }
    if (factory != null && !postgres) {
      LOG.warn("the context's R2DBC ConnectionFactory is {}, not PostgreSQL: Fluxgraph does not use it", driver);
    }
    return postgres ? factory : null;
  }

  @Bean
  @ConditionalOnMissingBean
  @Conditional(OnGraphBeans.class)
  FluxgraphApi fluxgraphApi(FluxgraphProperties properties, CheckpointSaver checkpointer, Store store,
                            ListableBeanFactory beans) {
    FluxgraphServer.Builder builder = FluxgraphServer.builder()
        .discoverGraphs(false)
        .checkpointer(checkpointer)
        .store(store)
        .setupSchema(properties.setupSchema())
        .leaseTtl(properties.workers().leaseTtl())
        .maxAttempts(properties.workers().maxAttempts())
        .shutdownGrace(properties.workers().shutdownGrace())
        .eventsRetention(properties.retention().events())
        .apiKey(properties.server().apiKey());
    if (properties.workers().heartbeatInterval() != null) {
      builder.heartbeatInterval(properties.workers().heartbeatInterval());
    }
    if (properties.workers().idPrefix() != null) {
      builder.workerIdPrefix(properties.workers().idPrefix());
    }
    if (properties.durability() != null) {
      builder.durability(properties.durability());
    }
    if (properties.server().cors().allowedOrigins().isEmpty()) {
      builder.corsByHost();
    } else {
      builder.corsAllowOrigins(properties.server().cors().allowedOrigins());
    }
    graphs(beans, checkpointer, store).forEach(builder::graphOnServerPersistence);
    return builder.buildApi();
  }

  /**
   * Every Entrypoint and CompiledGraph bean, by name, and the graphs of GraphProvider beans (for ids other than the
   * graphs' names), by their ids; two graphs of one id are refused.
   */
  private static Map<String, Entrypoint<?, ?>> graphs(ListableBeanFactory beans, CheckpointSaver checkpointer,
                                                      Store store) {
    Map<String, Entrypoint<?, ?>> graphs = new LinkedHashMap<>();
    Map<String, String> beanOf = new LinkedHashMap<>();
    for (String bean : beans.getBeanNamesForType(Entrypoint.class)) {
      Entrypoint<?, ?> graph = beans.getBean(bean, Entrypoint.class);
      add(graphs, beanOf, bean, graph.name(), graph);
    }
    for (String bean : beans.getBeanNamesForType(CompiledGraph.class)) {
      CompiledGraph<?> graph = beans.getBean(bean, CompiledGraph.class);
      add(graphs, beanOf, bean, graph.name(), graph.asEntrypoint());
    }
    for (String bean : beans.getBeanNamesForType(GraphProvider.class)) {
      beans.getBean(bean, GraphProvider.class).graphs(checkpointer, store)
          .forEach((id, graph) -> add(graphs, beanOf, bean, id, graph));
    }
    return graphs;
  }

  private static void add(Map<String, Entrypoint<?, ?>> graphs, Map<String, String> beanOf, String bean, String id,
                          Entrypoint<?, ?> graph) {
    String other = beanOf.putIfAbsent(id, bean);
    if (other != null) {
      throw new IllegalStateException("beans '" + other + "' and '" + bean + "' both give a graph with id '" + id
          + "' (a graph bean's id is its name): give one of them another name");
    }
    graphs.put(id, graph);
  }

  @Bean
  @ConditionalOnBean(FluxgraphApi.class)
  @ConditionalOnMissingBean
  FluxgraphLifecycle fluxgraphLifecycle(FluxgraphApi api, FluxgraphProperties properties,
                                        ObjectProvider<CheckpointSaver> checkpointer, ObjectProvider<Store> store) {
    return new FluxgraphLifecycle(api, properties.setupSchema(), checkpointer.getIfUnique(), store.getIfUnique(),
        properties.retention().checkpoints());
  }

  /** There is at least one graph bean: an Entrypoint or a CompiledGraph. */
  static final class OnGraphBeans extends AnyNestedCondition {

    OnGraphBeans() {
      super(ConfigurationPhase.REGISTER_BEAN);
    }

    @ConditionalOnBean(Entrypoint.class)
    static final class Entrypoints {
    }

    @ConditionalOnBean(CompiledGraph.class)
    static final class CompiledGraphs {
    }

    @ConditionalOnBean(GraphProvider.class)
    static final class GraphProviders {
    }
  }
}
