package dev.fluxgraph.samples;

import dev.fluxgraph.checkpoint.CheckpointSaver;
import dev.fluxgraph.func.Entrypoint;
import dev.fluxgraph.graph.CompileOptions;
import dev.fluxgraph.samples.model.ChatModel;
import dev.fluxgraph.server.GraphProvider;
import dev.fluxgraph.store.Store;
import java.util.LinkedHashMap;
import java.util.Map;

/** The samples as the server's graphs (found by {@link java.util.ServiceLoader}). */
public final class SampleGraphs implements GraphProvider {

  @Override
  public Map<String, Entrypoint<?, ?>> graphs(CheckpointSaver checkpointer, Store store) {
    ChatModel model = ChatModel.fromEnvironment();
    Map<String, Entrypoint<?, ?>> graphs = new LinkedHashMap<>();
    graphs.put("simple_workflow", SimpleWorkflow.workflow(checkpointer));
    graphs.put("essay", ComposeEssay.workflow(model, checkpointer));
    graphs.put("parallel_add_one", ParallelExecution.graph(checkpointer));
    graphs.put("calling_graph", CallingGraph.workflow(checkpointer));
    graphs.put("double_graph", CallingGraph.graph(CompileOptions.defaults().withName("double_graph")
        .withCheckpointer(checkpointer).withStore(store)).asEntrypoint());
    graphs.put("calling_entrypoint", CallingEntrypoints.main(checkpointer));
    graphs.put("streaming", Streaming.main(checkpointer));
    graphs.put("human_in_the_loop", HumanInTheLoop.graph(checkpointer));
    graphs.put("review_workflow", ReviewWorkflow.reviewWorkflow(checkpointer));
    graphs.put("review_tool_calls", ReviewToolCalls.agent(model, checkpointer));
    graphs.put("accumulate", FinalAccumulate.accumulate(checkpointer));
    graphs.put("chatbot", Chatbot.workflow(model, checkpointer));
    return graphs;
  }
}
