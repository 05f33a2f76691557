/**
 * The producer's stable pool of fake customers. Raw ids are "U" + 5 digits (U00001, U00002, ...),
 * the pattern the PII scan looks for; a few users live in North Korea so that blacklist routing
 * (settings.ts: U00013, U00042, North Korea) happens in the demo.
 */
import { Random } from "./random.ts";

export interface FakeUser {
  USER_ID: string;
  USER_NAME: string;
  EMAIL: string;
  CITY: string;
  COUNTRY: string;
  IP_ADDRESS: string;
  STREET: string;
}

/** The pool seed the producer uses: the same customers on every run, whatever --seed says. */
export const POOL_SEED = 20240601;

const FIRST_NAMES = (
  "Alice Bruno Chloé David Emma Farid Giulia Hugo Inès Jonas Kenji Léa Mateo Nadia Oscar Priya " +
  "Quentin Rosa Sven Tariq Ursula Victor Wen Yasmine Zoé"
).split(" ");
const LAST_NAMES = (
  "Martin Bernard Dubois Rossi Schmidt Garcia Nakamura Smith Kowalski Okafor Silva Novak " +
  "Haddad Larsen Moreau Singh Chen Müller Ivanova"
).split(" ");
/** "City/Country" pairs separated by "|". */
const PLACES = (
  "Paris/France|Lyon/France|Marseille/France|Berlin/Germany|Munich/Germany|Madrid/Spain|" +
  "Rome/Italy|London/United Kingdom|New York/United States|San Francisco/United States|" +
  "Tokyo/Japan|Mumbai/India|Toronto/Canada|Zurich/Switzerland|Sydney/Australia"
).split("|").map((place) => place.split("/") as [string, string]);
const STREET_NAMES = [
  "Rue de la Paix",
  "Baker Street",
  "Hauptstraße",
  "Calle Mayor",
  "Via Roma",
  "Main Street",
  "Avenue des Champs",
  "Queen Street",
  "Bahnhofstrasse",
];
const MAIL_DOMAINS = ["example.com", "mail.example.org", "example.net"];

/** `size` users, numbered from U00001, the same for the same seed. */
export function userPool(seed: number, size: number): FakeUser[] {
  const random = new Random(seed);
  const users: FakeUser[] = [];
  for (let i = 1; i <= size; i++) {
    const first = random.pick(FIRST_NAMES);
    const last = random.pick(LAST_NAMES);
    // Every 25th user (U00007, U00032, ...) lives in the blacklisted country.
    const [city, country] = i % 25 === 7 ? ["Pyongyang", "North Korea"] : random.pick(PLACES);
    const ascii = (s: string) => s.normalize("NFD").replace(/[^A-Za-z]/g, "").toLowerCase();
    users.push({
      USER_ID: `U${String(i).padStart(5, "0")}`,
      USER_NAME: `${first} ${last}`,
      EMAIL: `${ascii(first)}.${ascii(last)}${i}@${random.pick(MAIL_DOMAINS)}`,
      CITY: city,
      COUNTRY: country,
      IP_ADDRESS: random.chance(0.15) ? fakeIpv6(random) : fakeIpv4(random),
      STREET: `${random.int(1, 240)}${random.chance(0.1) ? "B" : ""} ${random.pick(STREET_NAMES)}`,
    });
  }
  return users;
}

function fakeIpv4(random: Random): string {
  return `${random.int(11, 223)}.${random.int(0, 255)}.${random.int(0, 255)}.${random.int(1, 254)}`;
}

/** Documentation prefix 2001:db8::/32 with random groups after it. */
function fakeIpv6(random: Random): string {
  const group = () => random.int(0, 0xffff).toString(16);
  return `2001:db8:${group()}:${group()}:${group()}:${group()}:${group()}:${group()}`;
}
