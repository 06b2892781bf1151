package dev.fluxgraph.internal.server;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.net.URL;

/**
 * Logback's configuration where the application has none: {@code fluxgraph-logback.xml} from the server jar (one line
 * per event on standard output, INFO), instead of Logback's own fallback (everything at DEBUG). Found by Logback
 * through {@code META-INF/services}; a {@code logback.xml} or {@code logback-test.xml} on the class path or the
 * {@code logback.configurationFile} system property wins, as in any Logback application (Spring Boot configures
 * Logback itself after start).
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_LOW_PRIORITY)
public final class DefaultLogging extends ContextAwareBase implements Configurator {

  /** The default configuration's resource name (a copy is the start of an own configuration). */
  public static final String RESOURCE = "fluxgraph-logback.xml";

  /** Called by Logback's service loader. */
  public DefaultLogging() {
  }

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    ClassLoader loader = DefaultLogging.class.getClassLoader();
    URL defaults = loader.getResource(RESOURCE);
    if (System.getProperty("logback.configurationFile") != null || loader.getResource("logback-test.xml") != null
        || loader.getResource("logback.xml") != null || defaults == null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY; // Logback's own look-up finds the application's configuration
    }
    JoranConfigurator joran = new JoranConfigurator();
    joran.setContext(context);
    try {
      joran.doConfigure(defaults);
    } catch (JoranException e) {
      addError("could not read " + defaults, e);
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }
}
