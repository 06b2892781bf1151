package dev.fluxgraph.spring.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.web.reactive.config.CorsRegistry;
import org.springframework.web.reactive.config.WebFluxConfigurer;
import reactor.netty.http.client.HttpClient;

/**
 * CORS for the API's routes: by default the application's own WebFlux CORS configuration applies to them (Fluxgraph
 * adds no policy); with {@code fluxgraph.server.cors.allowed-origins} the standalone server's policy does.
 */
class CorsSpringIT {

  private static final String PAGE = "http://app.example";

  @Test
  void theApplicationsCorsConfigurationAppliesToTheRoutes() {
    try (ConfigurableApplicationContext application = start(WithCors.class)) {
      HttpClient client = client(application);
      Preflight preflight = preflight(client, PAGE);
      assertThat(preflight.status()).isEqualTo(200);
      assertThat(preflight.allowOrigin()).isEqualTo(PAGE);
      assertThat(preflight(client, "http://other.example").status()).isEqualTo(403); // Spring's refusal
      String origin = client.headers(headers -> headers.set("Origin", PAGE)).get().uri("/fluxgraph/ok")
          .response().map(response -> response.responseHeaders().get("Access-Control-Allow-Origin"))
          .block(Duration.ofSeconds(10));
      assertThat(origin).isEqualTo(PAGE);
    }
  }

  @Test
  void withAllowedOriginsFluxgraphsOwnPolicyApplies() {
    try (ConfigurableApplicationContext application = start(JsClientSpringIT.E2eApplication.class,
        "--fluxgraph.server.cors.allowed-origins=" + PAGE)) {
      HttpClient client = client(application);
      Preflight preflight = preflight(client, PAGE);
      assertThat(preflight.status()).isEqualTo(204);
      assertThat(preflight.allowOrigin()).isEqualTo(PAGE);
      assertThat(preflight.exposed()).isNull(); // a preflight; the actual answers expose the SDK's headers
      int refused = client.headers(headers -> headers.set("Origin", "http://other.example")).get()
          .uri("/fluxgraph/ok").response().map(response -> response.status().code()).block(Duration.ofSeconds(10));
      assertThat(refused).isEqualTo(403);
    }
  }

  private record Preflight(int status, String allowOrigin, String exposed) {
  }

  private static Preflight preflight(HttpClient client, String origin) {
    return client.headers(headers -> headers.set("Origin", origin).set("Access-Control-Request-Method", "POST")
            .set("Access-Control-Request-Headers", "content-type"))
        .options().uri("/fluxgraph/threads")
        .response().map(response -> new Preflight(response.status().code(),
            response.responseHeaders().get("Access-Control-Allow-Origin"),
            response.responseHeaders().get("Access-Control-Expose-Headers")))
        .block(Duration.ofSeconds(10));
  }

  private static ConfigurableApplicationContext start(Class<?> application, String... more) {
    String[] arguments = new String[more.length + 4];
    arguments[0] = "--server.port=0";
    arguments[1] = "--spring.main.banner-mode=off";
    arguments[2] = "--fluxgraph.persistence=memory";
    arguments[3] = "--spring.autoconfigure.exclude=org.springframework.boot.r2dbc.autoconfigure.R2dbcAutoConfiguration";
    System.arraycopy(more, 0, arguments, 4, more.length);
    return new SpringApplicationBuilder(application).run(arguments);
  }

  private static HttpClient client(ConfigurableApplicationContext application) {
    return HttpClient.create().baseUrl("http://127.0.0.1:" + application.getEnvironment()
        .getProperty("local.server.port"));
  }

  /** The e2e application with a CORS mapping of its own, as a Spring application configures CORS. */
  static class WithCors extends JsClientSpringIT.E2eApplication {
    @Bean
    WebFluxConfigurer cors() {
      return new WebFluxConfigurer() {
        @Override
        public void addCorsMappings(CorsRegistry registry) {
          registry.addMapping("/fluxgraph/**").allowedOrigins(PAGE).allowedMethods("GET", "POST");
        }
      };
    }
  }
}
