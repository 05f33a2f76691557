package dataplatform.ksql.udf;

import io.confluent.ksql.function.udf.Udf;
import io.confluent.ksql.function.udf.UdfDescription;
import io.confluent.ksql.function.udf.UdfParameter;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.kafka.common.Configurable;
import org.apache.kafka.common.config.ConfigException;

/**
 * HMAC_SHA256(value [, key]) for ksqlDB: the lowercase hex HMAC-SHA256 of the UTF-8 value, keyed
 * by the UTF-8 key. With the key equal to ANONYMIZATION_KEY it gives the same hashes as the
 * built-in processor, so USER_ID_HASHED joins across both.
 *
 * <p>Use the one-argument form in pipelines: it reads the key from the ksqlDB server setting
 * {@code ksql.functions.hmac_sha256.key} (ksqlDB hands a UDF only the settings under
 * {@code ksql.functions.<its name>.}), so the secret is in no statement, command topic or EXPLAIN.
 * The two-argument form is for checking hashes against a known key.
 *
 * <p>Build against the jars of the ksqlDB server it will run in, then copy the jar into the
 * server's {@code ksql.extension.dir} and restart it:
 * <pre>
 *   javac --release 11 -cp "$CONFLUENT_HOME/share/java/ksqldb/*" -d out HmacSha256.java
 *   jar cf hmac-sha256-udf.jar -C out .
 * </pre>
 */
@UdfDescription(
    name = "hmac_sha256",
    author = "data platform",
    version = "1.0.0",
    description = "Lowercase hex HMAC-SHA256 of a string, for pseudonymization.")
public class HmacSha256 implements Configurable {

  static final String KEY_SETTING = "ksql.functions.hmac_sha256.key";
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private byte[] serverKey;

  @Override
  public void configure(final Map<String, ?> settings) {
    final Object key = settings.get(KEY_SETTING);
    if (key == null || key.toString().isEmpty()) {
      // Refuse to run rather than emit null or guessable hashes.
      throw new ConfigException(KEY_SETTING + " is not set: set it to ANONYMIZATION_KEY");
    }
    serverKey = key.toString().getBytes(StandardCharsets.UTF_8);
  }

  @Udf(description = "HMAC-SHA256 keyed by the server setting " + KEY_SETTING)
  public String hmacSha256(
      @UdfParameter(value = "value", description = "the text to pseudonymize") final String value) {
    return value == null ? null : hex(mac(serverKey, value));
  }

  @Udf(description = "HMAC-SHA256 with an explicit key (checks only: the key is in the statement)")
  public String hmacSha256(
      @UdfParameter(value = "value", description = "the text to pseudonymize") final String value,
      @UdfParameter(value = "key", description = "the HMAC key") final String key) {
    if (value == null || key == null || key.isEmpty()) {
      return null;
    }
    return hex(mac(key.getBytes(StandardCharsets.UTF_8), value));
  }

  private static byte[] mac(final byte[] key, final String value) {
    try {
      // A Mac per call: Mac is not thread-safe and ksqlDB may share this instance across threads.
      final Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(value.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  private static String hex(final byte[] bytes) {
    final char[] out = new char[bytes.length * 2];
    for (int i = 0; i < bytes.length; i++) {
      out[2 * i] = HEX[(bytes[i] >> 4) & 0xF];
      out[2 * i + 1] = HEX[bytes[i] & 0xF];
    }
    return new String(out);
  }
}
