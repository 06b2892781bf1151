package dev.fluxgraph.samples.spring;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.errors.InvalidCommandException;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.types.Command;
import dev.fluxgraph.types.FluxgraphJson;
import dev.fluxgraph.types.RunConfig;
import dev.fluxgraph.types.StreamChunk;
import dev.fluxgraph.types.StreamMode;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The workflow's HTTP face. The Flux returned by {@code stream(...)} is handed to WebFlux as it is: chunks go out
 * as they happen, the client's demand (TCP backpressure) flows back into the run, and a client that disconnects
 * cancels the run, which can be continued later. Each event's name is the stream mode; its data is the chunk as
 * JSON.
 */
@RestController
class WorkflowController {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();
  private final Entrypoint<String, String> workflow;

  WorkflowController(Entrypoint<String, String> workflow) {
    this.workflow = workflow;
  }

  @GetMapping(path = "/threads/{threadId}/stream", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
  Flux<ServerSentEvent<String>> stream(@PathVariable String threadId, @RequestParam String query) {
    return events(workflow.stream(query, RunConfig.thread(threadId), StreamMode.UPDATES, StreamMode.CUSTOM));
  }

  @PostMapping(path = "/threads/{threadId}/resume", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
  Flux<ServerSentEvent<String>> resume(@PathVariable String threadId, @RequestBody Map<String, Object> body) {
    if (!body.containsKey("value")) {
      return Flux.error(new ResponseStatusException(HttpStatus.BAD_REQUEST, "the body needs a \"value\""));
    }
    return events(workflow.stream(Command.resume(body.get("value")), RunConfig.thread(threadId), StreamMode.UPDATES));
  }

  @GetMapping(path = "/threads/{threadId}/state", produces = MediaType.APPLICATION_JSON_VALUE)
  Mono<String> state(@PathVariable String threadId) {
    return workflow.getState(RunConfig.thread(threadId))
        .map(state -> {
          Map<String, Object> view = new LinkedHashMap<>();
          view.put("values", state.values());
          view.put("next", state.next());
          view.put("interrupts", state.interrupts());
          return json(view);
        })
        .switchIfEmpty(Mono.error(new ResponseStatusException(HttpStatus.NOT_FOUND, "no such thread")));
  }

  private static Flux<ServerSentEvent<String>> events(Flux<StreamChunk> chunks) {
    return chunks
        .map(chunk -> ServerSentEvent.builder(json(chunk.data())).event(chunk.mode().wireName()).build())
        .onErrorResume(InvalidCommandException.class, error -> Flux.just(
            ServerSentEvent.builder(json(Map.of("detail", error.getMessage()))).event("error").build()));
  }

  private static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("chunk is not JSON-serializable", e);
    }
  }
}
