package dev.fluxgraph.spring.autoconfigure;

import dev.fluxgraph.server.FluxgraphApi;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.boot.actuate.info.InfoContributor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * The actuator's {@code info}: a {@code fluxgraph} entry with the version, the graph ids, the persistence, where the
 * API is served (or that it is not) and this process's worker id.
 */
@AutoConfiguration(after = {FluxgraphAutoConfiguration.class, FluxgraphWebFluxAutoConfiguration.class})
@ConditionalOnClass(InfoContributor.class)
@ConditionalOnBean(FluxgraphApi.class)
public final class FluxgraphInfoAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean(name = "fluxgraphInfoContributor")
  InfoContributor fluxgraphInfoContributor(FluxgraphApi api, FluxgraphProperties properties,
                                           ListableBeanFactory beans) {
    String version = version();
    boolean served = beans.containsBean("fluxgraphRoutes");
    return builder -> {
      Map<String, Object> info = new LinkedHashMap<>();
      info.put("version", version);
      info.put("graphs", api.graphIds().stream().sorted().toList());
      info.put("persistence", api.sharesDatabase() ? "postgres" : "memory");
      info.put("basePath", served ? properties.server().basePath() : null);
      api.workerId().ifPresent(id -> info.put("workerId", id));
      builder.withDetail("fluxgraph", info);
    };
  }

  /** The server module's version, from the build. */
  private static String version() {
    Properties properties = new Properties();
    try (InputStream in = FluxgraphApi.class.getResourceAsStream("/dev/fluxgraph/server/server.properties")) {
      if (in != null) {
        properties.load(in);
      }
    } catch (IOException e) {
      return "unknown";
    }
    return properties.getProperty("version", "unknown");
  }
}
