package bench.peer;

import bench.peer.Model.SecureTransaction;
import bench.peer.Model.Sighting;
import bench.peer.Model.Spend;
import bench.peer.Model.SpendTotals;
import bench.peer.Model.UserRow;
import bench.peer.Model.UserSpending;
import bench.peer.Model.UserState;
import bench.peer.Model.UsdTransaction;
import bench.peer.Model.WindowSpend;
import bench.peer.Model.WindowTotals;
import bench.peer.Validator.RawTransaction;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.GlobalKTable;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Our processor's topology (src/processor/, DESIGN.md "The processor") in the Kafka Streams DSL:
 *
 * <pre>
 * raw ─ validate ─ leftJoin(CURRENCY_RATES, global) ─┬─ rejected (reason header) → quarantine
 *                                                    └─ pseudonymize, key = USER_ID_HASHED
 *   → TRANSACTIONS_SECURE, TRANSACTIONS_&lt;STATUS&gt;, TRANSACTIONS_BLACKLISTED, TRANSACTIONS_USD
 *   → groupBy (user, type)      → aggregate → USER_SPENDING_BY_TYPE
 *   → groupBy type, 5 min windows (grace 7 days) → aggregate → SPEND_LAST_FIVE_MIN_BY_TYPE
 *   → groupByKey (user)         → aggregate → USERS
 * </pre>
 *
 * As in ksqlDB, each GROUP BY on a new key goes through a repartition topic: three here.
 */
public final class PeerTopology {
  private PeerTopology() {}

  /** Where the topology reads and writes. */
  public record Topics(String raw, String rates, String rejected, String secure, String usd,
      String blacklisted, String userSpending, String windows, String users,
      Map<String, String> byStatus) {
    public static Topics withPrefix(String raw, String rates, String rejected, String prefix) {
      Map<String, String> byStatus = new java.util.HashMap<>();
      for (String s : Validator.STATUSES) {
        byStatus.put(s, prefix + "TRANSACTIONS_" + s.toUpperCase(java.util.Locale.ROOT));
      }
      return new Topics(raw, rates, rejected, prefix + "TRANSACTIONS_SECURE",
          prefix + "TRANSACTIONS_USD", prefix + "TRANSACTIONS_BLACKLISTED",
          prefix + "USER_SPENDING_BY_TYPE", prefix + "SPEND_LAST_FIVE_MIN_BY_TYPE",
          prefix + "USERS", Map.copyOf(byStatus));
    }
  }

  public record Settings(String anonymizationKey, Set<String> blacklistUserIds,
      Set<String> blacklistCountries, int minYear, int maxYear) {}

  static final Duration WINDOW = Duration.ofMinutes(5);
  static final Duration GRACE = Duration.ofDays(7);
  private static final DateTimeFormatter ISO =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  static String iso(long ms) {
    return ISO.format(Instant.ofEpochMilli(ms));
  }

  /** JavaScript's Math.round: the nearest integer, halves up. */
  static double jsRound(double x) {
    double floor = Math.floor(x);
    return x - floor >= 0.5 ? floor + 1 : floor;
  }

  /** A raw record after validation and the rate lookup: a transaction or a rejection. */
  record Checked(RawTransaction tx, long eventMs, Double rate, String reason, String sourceTopic,
      int sourcePartition, long sourceOffset, byte[] raw) {
    boolean ok() {
      return reason == null;
    }

    Checked priced(Double newRate) {
      if (!ok()) return this;
      String problem = Validator.rateProblem(tx, newRate);
      return new Checked(tx, eventMs, newRate, problem, sourceTopic, sourcePartition,
          sourceOffset, raw);
    }
  }

  /** A valid transaction, pseudonymized and converted. */
  record Enriched(SecureTransaction secure, double amountUsd, boolean blacklisted, long eventMs) {}

  public static Topology build(Topics topics, Settings settings, java.util.Properties props) {
    StreamsBuilder builder = new StreamsBuilder();
    Serde<SecureTransaction> secureSerde = Json.serde(SecureTransaction.class);
    Serde<UsdTransaction> usdSerde = Json.serde(UsdTransaction.class);

    GlobalKTable<String, Double> rates = builder.globalTable(topics.rates(),
        Consumed.with(Serdes.String(), rateSerde()),
        Materialized.<String, Double, KeyValueStore<Bytes, byte[]>>as("currency-rates"));

    KStream<byte[], Checked> checked = builder
        .stream(topics.raw(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
        .processValues(() -> new Validate(settings), Named.as("validate"))
        .leftJoin(rates, (key, c) -> c.ok() ? c.tx().currency() : "",
            Checked::priced, Named.as("convert"));

    Map<String, KStream<byte[], Checked>> branches = checked.split(Named.as("checked-"))
        .branch((key, c) -> !c.ok(), org.apache.kafka.streams.kstream.Branched.as("rejected"))
        .defaultBranch(org.apache.kafka.streams.kstream.Branched.as("valid"));

    branches.get("checked-rejected")
        .processValues(Quarantine::new, Named.as("quarantine"))
        .to(topics.rejected(), Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));

    ThreadLocal<Pseudonymizer> hashers =
        ThreadLocal.withInitial(() -> new Pseudonymizer(settings.anonymizationKey()));
    KStream<String, Enriched> enriched = branches.get("checked-valid")
        .map((key, c) -> {
          Enriched e = enrich(c, hashers.get(), settings);
          return KeyValue.pair(e.secure().userIdHashed(), e);
        }, Named.as("pseudonymize"));

    KStream<String, SecureTransaction> secure = enriched.mapValues(Enriched::secure);
    Produced<String, SecureTransaction> secureOut = Produced.with(Serdes.String(), secureSerde);
    secure.to(topics.secure(), secureOut);
    secure.to((key, s, context) -> topics.byStatus().get(s.status()), secureOut);
    enriched.filter((key, e) -> e.blacklisted()).mapValues(Enriched::secure)
        .to(topics.blacklisted(), secureOut);
    enriched.mapValues(e -> UsdTransaction.of(e.secure(), e.amountUsd()))
        .to(topics.usd(), Produced.with(Serdes.String(), usdSerde));

    KStream<String, Spend> spends = enriched.mapValues(e -> new Spend(e.secure().userIdHashed(),
        typeOrUnknown(e.secure().transactionType()),
        (long) jsRound(e.amountUsd() * 1e6), e.eventMs()));

    spends
        .groupBy((key, s) -> "[\"" + s.user() + "\",\"" + s.type() + "\"]",
            Grouped.with("user-spending", Serdes.String(), Json.serde(Spend.class)))
        .aggregate(() -> SpendTotals.EMPTY, (key, s, totals) -> totals.add(s),
            Named.as("user-spending-aggregate"),
            Materialized.<String, SpendTotals, KeyValueStore<Bytes, byte[]>>as("user-spending")
                .withValueSerde(Json.serde(SpendTotals.class)))
        .toStream()
        .mapValues((key, t) -> userSpending(key, t))
        .to(topics.userSpending(), Produced.with(Serdes.String(),
            Json.serde(UserSpending.class)));

    spends
        .map((key, s) -> KeyValue.pair(s.type(), s.micros()), Named.as("spend-by-type"))
        .groupByKey(Grouped.with("windows", Serdes.String(), Serdes.Long()))
        .windowedBy(TimeWindows.ofSizeAndGrace(WINDOW, GRACE))
        .aggregate(() -> WindowTotals.EMPTY, (type, micros, totals) -> totals.add(micros),
            Named.as("windows-aggregate"),
            Materialized.<String, WindowTotals, WindowStore<Bytes, byte[]>>as("windows")
                .withValueSerde(Json.serde(WindowTotals.class)))
        .toStream()
        .map((window, t) -> KeyValue.pair(window.key(), new WindowSpend(window.key(),
            t.micros() / 1e6, t.count(), iso(window.window().start()),
            iso(window.window().end()))))
        .to(topics.windows(), Produced.with(Serdes.String(), Json.serde(WindowSpend.class)));

    enriched
        .mapValues(e -> new Sighting(e.secure().userNameHashed(), e.secure().emailHashed(),
            e.secure().city(), e.secure().country(), e.eventMs()))
        .groupByKey(Grouped.with("users", Serdes.String(), Json.serde(Sighting.class)))
        .aggregate(() -> new UserState(null, 0, 0), (user, s, state) -> state.add(s),
            Named.as("users-aggregate"),
            Materialized.<String, UserState, KeyValueStore<Bytes, byte[]>>as("users")
                .withValueSerde(Json.serde(UserState.class)))
        .toStream()
        .mapValues((user, u) -> new UserRow(user, u.latest().nameHashed(),
            u.latest().emailHashed(), u.latest().city(), u.latest().country(), iso(u.firstMs()),
            iso(u.lastMs())))
        .to(topics.users(), Produced.with(Serdes.String(), Json.serde(UserRow.class)));

    return builder.build(props);
  }

  static String typeOrUnknown(String type) {
    return type == null ? "UNKNOWN" : type;
  }

  static UserSpending userSpending(String key, SpendTotals t) {
    // The key is ["<user>","<type>"]: hex hashes and known types need no unescaping.
    int split = key.indexOf("\",\"");
    return new UserSpending(key.substring(2, split), key.substring(split + 3, key.length() - 2),
        t.micros() / 1e6, t.count(), iso(t.lastMs()));
  }

  static Enriched enrich(Checked c, Pseudonymizer hash, Settings settings) {
    RawTransaction tx = c.tx();
    SecureTransaction secure = new SecureTransaction(tx.transactionId(), hash.hash(tx.userId()),
        hash.hash(tx.userName()), hash.hash(tx.email()), tx.transactionType(), tx.amount(),
        tx.currency(), tx.status(), tx.city(), tx.country(), Masking.maskIp(tx.ipAddress()),
        Masking.maskStreet(tx.street()), tx.timestamp());
    double usd = jsRound(tx.amount() * c.rate() * 1e6) / 1e6;
    boolean blacklisted = settings.blacklistUserIds().contains(tx.userId())
        || settings.blacklistCountries().contains(tx.country());
    return new Enriched(secure, usd, blacklisted, c.eventMs());
  }

  /** Parses and checks a raw value; a valid record takes its event time as record timestamp. */
  static final class Validate implements FixedKeyProcessor<byte[], byte[], Checked> {
    private final Validator validator;
    private FixedKeyProcessorContext<byte[], Checked> context;

    Validate(Settings settings) {
      validator = new Validator(settings.minYear(), settings.maxYear());
    }

    @Override
    public void init(FixedKeyProcessorContext<byte[], Checked> context) {
      this.context = context;
    }

    @Override
    public void process(FixedKeyRecord<byte[], byte[]> record) {
      Validator.Result result = validator.check(record.value());
      var meta = context.recordMetadata().orElseThrow();
      Checked c = new Checked(result.tx(), result.eventMs(), null, result.reason(), meta.topic(),
          meta.partition(), meta.offset(), record.value());
      FixedKeyRecord<byte[], Checked> out = record.withValue(c);
      context.forward(result.ok() ? out.withTimestamp(result.eventMs()) : out);
    }
  }

  /** The raw record as it came, its reason and source position in headers. */
  static final class Quarantine implements FixedKeyProcessor<byte[], Checked, byte[]> {
    private FixedKeyProcessorContext<byte[], byte[]> context;

    @Override
    public void init(FixedKeyProcessorContext<byte[], byte[]> context) {
      this.context = context;
    }

    @Override
    public void process(FixedKeyRecord<byte[], Checked> record) {
      Checked c = record.value();
      RecordHeaders headers = new RecordHeaders();
      headers.add("reason", c.reason().getBytes(StandardCharsets.UTF_8));
      headers.add("source_topic", c.sourceTopic().getBytes(StandardCharsets.UTF_8));
      headers.add("source_partition",
          Integer.toString(c.sourcePartition()).getBytes(StandardCharsets.UTF_8));
      headers.add("source_offset",
          Long.toString(c.sourceOffset()).getBytes(StandardCharsets.UTF_8));
      context.forward(record.withValue(c.raw()).withHeaders(headers));
    }
  }

  /**
   * CURRENCY_RATES values ({CURRENCY, RATE_TO_USD}) as the rate; a value that is none is refused
   * (skipped by the deserialization handler), a null value deletes the currency.
   */
  static Serde<Double> rateSerde() {
    Deserializer<Double> deserializer = (topic, bytes) -> {
      if (bytes == null) return null;
      try {
        JsonNode node = Json.MAPPER.readTree(bytes);
        JsonNode rate = node.get("RATE_TO_USD");
        JsonNode currency = node.get("CURRENCY");
        if (currency == null || !currency.isTextual() || currency.textValue().isEmpty()
            || rate == null || !rate.isNumber() || !(rate.doubleValue() > 0)
            || !Double.isFinite(rate.doubleValue())) {
          throw new SerializationException("not a currency rate");
        }
        return rate.doubleValue();
      } catch (java.io.IOException e) {
        throw new SerializationException("not a currency rate", e);
      }
    };
    return Serdes.serdeFrom(Serdes.Double().serializer(), deserializer);
  }
}
