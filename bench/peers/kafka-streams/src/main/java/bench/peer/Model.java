package bench.peer;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * The values of the output topics, with the field names and order of our processor
 * (src/processor/transform.ts, aggregates.ts), and the aggregation state kept in the stores.
 */
public final class Model {
  private Model() {}

  /** TRANSACTIONS_SECURE, TRANSACTIONS_<STATUS>, TRANSACTIONS_BLACKLISTED. */
  @JsonPropertyOrder({"TRANSACTION_ID", "USER_ID_HASHED", "USER_NAME_HASHED", "EMAIL_HASHED",
      "TRANSACTION_TYPE", "AMOUNT", "CURRENCY", "STATUS", "CITY", "COUNTRY", "IP_MASKED",
      "STREET_MASKED", "TIMESTAMP"})
  public record SecureTransaction(
      @JsonProperty("TRANSACTION_ID") String transactionId,
      @JsonProperty("USER_ID_HASHED") String userIdHashed,
      @JsonProperty("USER_NAME_HASHED") String userNameHashed,
      @JsonProperty("EMAIL_HASHED") String emailHashed,
      @JsonProperty("TRANSACTION_TYPE") String transactionType,
      @JsonProperty("AMOUNT") double amount,
      @JsonProperty("CURRENCY") String currency,
      @JsonProperty("STATUS") String status,
      @JsonProperty("CITY") String city,
      @JsonProperty("COUNTRY") String country,
      @JsonProperty("IP_MASKED") String ipMasked,
      @JsonProperty("STREET_MASKED") String streetMasked,
      @JsonProperty("TIMESTAMP") String timestamp) {}

  /** TRANSACTIONS_USD: SECURE plus AMOUNT_USD and TARGET_CURRENCY, last. */
  @JsonPropertyOrder({"TRANSACTION_ID", "USER_ID_HASHED", "USER_NAME_HASHED", "EMAIL_HASHED",
      "TRANSACTION_TYPE", "AMOUNT", "CURRENCY", "STATUS", "CITY", "COUNTRY", "IP_MASKED",
      "STREET_MASKED", "TIMESTAMP", "AMOUNT_USD", "TARGET_CURRENCY"})
  public record UsdTransaction(
      @JsonProperty("TRANSACTION_ID") String transactionId,
      @JsonProperty("USER_ID_HASHED") String userIdHashed,
      @JsonProperty("USER_NAME_HASHED") String userNameHashed,
      @JsonProperty("EMAIL_HASHED") String emailHashed,
      @JsonProperty("TRANSACTION_TYPE") String transactionType,
      @JsonProperty("AMOUNT") double amount,
      @JsonProperty("CURRENCY") String currency,
      @JsonProperty("STATUS") String status,
      @JsonProperty("CITY") String city,
      @JsonProperty("COUNTRY") String country,
      @JsonProperty("IP_MASKED") String ipMasked,
      @JsonProperty("STREET_MASKED") String streetMasked,
      @JsonProperty("TIMESTAMP") String timestamp,
      @JsonProperty("AMOUNT_USD") double amountUsd,
      @JsonProperty("TARGET_CURRENCY") String targetCurrency) {
    static UsdTransaction of(SecureTransaction s, double amountUsd) {
      return new UsdTransaction(s.transactionId(), s.userIdHashed(), s.userNameHashed(),
          s.emailHashed(), s.transactionType(), s.amount(), s.currency(), s.status(), s.city(),
          s.country(), s.ipMasked(), s.streetMasked(), s.timestamp(), amountUsd, "USD");
    }
  }

  /** USER_SPENDING_BY_TYPE. */
  @JsonPropertyOrder({"USER_ID_HASHED", "TRANSACTION_TYPE", "TOTAL_AMOUNT_USD",
      "TRANSACTION_COUNT", "LAST_TRANSACTION_AT"})
  public record UserSpending(
      @JsonProperty("USER_ID_HASHED") String userIdHashed,
      @JsonProperty("TRANSACTION_TYPE") String transactionType,
      @JsonProperty("TOTAL_AMOUNT_USD") double totalAmountUsd,
      @JsonProperty("TRANSACTION_COUNT") long transactionCount,
      @JsonProperty("LAST_TRANSACTION_AT") String lastTransactionAt) {}

  /** SPEND_LAST_FIVE_MIN_BY_TYPE. */
  @JsonPropertyOrder({"TRANSACTION_TYPE", "TOTAL_AMOUNT_USD", "TRANSACTION_COUNT",
      "WINDOW_START", "WINDOW_END"})
  public record WindowSpend(
      @JsonProperty("TRANSACTION_TYPE") String transactionType,
      @JsonProperty("TOTAL_AMOUNT_USD") double totalAmountUsd,
      @JsonProperty("TRANSACTION_COUNT") long transactionCount,
      @JsonProperty("WINDOW_START") String windowStart,
      @JsonProperty("WINDOW_END") String windowEnd) {}

  /** USERS. */
  @JsonPropertyOrder({"USER_ID_HASHED", "USER_NAME_HASHED", "EMAIL_HASHED", "CITY", "COUNTRY",
      "FIRST_SEEN_AT", "LAST_SEEN_AT"})
  public record UserRow(
      @JsonProperty("USER_ID_HASHED") String userIdHashed,
      @JsonProperty("USER_NAME_HASHED") String userNameHashed,
      @JsonProperty("EMAIL_HASHED") String emailHashed,
      @JsonProperty("CITY") String city,
      @JsonProperty("COUNTRY") String country,
      @JsonProperty("FIRST_SEEN_AT") String firstSeenAt,
      @JsonProperty("LAST_SEEN_AT") String lastSeenAt) {}

  // What goes through the repartition topics: only what each aggregate needs.

  /** One transaction's amount, in whole micro-dollars (exact sums), and its event time. */
  public record Spend(String user, String type, long micros, long eventMs) {}

  /** One sighting of a user, at event time `eventMs`. */
  public record Sighting(String nameHashed, String emailHashed, String city, String country,
      long eventMs) {}

  // Aggregation state (RocksDB stores, changelogged).

  public record SpendTotals(long micros, long count, long lastMs) {
    static final SpendTotals EMPTY = new SpendTotals(0, 0, Long.MIN_VALUE);

    SpendTotals add(Spend s) {
      return new SpendTotals(micros + s.micros(), count + 1, Math.max(lastMs, s.eventMs()));
    }
  }

  public record WindowTotals(long micros, long count) {
    static final WindowTotals EMPTY = new WindowTotals(0, 0);

    WindowTotals add(long amount) {
      return new WindowTotals(micros + amount, count + 1);
    }
  }

  /** Name, email and place of the latest sighting by event time; first and last event times. */
  public record UserState(Sighting latest, long firstMs, long lastMs) {
    UserState add(Sighting s) {
      if (latest == null) return new UserState(s, s.eventMs(), s.eventMs());
      return new UserState(s.eventMs() >= lastMs ? s : latest, Math.min(firstMs, s.eventMs()),
          Math.max(lastMs, s.eventMs()));
    }
  }
}
