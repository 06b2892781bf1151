/**
 * Chat messages as LangChain shapes them: {@link dev.fluxgraph.messages.HumanMessage},
 * {@link dev.fluxgraph.messages.AiMessage} (with {@link dev.fluxgraph.messages.ToolCall}s and
 * {@link dev.fluxgraph.messages.UsageMetadata}), {@link dev.fluxgraph.messages.SystemMessage},
 * {@link dev.fluxgraph.messages.ToolMessage} and {@link dev.fluxgraph.messages.RemoveMessage}. Their JSON is
 * LangChain's ({@code type}, {@code content}, {@code id}, {@code name}, {@code tool_calls}, {@code tool_call_id},
 * {@code response_metadata}, {@code usage_metadata}, {@code additional_kwargs}, ...), so a graph's state reads the
 * same to a JavaScript or Python client as a LangGraph graph's would. {@code Reducers.messages()} accepts them beside
 * plain maps, role-style maps and strings. Reading LangChain's JSON ignores fields the records do not have (such as
 * {@code example}, which langchain-core dropped in 1.0).
 */
@NullMarked
package dev.fluxgraph.messages;

import org.jspecify.annotations.NullMarked;
