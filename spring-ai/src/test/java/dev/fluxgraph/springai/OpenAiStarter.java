package dev.fluxgraph.springai;

import org.springframework.ai.chat.model.ChatModel;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Spring AI's OpenAI chat model as its starter ({@code spring-ai-starter-model-openai}) builds it in a Boot
 * application: a non-web application with auto-configuration, configured only with {@code spring.ai.openai.*}
 * properties pointing at {@link FakeOpenAi}. The SDK's own retries are off ({@code max-retries: 0}) so that a failed
 * request reaches the task, whose retry policy decides.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
class OpenAiStarter {

  /** The started application; close it to release the model's HTTP clients. */
  static ConfigurableApplicationContext start(String baseUrl) {
    return new SpringApplicationBuilder(OpenAiStarter.class)
        .web(WebApplicationType.NONE)
        .logStartupInfo(false)
        .properties(
            "spring.main.banner-mode=off",
            "spring.ai.openai.base-url=" + baseUrl,
            "spring.ai.openai.api-key=test-key",
            "spring.ai.openai.chat.model=test-model",
            "spring.ai.openai.max-retries=0")
        .run();
  }

  static ChatModel chatModel(ConfigurableApplicationContext context) {
    return context.getBean(ChatModel.class);
  }
}
