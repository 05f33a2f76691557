/**
 * Kafka refused who we are or how we connect: a wrong password, a certificate we do not trust, a
 * plaintext client on a TLS port. A ConfigError (one-shot commands exit 3) that names the setting
 * to fix; long-running parts keep retrying it (credentials get rotated). Never carries a secret.
 */
import { ConfigError, DomainError } from "../core/errors.ts";

export class KafkaAccessError extends ConfigError {
  /** The setting to look at, e.g. KAFKA_SASL_PASSWORD. */
  readonly setting: string;
  constructor(message: string, setting: string, options?: ErrorOptions) {
    super(message, options);
    this.setting = setting;
  }
}

/** A topic we were asked to read does not exist (deleted while we ran, or never created). */
export class KafkaTopicMissingError extends DomainError {
  override readonly status = 503;
  readonly topics: string[];
  constructor(topics: string[]) {
    super(
      `Kafka has no topic ${topics.join(", ")} (deleted?): reading ${
        topics.length > 1 ? "them" : "it"
      } is retried`,
    );
    this.topics = topics;
  }
}

type Described = Error & { code?: string; apiId?: string; errors?: unknown[] };

/**
 * `error` and everything it wraps (causes and aggregated errors). Bounded, but generously: a
 * produce call the client retried through a leader change carries one error per attempt.
 */
export function errorTree(error: unknown): Described[] {
  const out: Described[] = [];
  const visit = (e: unknown) => {
    if (!(e instanceof Error) || out.includes(e) || out.length > 500) return;
    out.push(e);
    const d = e as Described & { originalError?: unknown };
    visit(d.cause ?? d.originalError);
    if (Array.isArray(d.errors)) d.errors.forEach(visit);
  };
  visit(error);
  return out;
}
