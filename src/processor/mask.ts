/**
 * Masking of the personal fields the processor keeps in a coarser form (DESIGN.md, "The
 * processor"): an IP address loses its host part, a street loses its house numbers.
 */

/** IPv4 with the last octet set to 0; IPv6 with the first 48 bits kept and the rest zero. */
export function maskIp(ip: string): string {
  const v4 = parseIpv4(ip);
  if (v4) return `${v4[0]}.${v4[1]}.${v4[2]}.0`;
  const v6 = parseIpv6(ip);
  if (v6) return formatIpv6([v6[0], v6[1], v6[2], 0, 0, 0, 0, 0]);
  throw new RangeError(`${JSON.stringify(ip)} is not an IPv4 or IPv6 address`);
}

export function isIpAddress(ip: string): boolean {
  return parseIpv4(ip) !== undefined || parseIpv6(ip) !== undefined;
}

/** Every digit becomes "n", so "221B Baker Street" reads "nnnB Baker Street". */
export function maskStreet(street: string): string {
  return street.replace(/[0-9]/g, "n");
}

/**
 * Four decimal octets 0-255, no leading zeros (which some parsers read as octal). A loop over
 * the characters: this runs twice per transaction (validation, then masking).
 */
function parseIpv4(text: string): number[] | undefined {
  const octets: number[] = [];
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // a final "." closes the last octet
    if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return undefined; // leading zero
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return undefined;
    } else if (c === 46) {
      if (digits === 0 || octets.length === 4) return undefined;
      octets.push(value);
      value = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  return octets.length === 4 ? octets : undefined;
}

/** Eight 16-bit groups; accepts "::" compression and a trailing dotted IPv4 (::ffff:1.2.3.4). */
function parseIpv6(text: string): number[] | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIpv4(piece);
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(piece)) {
        out.push(parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groupsOf(halves[0]);
  if (!head) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  // A dotted IPv4 may only end the address, never stand before "::".
  if (halves[0].includes(".")) return undefined;
  const tail = groupsOf(halves[1]);
  if (!tail || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
}

/**
 * The canonical text form of RFC 5952: lower-case hex without leading zeros, the longest run of
 * two or more zero groups (the first one on a tie) written as "::". So 2001:db8:85a3::/48 masks
 * to "2001:db8:85a3::".
 */
export function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  const left = hex.slice(0, bestStart).join(":");
  const right = hex.slice(bestStart + bestLength).join(":");
  return `${left}::${right}`;
}
