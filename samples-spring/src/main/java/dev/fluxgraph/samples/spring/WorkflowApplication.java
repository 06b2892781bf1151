package dev.fluxgraph.samples.spring;

import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.Task;
import dev.fluxgraph.func.TaskContext;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import reactor.core.publisher.Mono;

/**
 * A Spring Boot WebFlux service with one workflow: {@code fluxgraph-spring-boot-starter} serves it as graph
 * {@code essay} under {@code /fluxgraph} (the LangGraph Server API, for {@code @langchain/langgraph-sdk}), with the
 * checkpointer and store it configures (PostgreSQL when {@code spring.r2dbc.url} is set). Run {@code main} (from an
 * IDE), or its test: {@code mvn -B -q -pl samples-spring -am verify -Dit.test=WorkflowApplicationIT
 * -Dfailsafe.failIfNoSpecifiedTests=false}.
 */
@SpringBootApplication
public class WorkflowApplication {

  /** Drafts an essay, asks a human to approve it (an interrupt: the run pauses until resumed), then publishes it. */
  @Bean
  Entrypoint<String, String> essay() {
    Task<String, String> draft = Task.of("draft", String.class, topic -> Mono.just("An essay about " + topic));
    Task<String, String> review = Task.of("review", String.class, (String text, TaskContext context) ->
        context.interrupt("approve '" + text + "'?", String.class).map(verdict -> text + " (" + verdict + ")"));
    return Entrypoint.named("essay").define(String.class, String.class, (topic, context) ->
        draft.call(topic).flatMap(review::call));
  }

  public static void main(String[] args) {
    SpringApplication.run(WorkflowApplication.class, args);
  }
}
