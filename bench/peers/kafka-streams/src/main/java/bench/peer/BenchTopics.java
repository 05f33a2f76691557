package bench.peer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The bench's topic housekeeping in one JVM (bench/process.sh), on KAFKA_BROKERS:
 * <pre>
 *   create TOPIC PARTITIONS [compact]
 *   delete PREFIX...   every topic and consumer group whose name starts with a PREFIX
 * </pre>
 */
public final class BenchTopics {
  public static void main(String[] args) throws Exception {
    String brokers = System.getenv().getOrDefault("KAFKA_BROKERS", "localhost:9092");
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers))) {
      if (args.length >= 3 && args[0].equals("create")) {
        NewTopic topic = new NewTopic(args[1], Integer.parseInt(args[2]), (short) -1);
        if (args.length > 3 && args[3].equals("compact")) {
          topic.configs(Map.of("cleanup.policy", "compact"));
        }
        try {
          admin.createTopics(List.of(topic)).all().get();
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) throw e;
        }
      } else if (args.length >= 2 && args[0].equals("delete")) {
        List<String> prefixes = List.of(args).subList(1, args.length);
        List<String> topics = new ArrayList<>();
        for (String t : admin.listTopics().names().get()) {
          if (prefixes.stream().anyMatch(t::startsWith)) topics.add(t);
        }
        List<String> groups = new ArrayList<>();
        for (ConsumerGroupListing g : admin.listConsumerGroups().all().get()) {
          if (prefixes.stream().anyMatch(g.groupId()::startsWith)) groups.add(g.groupId());
        }
        if (!topics.isEmpty()) admin.deleteTopics(topics).all().get();
        for (var result : admin.deleteConsumerGroups(groups).deletedGroups().values()) {
          try {
            result.get();
          } catch (ExecutionException e) {
            // A member that did not leave: the broker drops the group after its session.
            if (!(e.getCause() instanceof GroupNotEmptyException)) throw e;
          }
        }
        System.out.printf("deleted %d topics, %d consumer groups%n", topics.size(),
            groups.size());
      } else {
        System.err.println("usage: BenchTopics create TOPIC PARTITIONS [compact] | delete PREFIX...");
        System.exit(2);
      }
    }
  }
}
