package dev.fluxgraph.types;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.Objects;

/**
 * A full generic type, captured by subclassing: {@code new TypeRef<List<String>>() {}}. Values read back from
 * checkpoints are deserialized into this type.
 */
public abstract class TypeRef<T> {

  private final Type type;

  protected TypeRef() {
    Type superclass = getClass().getGenericSuperclass();
    if (!(superclass instanceof ParameterizedType parameterized)) {
      throw new IllegalStateException("TypeRef must be created with a type argument: new TypeRef<List<String>>() {}");
    }
    this.type = parameterized.getActualTypeArguments()[0];
  }

  private TypeRef(Type type) {
    this.type = Objects.requireNonNull(type, "type must not be null");
  }

  /** A reference to a plain class. */
  public static <T> TypeRef<T> of(Class<T> type) {
    return new TypeRef<>(type) { };
  }

  /** The captured type. */
  public Type type() {
    return type;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof TypeRef<?> ref && ref.type.equals(type);
  }

  @Override
  public int hashCode() {
    return type.hashCode();
  }

  @Override
  public String toString() {
    return "TypeRef<" + type.getTypeName() + ">";
  }
}
