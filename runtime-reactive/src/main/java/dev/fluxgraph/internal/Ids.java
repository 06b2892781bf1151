package dev.fluxgraph.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Identifiers. Checkpoint ids are time-ordered UUIDv7 strings, strictly increasing within the process, so a
 * string comparison orders them by creation. Task and interrupt ids are derived (name-based) UUIDs, so the same
 * code path gets the same id on every replay.
 */
public final class Ids {

  private static final AtomicLong LAST_SEQUENCE = new AtomicLong();
  private static final char[] HEX = "0123456789abcdef".toCharArray();
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by the Java platform", e);
    }
  });

  private Ids() {
  }

  /** A new time-ordered id: 48 bits of milliseconds from {@code clock}, a 12-bit sequence, then random bits. */
  public static String timeOrdered(Clock clock) {
    long now = clock.millis() << 12;
    long sequence = LAST_SEQUENCE.updateAndGet(last -> Math.max(now, last + 1));
    long msb = ((sequence >>> 12) << 16) | 0x7000L | (sequence & 0xFFFL);
    long lsb = (ThreadLocalRandom.current().nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return format(msb, lsb);
  }

  /** A stable id derived from the parts (a name-based UUID over their SHA-256). */
  public static String derive(String... parts) {
    MessageDigest digest = SHA256.get();
    for (String part : parts) {
      digest.update(part.getBytes(StandardCharsets.UTF_8));
      digest.update((byte) 0);
    }
    byte[] hash = digest.digest();
    long msb = 0;
    long lsb = 0;
    for (int i = 0; i < 8; i++) {
      msb = (msb << 8) | (hash[i] & 0xFF);
      lsb = (lsb << 8) | (hash[8 + i] & 0xFF);
    }
    msb = (msb & ~0xF000L) | 0x8000L; // version 8: custom, name-based
    lsb = (lsb & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return format(msb, lsb);
  }

  /** A short hex digest of bytes, used to key task inputs. */
  public static String digest(byte[] bytes) {
    byte[] hash = SHA256.get().digest(bytes);
    char[] out = new char[32];
    for (int i = 0; i < 16; i++) {
      out[2 * i] = HEX[(hash[i] >> 4) & 0xF];
      out[2 * i + 1] = HEX[hash[i] & 0xF];
    }
    return new String(out);
  }

  private static String format(long msb, long lsb) {
    return new UUID(msb, lsb).toString(); // the JDK's formatter is much faster than a hand-written one
  }

}
