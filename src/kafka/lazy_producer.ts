/**
 * A Producer that connects on first use and forgets a connection that failed, so that one Kafka
 * outage does not break every later send of a long-running process (the API's record posting):
 * the next call connects again. Outage errors come out as UnavailableError (HTTP 503).
 */
import { UnavailableError } from "../core/errors.ts";
import type { KafkaClient, OutgoingRecord, Producer } from "./client.ts";
import { isTransientKafkaError, rootMessage } from "./retry.ts";

export function lazyProducer(kafka: Pick<KafkaClient, "producer">): Producer {
  let connecting: Promise<Producer> | undefined;
  const forget = (which: Promise<Producer>) => {
    if (connecting !== which) return;
    connecting = undefined;
    void which.then((p) => p.close()).catch(() => {});
  };
  return {
    async send(records: OutgoingRecord[]) {
      const current = connecting ??= kafka.producer();
      try {
        await (await current).send(records);
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
