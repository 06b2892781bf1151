package dev.fluxgraph.springai;

import java.util.function.Function;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.function.FunctionToolCallback;

/** The tests' {@code get_weather} tool, a plain Spring AI {@link FunctionToolCallback}. */
final class WeatherTool {

  /** The tool's input, as the model sends it ({@code {"city": "sf"}}). */
  record Query(String city) {
  }

  private WeatherTool() {
  }

  /** {@code get_weather} answering {@code forecast(query)} as plain text. */
  static ToolCallback of(Function<Query, String> forecast) {
    return FunctionToolCallback.builder("get_weather", forecast)
        .description("The weather in a city")
        .inputType(Query.class)
        .toolCallResultConverter((result, type) -> String.valueOf(result))
        .build();
  }
}
