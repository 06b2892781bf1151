package dev.fluxgraph.samples.spring;

import dev.fluxgraph.checkpoint.InMemorySaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.samples.HumanInTheLoop;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * A Spring Boot WebFlux service exposing the human-in-the-loop workflow (step_1 / human_feedback / step_3):
 * {@code GET /threads/{id}/stream?query=foo} streams a run as SSE, {@code POST /threads/{id}/resume} with
 * {@code {"value": "baz"}} streams its continuation, {@code GET /threads/{id}/state} shows the thread.
 * Run: {@code mvn -B -q install -DskipTests && mvn -B -q -pl samples-spring exec:java
 * -Dexec.mainClass=dev.fluxgraph.samples.spring.WorkflowApplication}.
 */
@SpringBootApplication
public class WorkflowApplication {

  /** The workflow, on an in-memory checkpointer; a real service would use {@code PostgresSaver}. */
  @Bean
  Entrypoint<String, String> workflow() {
    return HumanInTheLoop.graph(new InMemorySaver());
  }

  public static void main(String[] args) {
    SpringApplication.run(WorkflowApplication.class, args);
  }
}
