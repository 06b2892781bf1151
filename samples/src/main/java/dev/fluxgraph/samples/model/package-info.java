/** A chat-model client for the samples: OpenAI-compatible over reactor-netty, and a deterministic offline model. */
@NullMarked
package dev.fluxgraph.samples.model;

import org.jspecify.annotations.NullMarked;
