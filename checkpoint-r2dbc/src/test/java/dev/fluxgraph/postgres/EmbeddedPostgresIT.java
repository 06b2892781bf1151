package dev.fluxgraph.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.ResultSet;
import org.junit.jupiter.api.Test;

class EmbeddedPostgresIT {
  @Test
  void starts() throws Exception {
    try (Connection c = EmbeddedPostgres.get().getPostgresDatabase().getConnection();
         ResultSet rs = c.createStatement().executeQuery("select 1")) {
      rs.next();
      assertEquals(1, rs.getInt(1));
    }
  }
}
