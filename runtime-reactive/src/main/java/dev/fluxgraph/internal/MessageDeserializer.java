package dev.fluxgraph.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import dev.fluxgraph.messages.Message;
import java.io.IOException;

/**
 * Reads a {@link Message} from any JSON LangChain accepts as a message (see {@link MessageShapes}), so a state field
 * {@code List<Message>} takes a client's role-style or LangChain-serialized messages as well as LangChain's JSON.
 */
public final class MessageDeserializer extends StdDeserializer<Message> {

  public MessageDeserializer() {
    super(Message.class);
  }

  @Override
  public Message deserialize(JsonParser parser, DeserializationContext context) throws IOException {
    JsonNode tree = parser.readValueAsTree();
    try {
      return MessageShapes.toMessage(Json.toPlain(tree));
    } catch (IllegalArgumentException e) {
      throw JsonMappingException.from(parser, e.getMessage(), e);
    }
  }
}
