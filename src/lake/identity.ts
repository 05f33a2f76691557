/**
 * Topic identity (DESIGN.md, "The lake"): the checkpoint records each topic's Kafka id beside its
 * offsets. A topic deleted and created again under the same name has a new id and starts again
 * at offset 0, so offsets recorded for the old one would skip the new topic's first records as
 * "already in the lake". Those offsets are dropped, with one warning; unknown ids change nothing.
 */
import type { Logger } from "../core/log.ts";
import type { Checkpoint } from "./checkpoint.ts";

/**
 * Compares `ids` (topic → current id) with the checkpoint's, for the topics in `feeds`: drops
 * the offsets of re-created topics (warning `lake.topic_recreated`) and records every id. The
 * caller holds the lake lock and saves the checkpoint when `changed`.
 */
export function reconcileTopicIds(
  checkpoint: Checkpoint,
  feeds: ReadonlyMap<string, unknown>,
  ids: ReadonlyMap<string, string>,
  log: Logger,
): { recreated: string[]; changed: boolean } {
  const recreated: string[] = [];
  let changed = false;
  for (const [topic, id] of ids) {
    if (!feeds.has(topic)) continue;
    const known = checkpoint.topicId(topic);
    if (known === id) continue;
    if (known !== undefined) {
      const dropped = checkpoint.forgetOffsets(topic);
      recreated.push(topic);
      log.warn("lake.topic_recreated", {
        topic,
        previousId: known,
        id,
        droppedOffsets: dropped,
        action: "the new topic is read from its first record",
      });
    }
    checkpoint.setTopicId(topic, id);
    changed = true;
  }
  return { recreated, changed };
}
