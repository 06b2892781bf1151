package dev.fluxgraph.server.refgraphs;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.func.TaskContext;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.graph.CompiledGraph;
import dev.fluxgraph.graph.Reducers;
import dev.fluxgraph.graph.Send;
import dev.fluxgraph.graph.StateGraph;
import dev.fluxgraph.messages.AiMessage;
import dev.fluxgraph.messages.Message;
import dev.fluxgraph.messages.ToolMessage;
import dev.fluxgraph.server.GraphFactory;
import dev.fluxgraph.server.GraphProvider;
import dev.fluxgraph.store.Item;
import dev.fluxgraph.store.Store;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BinaryOperator;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The graphs the reference server's API test suite runs against (its {@code tests/graphs}), written for Fluxgraph
 * under the same graph ids, for {@code scripts/reference-suite.sh}: the suite's client drives them on a Fluxgraph
 * server. They behave as the suite expects of them (the same node names, replies, store use and errors); they are
 * ours, written from what the suite observes. Not registered in any services file of the test class path: the
 * script writes one for the server it starts.
 *
 * <ul>
 *   <li>{@code agent}: {@code agent} (a fake model answering "begin", then "end", per thread; an interrupt when
 *   the state asks; an optional sleep; a store write), {@code tool} (answers {@code tool_call__<last content>} and
 *   reads the store back), {@code checkSharedState} (fails unless the store holds {@code isTrue}).</li>
 *   <li>{@code agent_simple}: the same model idea, its tool reached through a {@link Send} of the last message.</li>
 *   <li>{@code nested}: three levels of graphs; {@code weather}: a router over a subgraph that pauses before its
 *   {@code weather_node}; {@code error}: a node that fails with {@code CustomError: Boo!} after a second;
 *   {@code delay}: a node that sleeps the input's {@code delay}; {@code dynamic}: a graph built per run whose one
 *   node is named by {@code configurable.nodeName}; {@code simple_runtime}: answers the run context's
 *   {@code model}; three graphs for the schema tests.</li>
 * </ul>
 */
public final class ReferenceGraphs implements GraphProvider {

  private static final FakeChatModel AGENT_MODEL = new FakeChatModel(List.of("begin", "end"));
  private static final FakeChatModel SIMPLE_MODEL = new FakeChatModel(List.of("begin", "end\u2028"));

  @Override
  public Map<String, Entrypoint<?, ?>> graphs(CheckpointSaver checkpointer, Store store) {
    CompileOptions options = CompileOptions.defaults().withCheckpointer(checkpointer).withStore(store);
    Map<String, Entrypoint<?, ?>> graphs = new HashMap<>();
    graphs.put("agent", agent(options.withName("agent")));
    graphs.put("agent_simple", agentSimple(options.withName("agent_simple")));
    graphs.put("nested", nested(options.withName("nested")));
    graphs.put("weather", weather(options.withName("weather")));
    graphs.put("error", error(options.withName("error")));
    graphs.put("delay", delay(options.withName("delay")));
    graphs.put("simple_runtime", simpleRuntime(options.withName("simple_runtime")));
    graphs.put("state_schema_graph", stateSchemaGraph(options.withName("state_schema_graph")));
    graphs.put("zod_registry_graph", zodRegistryGraph(options.withName("zod_registry_graph")));
    graphs.put("plain_zod_graph", plainZodGraph(options.withName("plain_zod_graph")));
    return graphs;
  }

  @Override
  public Map<String, GraphFactory> graphFactories(CheckpointSaver checkpointer, Store store) {
    CompileOptions options = CompileOptions.defaults().withCheckpointer(checkpointer).withStore(store)
        .withName("dynamic");
    return Map.of("dynamic", config -> {
      Object name = config.configurable().get("nodeName");
      return dynamic(options, name instanceof String node ? node : "default");
    });
  }

  // --- agent -------------------------------------------------------------------------------------------------

  private static Entrypoint<?, ?> agent(CompileOptions options) {
    return StateGraph.ofMap()
        .reducer("messages", Reducers.messages(), List.of())
        .addNode("agent", ReferenceGraphs::agentNode)
        .addNode("tool", ReferenceGraphs::toolNode)
        .addNode("checkSharedState", ReferenceGraphs::checkSharedState)
        .addEdge(StateGraph.START, "agent")
        .addConditionalEdges("agent", state -> Mono.just(agentRoute(state)))
        .addEdge("tool", "agent")
        .addEdge("checkSharedState", StateGraph.END)
        .compile(options).asEntrypoint();
  }

  private static Mono<Map<String, Object>> agentNode(Map<String, Object> state, TaskContext context) {
    Mono<?> interrupt = Boolean.TRUE.equals(state.get("interrupt"))
        ? context.interrupt("i want to interrupt", Object.class) : Mono.empty();
    return interrupt.then(Mono.defer(() -> sleep(state, context)))
        .then(Mono.defer(() -> AGENT_MODEL.invoke(context.config().threadId().orElse("$"), context)))
        .flatMap(response -> {
          Object userId = context.config().configurable().get("user_id");
          Mono<Void> remember = state.get("sharedStateFromStoreConfig") == null
              ? context.store().put(List.of("sharedState", "data"), "user_id", nullable("id", userId))
              : Mono.empty();
          Map<String, Object> update = new HashMap<>();
          update.put("interrupt", false);
          update.put("messages", List.of(response));
          return remember.thenReturn(update);
        });
  }

  /** The agent's optional pause: {@code sleep} seconds, or {@code {steps, ms}} with a custom chunk per step. */
  private static Mono<Void> sleep(Map<String, Object> state, TaskContext context) {
    Object sleep = state.get("sleep");
    List<Message> messages = messages(state);
    if (sleep == null || messages.isEmpty() || !messages.get(messages.size() - 1).type().equals("human")) {
      return Mono.empty();
    }
    if (sleep instanceof Number seconds) {
      return Mono.delay(Duration.ofMillis((long) (seconds.doubleValue() * 1000))).then();
    }
    if (sleep instanceof Map<?, ?> steps && steps.get("steps") instanceof Number count
        && steps.get("ms") instanceof Number millis) {
      return Flux.range(0, count.intValue())
          .concatMap(step -> context.writer().write(Map.of("type", "sleep", "step", step))
              .then(Mono.delay(Duration.ofMillis(millis.longValue()))))
          .then();
    }
    return Mono.error(new IllegalArgumentException("sleep must be a number of seconds or {steps, ms}, not " + sleep));
  }

  private static Mono<Map<String, Object>> toolNode(Map<String, Object> state, TaskContext context) {
    return context.store().get(List.of("sharedState", "data"), "user_id")
        .map(Item::value).map(value -> (Object) value).defaultIfEmpty(NONE)
        .map(found -> {
          Map<String, Object> update = new HashMap<>();
          update.put("sharedStateFromStoreConfig", found == NONE ? null : found);
          List<Message> messages = messages(state);
          update.put("messages", messages.isEmpty() ? List.of() : List.of(ToolMessage.of("tool_call_id",
              "tool_call__" + messages.get(messages.size() - 1).text())));
          return update;
        });
  }

  private static final Object NONE = new Object();

  private static Mono<Map<String, Object>> checkSharedState(Map<String, Object> state, TaskContext context) {
    return context.store().get(List.of("inputtedState", "data"), "my_key")
        .filter(item -> Boolean.TRUE.equals(item.value().get("isTrue")))
        .switchIfEmpty(Mono.error(() -> new IllegalStateException("Value is not true")))
        .thenReturn(Map.of());
  }

  private static String agentRoute(Map<String, Object> state) {
    List<Message> messages = messages(state);
    String first = messages.isEmpty() ? "" : messages.get(0).text();
    if (first.equals("should_end")) {
      return StateGraph.END;
    }
    if (first.equals("___check_state_value")) {
      return "checkSharedState";
    }
    return !messages.isEmpty() && messages.get(messages.size() - 1).text().equals("end") ? StateGraph.END : "tool";
  }

  // --- agent_simple ------------------------------------------------------------------------------------------

  private static Entrypoint<?, ?> agentSimple(CompileOptions options) {
    return StateGraph.ofMap(List.of("key_one", "key_two", "sleep", "messages"))
        .reducer("messages", Reducers.messages(), List.of())
        .addNode("agent", (state, context) -> {
          Object header = context.config().configurable().get("x-configurable-header");
          if (header != null) {
            return Mono.just(Map.of("messages", List.of("end: " + header)));
          }
          Object user = context.config().configurable().get("langgraph_auth_user");
          String namespace = user instanceof Map<?, ?> auth && auth.get("identity") instanceof String identity
              ? identity : "ALL";
          List<Message> messages = messages(state);
          Object text = messages.isEmpty() ? null : messages.get(messages.size() - 1).content();
          Store store = context.store();
          return store.get(List.of(namespace), "key_one").hasElement()
              .flatMap(exists -> exists ? Mono.<Void>empty()
                  : store.put(List.of(namespace), "key_one", nullable("text", text)))
              .then(SIMPLE_MODEL.invoke(context.config().threadId().orElse("$"), context))
              .map(response -> Map.of("messages", List.of(response)));
        })
        .addNode("tool", (state, context) -> {
          // the input is the message the agent's edge sent
          Message message = Message.of(state);
          return Mono.just(Map.of("messages", List.of(ToolMessage.of("tool_call_id",
              "tool_call__" + message.text()))));
        })
        .addEdge(StateGraph.START, "agent")
        .addConditionalEdges("agent", state -> {
          List<Message> messages = messages(state);
          Message last = messages.get(messages.size() - 1);
          return Mono.just(last.text().startsWith("end") ? StateGraph.END : new Send("tool", last));
        })
        .addEdge("tool", "agent")
        .compile(options).asEntrypoint();
  }

  // --- nested ------------------------------------------------------------------------------------------------

  /** The child level of {@code nested}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record ChildState(@Nullable List<String> messages, @Nullable Child child) {
  }

  /** The parent level of {@code nested}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record ParentState(@Nullable List<String> messages, @Nullable Parent parent) {
  }

  /** The top level of {@code nested}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record GrandParentState(@Nullable List<String> messages) {
  }

  /** {@code child}'s values. */
  public enum Child {
    CHILD_ONE("child_one"), CHILD_TWO("child_two");

    private final String wire;

    Child(String wire) {
      this.wire = wire;
    }

    @JsonValue
    public String wire() {
      return wire;
    }
  }

  /** {@code parent}'s values. */
  public enum Parent {
    PARENT_ONE("parent_one"), PARENT_TWO("parent_two");

    private final String wire;

    Parent(String wire) {
      this.wire = wire;
    }

    @JsonValue
    public String wire() {
      return wire;
    }
  }

  private static Entrypoint<?, ?> nested(CompileOptions options) {
    CompiledGraph<ChildState> child = StateGraph.of(ChildState.class)
        .reducer("messages", Reducers.append())
        .addNode("c_one", (state, context) -> Mono.just(Map.of("messages", List.of("Entered c_one node"))))
        .addNode("c_two", (state, context) -> Mono.just(Map.of("messages", List.of("Entered c_two node"))))
        .addEdge(StateGraph.START, "c_one").addEdge("c_one", "c_two").addEdge("c_two", StateGraph.END)
        .compile(CompileOptions.defaults().withName("child"));
    CompiledGraph<ParentState> parent = StateGraph.of(ParentState.class)
        .reducer("messages", Reducers.append())
        .addNode("p_one", (state, context) -> Mono.just(Map.of("messages", List.of("Entered p_one node"))))
        .addNode("p_two", child)
        .addEdge(StateGraph.START, "p_one").addEdge("p_one", "p_two").addEdge("p_two", StateGraph.END)
        .compile(CompileOptions.defaults().withName("parent"));
    return StateGraph.of(GrandParentState.class)
        .reducer("messages", Reducers.append())
        .addNode("gp_one", (state, context) -> Mono.just(Map.of("messages", List.of("Entered gp_one node"))))
        .addNode("gp_two", parent)
        .addEdge(StateGraph.START, "gp_one").addEdge("gp_one", "gp_two").addEdge("gp_two", StateGraph.END)
        .compile(options).asEntrypoint();
  }

  // --- weather -----------------------------------------------------------------------------------------------

  /** The reference's weather graph: a router over a subgraph that pauses before its weather node. */
  public static Entrypoint<?, ?> weather(CompileOptions options) {
    CompiledGraph<Map<String, Object>> weather = StateGraph.ofMap(List.of("messages", "city"))
        .reducer("messages", Reducers.messages(), List.of())
        .addNode("model_node", (state, context) -> Mono.just(Map.of("city", "San Francisco")))
        .addNode("weather_node", (state, context) -> Mono.just(Map.of("messages",
            List.of(AiMessage.of("It's sunny in " + state.get("city") + "!")))))
        .addEdge(StateGraph.START, "model_node").addEdge("model_node", "weather_node")
        .addEdge("weather_node", StateGraph.END)
        .compile(CompileOptions.defaults().withName("weather_graph").withInterruptBefore("weather_node"));
    return StateGraph.ofMap(List.of("messages", "route"))
        .reducer("messages", Reducers.messages(), List.of())
        .addNode("router_node", (state, context) -> Mono.just(Map.of("route", "weather")))
        .addNode("normal_llm_node", (state, context) -> Mono.just(Map.of("messages", List.of(AiMessage.of("Hello")))))
        .addNode("weather_graph", weather)
        .addEdge(StateGraph.START, "router_node")
        .addConditionalEdges("router_node",
            state -> Mono.just("weather".equals(state.get("route")) ? "weather_graph" : "normal_llm_node"),
            List.of("weather_graph", "normal_llm_node"))
        .addEdge("weather_graph", StateGraph.END)
        .addEdge("normal_llm_node", StateGraph.END)
        .compile(options).asEntrypoint();
  }

  // --- error, delay ------------------------------------------------------------------------------------------

  /** What the {@code error} graph's node fails with. */
  public static final class CustomError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CustomError(String message) {
      super(message);
    }
  }

  private static Entrypoint<?, ?> error(CompileOptions options) {
    return StateGraph.ofMap(List.of("messages"))
        .reducer("messages", Reducers.messages(), List.of())
        .addNode("error_node", (state, context) -> Mono.delay(Duration.ofSeconds(1))
            .then(Mono.error(new CustomError("Boo!"))))
        .addEdge(StateGraph.START, "error_node")
        .compile(options).asEntrypoint();
  }

  private static Entrypoint<?, ?> delay(CompileOptions options) {
    return StateGraph.ofMap(List.of("messages", "delay"))
        .reducer("messages", Reducers.messages(), List.of())
        .addNode("long_running", (state, context) -> {
          long millis = state.get("delay") instanceof Number number ? number.longValue() : 0;
          return Mono.delay(Duration.ofMillis(millis))
              .thenReturn(Map.of("messages", List.of("finished after " + millis + "ms")));
        })
        .addEdge(StateGraph.START, "long_running").addEdge("long_running", StateGraph.END)
        .compile(options).asEntrypoint();
  }

  // --- dynamic -----------------------------------------------------------------------------------------------

  /** {@code dynamic}'s reducer: a list appends all its elements, anything else is appended as one. */
  private static final BinaryOperator<Object> APPEND_ONE_OR_MANY = (current, update) -> {
    List<Object> merged = new ArrayList<>();
    if (current instanceof List<?> list) {
      merged.addAll(list);
    }
    if (update instanceof List<?> list) {
      merged.addAll(list);
    } else {
      merged.add(update);
    }
    return merged;
  };

  private static Entrypoint<?, ?> dynamic(CompileOptions options, String node) {
    return StateGraph.ofMap(List.of("node", "messages"))
        .reducer("messages", APPEND_ONE_OR_MANY, List.of())
        .addNode(node, (state, context) -> Mono.just(Map.of("node", node, "messages", List.of(node))))
        .addEdge(StateGraph.START, node).addEdge(node, StateGraph.END)
        .compile(options).asEntrypoint();
  }

  // --- simple_runtime and the schema graphs ------------------------------------------------------------------

  /** {@code simple_runtime}'s model names. */
  public enum Model {
    ANTHROPIC("anthropic"), OPENAI("openai"), UNKNOWN("unknown");

    private final String wire;

    Model(String wire) {
      this.wire = wire;
    }

    @JsonValue
    public String wire() {
      return wire;
    }
  }

  /** {@code simple_runtime}'s run context: the model to use. */
  public record ModelContext(@Nullable Model model) {
  }

  private static Entrypoint<?, ?> simpleRuntime(CompileOptions options) {
    // the reference's state has "message" (not "messages", which the suite's input has and the graph drops)
    return StateGraph.ofMap(List.of("message", "model"))
        .withContext(ModelContext.class)
        .addNode("use_context", (state, context) -> {
          Object model = context.context(ModelContext.class).map(ModelContext::model).orElse(null);
          return Mono.just(nullable("model", model));
        })
        .addEdge(StateGraph.START, "use_context")
        .compile(options).asEntrypoint();
  }

  /** {@code state_schema_graph}'s state. */
  public record CountedMessages(@Nullable List<Message> messages, @Nullable Integer count) {
  }

  private static Entrypoint<?, ?> stateSchemaGraph(CompileOptions options) {
    return StateGraph.of(CountedMessages.class)
        .reducer("messages", Reducers.messages(), List.of())
        .addNode("process", (state, context) -> {
          int count = state.count() == null ? 0 : state.count();
          return Mono.just(Map.of("messages", List.of(AiMessage.of("Response " + (count + 1))), "count", count + 1));
        })
        .addEdge(StateGraph.START, "process").addEdge("process", StateGraph.END)
        .compile(options).asEntrypoint();
  }

  /** {@code zod_registry_graph}'s status. */
  public enum Status {
    IDLE("idle"), PROCESSING("processing"), DONE("done");

    private final String wire;

    Status(String wire) {
      this.wire = wire;
    }

    @JsonValue
    public String wire() {
      return wire;
    }
  }

  /** {@code zod_registry_graph}'s state. */
  public record RegistryState(@Nullable List<Message> messages, @Nullable Integer count, @Nullable Status status) {
  }

  private static Entrypoint<?, ?> zodRegistryGraph(CompileOptions options) {
    return StateGraph.of(RegistryState.class)
        .reducer("messages", Reducers.messages(), List.of())
        .addNode("process", (state, context) -> {
          int count = state.count() == null ? 0 : state.count();
          return Mono.just(Map.of("messages", List.of("Message " + (count + 1)), "count", count + 1,
              "status", Status.PROCESSING));
        })
        .addEdge(StateGraph.START, "process").addEdge("process", StateGraph.END)
        .compile(options).asEntrypoint();
  }

  /** {@code plain_zod_graph}'s state. */
  public record Items(@Nullable List<String> items, @Nullable Integer counter, @Nullable String label) {
  }

  private static Entrypoint<?, ?> plainZodGraph(CompileOptions options) {
    return StateGraph.of(Items.class)
        .addNode("process", (state, context) -> {
          int counter = state.counter() == null ? 0 : state.counter();
          List<String> items = new ArrayList<>(state.items() == null ? List.of() : state.items());
          items.add("Item " + (counter + 1));
          return Mono.just(Map.of("items", items, "counter", counter + 1, "label", "processed"));
        })
        .addEdge(StateGraph.START, "process").addEdge("process", StateGraph.END)
        .compile(options).asEntrypoint();
  }

  // --- helpers -----------------------------------------------------------------------------------------------

  private static List<Message> messages(Map<String, Object> state) {
    Object messages = state.get("messages");
    if (!(messages instanceof List<?> list)) {
      return List.of();
    }
    return list.stream().map(Message::of).toList();
  }

  private static Map<String, Object> nullable(String key, @Nullable Object value) {
    Map<String, Object> map = new HashMap<>();
    map.put(key, value);
    return map;
  }
}
