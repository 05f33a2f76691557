package bench.peer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.YearMonth;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The checks of our processor's validateRaw (src/processor/validate.ts), in the same order and
 * with the same reasons, except the text of JSON parse errors (Jackson words them its own way).
 * The currency check needs the rates and comes after the join (see Topology).
 */
public final class Validator {
  public static final List<String> STATUSES =
      List.of("completed", "failed", "pending", "processing", "cancelled");
  public static final List<String> TYPES =
      List.of("purchase", "transfer", "withdrawal", "deposit", "refund");
  private static final Set<String> STATUS_SET = Set.copyOf(STATUSES);
  private static final Set<String> TYPE_SET = Set.copyOf(TYPES);
  private static final List<String> STRING_FIELDS = List.of("TRANSACTION_ID", "USER_ID",
      "USER_NAME", "EMAIL", "CURRENCY", "STATUS", "CITY", "COUNTRY", "IP_ADDRESS", "STREET",
      "TIMESTAMP");
  private static final Pattern ISO_INSTANT = Pattern.compile(
      "^(\\d{4})-(\\d{2})-(\\d{2})T(\\d{2}):(\\d{2}):(\\d{2})(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$");
  public static final double MAX_AMOUNT = 1e9;
  public static final double MAX_ABS_NUMBER = 1e15;
  private static final long DAY_MS = 86_400_000L;

  /** A raw transaction that passed every check but the currency's. Holds personal data. */
  public record RawTransaction(String transactionId, String userId, String userName, String email,
      String transactionType, double amount, String currency, String status, String city,
      String country, String ipAddress, String street, String timestamp) {}

  /** Either a transaction and its event time, or the reason it is rejected. */
  public record Result(RawTransaction tx, long eventMs, String reason) {
    static Result reject(String reason) {
      return new Result(null, 0, reason);
    }

    public boolean ok() {
      return reason == null;
    }
  }

  private final int minYear;
  private final int maxYear;
  private final long minMs;
  private final long maxMs;

  public Validator(int minYear, int maxYear) {
    this.minYear = minYear;
    this.maxYear = maxYear;
    this.minMs = YearMonth.of(minYear, 1).atDay(1).toEpochDay() * DAY_MS;
    this.maxMs = YearMonth.of(maxYear + 1, 1).atDay(1).toEpochDay() * DAY_MS;
  }

  public Result check(byte[] bytes) {
    if (bytes == null) return Result.reject("value is empty (null)");
    if (bytes.length >= 3 && (bytes[0] & 0xff) == 0xef && (bytes[1] & 0xff) == 0xbb
        && (bytes[2] & 0xff) == 0xbf) {
      return Result.reject(
          "value starts with a byte-order mark (U+FEFF); send UTF-8 without a BOM");
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      return Result.reject("value is not valid UTF-8 (binary data)");
    }
    JsonNode node;
    try {
      node = Json.MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      return Result.reject("value is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      return Result.reject("value is not valid JSON: " + e.getMessage());
    }
    if (node == null || !node.isObject()) {
      String kind = node == null || node.isMissingNode() ? "undefined"
          : node.isArray() ? "array" : node.isNull() ? "null"
          : node.isNumber() ? "number" : node.isBoolean() ? "boolean" : "string";
      return Result.reject("value is not a JSON object (JSON " + kind + ", not an object)");
    }

    for (String field : STRING_FIELDS) {
      JsonNode value = node.get(field);
      if (value == null || value.isNull()) return Result.reject("field " + field + " is missing");
      if (!value.isTextual()) return Result.reject("field " + field + " is not a string");
      if (isBlank(value.textValue())) return Result.reject("field " + field + " is empty");
    }
    JsonNode typeNode = node.get("TRANSACTION_TYPE");
    String type = null;
    if (typeNode != null && !typeNode.isNull()) {
      if (!typeNode.isTextual() || !TYPE_SET.contains(typeNode.textValue())) {
        return Result.reject("field TRANSACTION_TYPE is " + typeNode + "; expected one of "
            + String.join(", ", TYPES) + " or null");
      }
      type = typeNode.textValue();
    }
    JsonNode amountNode = node.get("AMOUNT");
    if (amountNode == null || amountNode.isNull()) return Result.reject("field AMOUNT is missing");
    double amount = amountNode.isNumber() ? amountNode.doubleValue() : Double.NaN;
    if (!Double.isFinite(amount)) return Result.reject("field AMOUNT is not a number");
    if (amount <= 0) {
      return Result.reject("field AMOUNT must be greater than 0, got " + Json.jsNumber(amount));
    }
    if (amount > MAX_AMOUNT) {
      return Result.reject("field AMOUNT " + Json.jsNumber(amount) + " is larger than the accepted "
          + Json.jsNumber(MAX_AMOUNT));
    }
    String status = node.get("STATUS").textValue();
    if (!STATUS_SET.contains(status)) {
      return Result.reject("field STATUS is " + node.get("STATUS") + "; expected one of "
          + String.join(", ", STATUSES));
    }
    JsonNode timestampNode = node.get("TIMESTAMP");
    long eventMs = parseInstant(timestampNode.textValue());
    if (eventMs == Long.MIN_VALUE) {
      return Result.reject("field TIMESTAMP " + timestampNode + " is not an ISO 8601 instant");
    }
    if (eventMs < minMs || eventMs >= maxMs) {
      return Result.reject("field TIMESTAMP " + timestampNode + " is outside the accepted years "
          + minYear + "–" + maxYear + " (UTC)");
    }
    String ip = node.get("IP_ADDRESS").textValue();
    if (!Masking.isIpAddress(ip)) {
      return Result.reject("field IP_ADDRESS is not an IPv4 or IPv6 address");
    }
    RawTransaction tx = new RawTransaction(text(node, "TRANSACTION_ID"), text(node, "USER_ID"),
        text(node, "USER_NAME"), text(node, "EMAIL"), type, amount, text(node, "CURRENCY"),
        status, text(node, "CITY"), text(node, "COUNTRY"), ip, text(node, "STREET"),
        timestampNode.textValue());
    return new Result(tx, eventMs, null);
  }

  /** The reason a transaction cannot be converted at `rate` (null: no rate), or null. */
  public static String rateProblem(RawTransaction tx, Double rate) {
    if (rate == null) {
      return "unknown currency " + quoted(tx.currency()) + ": no rate in CURRENCY_RATES";
    }
    double usd = tx.amount() * rate;
    if (!Double.isFinite(usd) || Math.abs(usd) > MAX_ABS_NUMBER) {
      return "field AMOUNT " + Json.jsNumber(tx.amount()) + " " + tx.currency() + " is more than "
          + Json.jsNumber(MAX_ABS_NUMBER) + " USD at rate " + Json.jsNumber(rate);
    }
    return null;
  }

  private static String text(JsonNode node, String field) {
    return node.get(field).textValue();
  }

  private static String quoted(String value) {
    try {
      return Json.MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Milliseconds since the epoch, or Long.MIN_VALUE when `value` is no real instant. */
  static long parseInstant(String value) {
    Matcher m = ISO_INSTANT.matcher(value);
    if (!m.matches()) return Long.MIN_VALUE;
    int year = Integer.parseInt(m.group(1));
    int month = Integer.parseInt(m.group(2));
    int day = Integer.parseInt(m.group(3));
    if (month < 1 || month > 12 || day < 1 || day > YearMonth.of(year, month).lengthOfMonth()) {
      return Long.MIN_VALUE;
    }
    int hour = Integer.parseInt(m.group(4));
    int minute = Integer.parseInt(m.group(5));
    int second = Integer.parseInt(m.group(6));
    if (hour > 23 || minute > 59 || second > 59) return Long.MIN_VALUE;
    String fraction = m.group(7);
    long millis = fraction == null ? 0
        : (long) Math.floor(Double.parseDouble("0" + fraction) * 1000);
    long offsetMs = 0;
    String zone = m.group(8);
    if (!zone.equals("Z")) {
      int hours = Integer.parseInt(zone.substring(1, 3));
      int minutes = Integer.parseInt(zone.substring(zone.length() - 2));
      if (hours > 23 || minutes > 59) return Long.MIN_VALUE;
      offsetMs = (zone.charAt(0) == '-' ? -1L : 1L) * (hours * 60L + minutes) * 60_000L;
    }
    long days = YearMonth.of(year, month).atDay(day).toEpochDay();
    return days * DAY_MS + hour * 3_600_000L + minute * 60_000L + second * 1000L + millis
        - offsetMs;
  }

  /** JavaScript's String#trim() === "" (its whitespace set, not Java's). */
  static boolean isBlank(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean space = c == ' ' || (c >= '\t' && c <= '\r') || c == '\u00a0' || c == '\u1680'
          || (c >= '\u2000' && c <= '\u200a') || c == '\u2028' || c == '\u2029'
          || c == '\u202f' || c == '\u205f' || c == '\u3000' || c == '\ufeff';
      if (!space) return false;
    }
    return true;
  }
}
