/** How the library's consumer group deals partitions to our members. */
import type {
  ExtendedGroupProtocolSubscription,
  GroupPartitionsAssignments,
} from "@platformatic/kafka";

/**
 * Round robin over the members subscribed to each topic (the library's default deals every
 * topic to every member: our lake runs a member per feed, each subscribed to its own topic).
 */
export function assignBySubscription(
  _current: string,
  members: Map<string, ExtendedGroupProtocolSubscription>,
  topics: Set<string>,
  metadata: { topics: Map<string, { partitionsCount: number }> },
): GroupPartitionsAssignments[] {
  const out = new Map<string, GroupPartitionsAssignments>();
  for (const memberId of [...members.keys()].sort()) {
    out.set(memberId, { memberId, assignments: new Map() });
  }
  for (const topic of [...topics].sort()) {
    const subscribers = [...members].filter(([, m]) => m.topics?.includes(topic))
      .map(([id]) => id).sort();
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    for (let partition = 0; partition < count && subscribers.length > 0; partition++) {
      const member = out.get(subscribers[partition % subscribers.length])!;
      let entry = member.assignments.get(topic);
      if (!entry) member.assignments.set(topic, entry = { topic, partitions: [] });
      entry.partitions.push(partition);
    }
  }
  return [...out.values()];
}
