package bench.peer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * IP and street masking as our processor does it (src/processor/mask.ts): IPv4 with the last
 * octet 0, IPv6 with the first 48 bits kept (RFC 5952 text), every street digit becomes "n".
 * Addresses are parsed by hand, not by InetAddress, which would accept forms ours refuses
 * (leading zeros, host names).
 */
public final class Masking {
  private Masking() {}

  private static final Pattern IPV6_CHARS = Pattern.compile("^[0-9A-Fa-f:.]+$");
  private static final Pattern HEX_GROUP = Pattern.compile("^[0-9A-Fa-f]{1,4}$");

  public static boolean isIpAddress(String ip) {
    return parseIpv4(ip) != null || parseIpv6(ip) != null;
  }

  public static String maskIp(String ip) {
    int[] v4 = parseIpv4(ip);
    if (v4 != null) return v4[0] + "." + v4[1] + "." + v4[2] + ".0";
    int[] v6 = parseIpv6(ip);
    if (v6 != null) return formatIpv6(new int[] {v6[0], v6[1], v6[2], 0, 0, 0, 0, 0});
    throw new IllegalArgumentException("not an IPv4 or IPv6 address");
  }

  public static String maskStreet(String street) {
    char[] chars = street.toCharArray();
    for (int i = 0; i < chars.length; i++) {
      if (chars[i] >= '0' && chars[i] <= '9') chars[i] = 'n';
    }
    return new String(chars);
  }

  /** Four decimal octets 0-255 without leading zeros. */
  static int[] parseIpv4(String text) {
    int[] octets = new int[4];
    int count = 0;
    int value = 0;
    int digits = 0;
    for (int i = 0; i <= text.length(); i++) {
      char c = i < text.length() ? text.charAt(i) : '.';
      if (c >= '0' && c <= '9') {
        if (digits > 0 && value == 0) return null;
        value = value * 10 + (c - '0');
        if (++digits > 3 || value > 255) return null;
      } else if (c == '.') {
        if (digits == 0 || count == 4) return null;
        octets[count++] = value;
        value = 0;
        digits = 0;
      } else {
        return null;
      }
    }
    return count == 4 ? octets : null;
  }

  /** Eight 16-bit groups; "::" compression and a trailing dotted IPv4 are accepted. */
  static int[] parseIpv6(String text) {
    if (!IPV6_CHARS.matcher(text).matches()) return null;
    String[] halves = text.split("::", -1);
    if (halves.length > 2) return null;
    List<Integer> head = groups(halves[0]);
    if (head == null) return null;
    if (halves.length == 1) return head.size() == 8 ? toArray(head, List.of()) : null;
    if (halves[0].contains(".")) return null;
    List<Integer> tail = groups(halves[1]);
    if (tail == null || head.size() + tail.size() > 7) return null;
    return toArray(head, tail);
  }

  private static List<Integer> groups(String part) {
    List<Integer> out = new ArrayList<>();
    if (part.isEmpty()) return out;
    String[] pieces = part.split(":", -1);
    for (int i = 0; i < pieces.length; i++) {
      String piece = pieces[i];
      if (i == pieces.length - 1 && piece.contains(".")) {
        int[] v4 = parseIpv4(piece);
        if (v4 == null) return null;
        out.add((v4[0] << 8) | v4[1]);
        out.add((v4[2] << 8) | v4[3]);
      } else if (HEX_GROUP.matcher(piece).matches()) {
        out.add(Integer.parseInt(piece, 16));
      } else {
        return null;
      }
    }
    return out;
  }

  private static int[] toArray(List<Integer> head, List<Integer> tail) {
    int[] out = new int[8];
    for (int i = 0; i < head.size(); i++) out[i] = head.get(i);
    for (int i = 0; i < tail.size(); i++) out[8 - tail.size() + i] = tail.get(i);
    return out;
  }

  /** RFC 5952: lower-case hex, the longest run (first on a tie) of 2+ zero groups as "::". */
  static String formatIpv6(int[] groups) {
    int bestStart = -1;
    int bestLength = 0;
    for (int i = 0; i < 8; ) {
      if (groups[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && groups[j] == 0) j++;
      if (j - i > bestLength && j - i >= 2) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j;
    }
    List<String> hex = new ArrayList<>();
    for (int g : groups) hex.add(Integer.toHexString(g));
    if (bestStart < 0) return String.join(":", hex);
    return String.join(":", hex.subList(0, bestStart)) + "::"
        + String.join(":", hex.subList(bestStart + bestLength, 8));
  }
}
