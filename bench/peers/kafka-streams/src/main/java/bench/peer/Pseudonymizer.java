package bench.peer;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Lowercase hex HMAC-SHA256 keyed by ANONYMIZATION_KEY, with a bounded LRU cache as ours has
 * (the same few thousand users come back again and again). Not thread-safe: one per stream
 * thread (see Topology).
 */
public final class Pseudonymizer {
  private static final int CACHE_ENTRIES = 100_000;
  private final Mac mac;
  private final Map<String, String> cache =
      new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
          return size() > CACHE_ENTRIES;
        }
      };

  public Pseudonymizer(String key) {
    try {
      mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  public String hash(String value) {
    String known = cache.get(value);
    if (known != null) return known;
    String hash = HexFormat.of().formatHex(mac.doFinal(value.getBytes(StandardCharsets.UTF_8)));
    cache.put(value, hash);
    return hash;
  }
}
