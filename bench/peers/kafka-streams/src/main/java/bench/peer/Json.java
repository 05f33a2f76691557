package bench.peer;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;
import java.math.BigDecimal;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/** JSON serdes (Jackson) for every value the topology writes or keeps in a store. */
public final class Json {
  private Json() {}

  /**
   * Doubles are written as JavaScript writes them ("12", "12.5", not "12.0"), so the peer's
   * output text matches our processor's, not only its values.
   */
  public static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .registerModule(new SimpleModule().addSerializer(Double.class, new JsNumberSerializer())
          .addSerializer(double.class, new JsNumberSerializer()));

  public static <T> Serde<T> serde(Class<T> type) {
    Serializer<T> serializer = (topic, value) -> {
      if (value == null) return null;
      try {
        return MAPPER.writeValueAsBytes(value);
      } catch (IOException e) {
        throw new SerializationException("cannot write " + type.getSimpleName(), e);
      }
    };
    Deserializer<T> deserializer = (topic, bytes) -> {
      if (bytes == null) return null;
      try {
        return MAPPER.readValue(bytes, type);
      } catch (IOException e) {
        throw new SerializationException("cannot read " + type.getSimpleName(), e);
      }
    };
    return Serdes.serdeFrom(serializer, deserializer);
  }

  /** A double as JavaScript's Number#toString writes it. */
  public static String jsNumber(double d) {
    if (d == Math.rint(d) && Math.abs(d) < 1e21) {
      return Math.abs(d) < 9e15 ? Long.toString((long) d) : new BigDecimal(d).toPlainString();
    }
    double abs = Math.abs(d);
    if (abs >= 1e-6 && abs < 1e21) {
      return new BigDecimal(Double.toString(d)).stripTrailingZeros().toPlainString();
    }
    if (Double.isNaN(d) || Double.isInfinite(d)) return "null";
    return new BigDecimal(Double.toString(d)).stripTrailingZeros().toString().replace('E', 'e');
  }

  static final class JsNumberSerializer extends JsonSerializer<Double> {
    @Override
    public void serialize(Double value, JsonGenerator gen, SerializerProvider provider)
        throws IOException {
      gen.writeNumber(jsNumber(value));
    }
  }
}
