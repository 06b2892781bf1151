package dev.fluxgraph.messages;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Token counts of a model call; LangChain's {@code UsageMetadata}, JSON {@code {"input_tokens", "output_tokens",
 * "total_tokens"}} plus {@code input_token_details} / {@code output_token_details} when known.
 *
 * @param inputTokens         tokens in the prompt
 * @param outputTokens        tokens generated
 * @param totalTokens         their sum, as the provider reports it
 * @param inputTokenDetails   e.g. {@code {"cache_read": 10}}, or null
 * @param outputTokenDetails  e.g. {@code {"reasoning": 20}}, or null
 */
public record UsageMetadata(@JsonProperty("input_tokens") int inputTokens,
                            @JsonProperty("output_tokens") int outputTokens,
                            @JsonProperty("total_tokens") int totalTokens,
                            @JsonProperty("input_token_details") @JsonInclude(JsonInclude.Include.NON_NULL)
                            @Nullable Map<String, Object> inputTokenDetails,
                            @JsonProperty("output_token_details") @JsonInclude(JsonInclude.Include.NON_NULL)
                            @Nullable Map<String, Object> outputTokenDetails) {

  public UsageMetadata {
    if (inputTokens < 0 || outputTokens < 0 || totalTokens < 0) {
      throw new IllegalArgumentException("token counts must not be negative, got input " + inputTokens + ", output "
          + outputTokens + ", total " + totalTokens);
    }
    inputTokenDetails = inputTokenDetails == null ? null : Fields.map(inputTokenDetails);
    outputTokenDetails = outputTokenDetails == null ? null : Fields.map(outputTokenDetails);
  }

  /** Input and output counts, total their sum, no details. */
  public static UsageMetadata of(int inputTokens, int outputTokens) {
    return new UsageMetadata(inputTokens, outputTokens, inputTokens + outputTokens, null, null);
  }
}
