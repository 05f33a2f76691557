/**
 * A Producer that connects on first use and forgets a connection that failed, so that one Kafka
 * outage does not break every later send of a long-running process (the API's record posting):
 * the next call connects again. Outage errors come out as UnavailableError (HTTP 503). With
 * `specFor`, a topic is created (as the product lays it out) before the first send to it: the
 * client never lets the broker create topics implicitly.
 */
import { UnavailableError } from "../core/errors.ts";
import type { KafkaClient, OutgoingRecord, Producer, TopicSpec } from "./client.ts";
import { isTransientKafkaError, rootMessage } from "./retry.ts";

export function lazyProducer(
  kafka: Pick<KafkaClient, "producer" | "ensureTopics">,
  specFor?: (topic: string) => TopicSpec | undefined,
): Producer {
  let connecting: Promise<Producer> | undefined;
  const ensured = new Set<string>();
  const forget = (which: Promise<Producer>) => {
    if (connecting !== which) return;
    connecting = undefined;
    void which.then((p) => p.close()).catch(() => {});
  };
  return {
    async send(records: OutgoingRecord[]) {
      const current = connecting ??= kafka.producer();
      try {
        const producer = await current;
        const specs = [...new Set(records.map((r) => r.topic))].filter((t) => !ensured.has(t))
          .map((t) => specFor?.(t)).filter((s): s is TopicSpec => s !== undefined);
        if (specs.length > 0) {
          await kafka.ensureTopics(specs);
          for (const spec of specs) ensured.add(spec.topic);
        }
        await producer.send(records);
      } catch (error) {
        if (!isTransientKafkaError(error)) throw error;
        forget(current);
        throw error instanceof UnavailableError ? error : new UnavailableError(
          `Kafka is not reachable: ${rootMessage(error)}`,
          { cause: error },
        );
      }
    },
    async close() {
      const current = connecting;
      connecting = undefined;
      await (await current?.catch(() => undefined))?.close();
    },
  };
}
