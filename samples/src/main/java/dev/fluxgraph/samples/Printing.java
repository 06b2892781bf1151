package dev.fluxgraph.samples;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxgraph.types.FluxgraphJson;
import dev.fluxgraph.types.StreamChunk;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** How samples print values and ask questions. */
final class Printing {

  private static final ObjectMapper JSON = FluxgraphJson.mapper();

  private Printing() {
  }

  /** A value as compact JSON, the way the server sends it. */
  static String json(@Nullable Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      return String.valueOf(value);
    }
  }

  /** {@code mode: data} for a stream chunk. */
  static String chunk(StreamChunk chunk) {
    return chunk.mode().wireName() + ": " + json(chunk.data());
  }

  /** The {@code index}-th argument, or the answer typed at the prompt. */
  static String answer(List<String> args, int index, String prompt, BufferedReader in, PrintStream out) {
    if (args.size() > index) {
      return args.get(index);
    }
    out.print(prompt + " ");
    out.flush();
    try {
      String line = in.readLine();
      if (line == null) {
        throw new IllegalStateException("no answer given: pass it as argument " + (index + 1) + " or type it");
      }
      return line;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
