/**
 * Spring AI chat models in Fluxgraph workflows. {@link dev.fluxgraph.springai.SpringAiChat} calls any Spring AI
 * {@code ChatModel} through its {@code stream}: inside a run each token goes to the {@code messages} stream mode as
 * it arrives, and the call answers one {@link dev.fluxgraph.messages.AiMessage} with its tool calls and token usage
 * ({@code usage_metadata}). As a {@link dev.fluxgraph.func.Task} the call is checkpointed, so a resumed run replays
 * its answer instead of calling the model again. {@link dev.fluxgraph.springai.SpringAiTools} runs the model's tool
 * calls on Spring AI {@code ToolCallback}s, each call a checkpointed task of its own; {@link
 * dev.fluxgraph.springai.SpringAiChat#agent(int)} is the model-and-tools loop as an entrypoint body.
 */
@NullMarked
package dev.fluxgraph.springai;

import org.jspecify.annotations.NullMarked;
