package dev.fluxgraph.internal.server;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/** Assistant ids: one assistant per graph, {@code uuid5(6ba7b821-9dad-11d1-80b4-00c04fd430c8, graph_id)}. */
public final class Assistants {

  private static final UUID NAMESPACE = UUID.fromString("6ba7b821-9dad-11d1-80b4-00c04fd430c8");

  /** Computed once per graph: every run reports its assistant id. */
  private static final ConcurrentHashMap<String, String> IDS =
      new ConcurrentHashMap<>();

  private Assistants() {
  }

  /** RFC 4122 name-based (SHA-1, version 5) UUID, as Python's {@code uuid.uuid5}. */
  public static String idOf(String graphId) {
    return IDS.computeIfAbsent(graphId, Assistants::uuid5);
  }

  private static String uuid5(String graphId) {
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      ByteBuffer namespace = ByteBuffer.allocate(16);
      namespace.putLong(NAMESPACE.getMostSignificantBits()).putLong(NAMESPACE.getLeastSignificantBits());
      sha1.update(namespace.array());
      sha1.update(graphId.getBytes(StandardCharsets.UTF_8));
      byte[] hash = sha1.digest();
      hash[6] = (byte) ((hash[6] & 0x0f) | 0x50);
      hash[8] = (byte) ((hash[8] & 0x3f) | 0x80);
      ByteBuffer bytes = ByteBuffer.wrap(hash, 0, 16);
      return new UUID(bytes.getLong(), bytes.getLong()).toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is required by the Java platform", e);
    }
  }
}
