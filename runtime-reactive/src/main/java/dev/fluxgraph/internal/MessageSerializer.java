package dev.fluxgraph.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import dev.fluxgraph.messages.Message;
import java.io.IOException;

/**
 * Writes a {@link Message} as its record, also where {@code Message} is the declared type (a writer for
 * {@code List<Message>}), which Jackson would otherwise write as the interface: {@code {}}.
 */
public final class MessageSerializer extends StdSerializer<Message> {

  public MessageSerializer() {
    super(Message.class);
  }

  @Override
  public void serialize(Message message, JsonGenerator generator, SerializerProvider provider) throws IOException {
    provider.findValueSerializer(message.getClass()).serialize(message, generator, provider);
  }
}
