package bench.peer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;

/**
 * Runs the peer topology. Configured like our processor, from the environment: KAFKA_BROKERS,
 * ANONYMIZATION_KEY, RAW_TOPIC, REJECTED_TOPIC, RATES_TOPIC (default CURRENCY_RATES),
 * OUTPUT_PREFIX (prepended to every feed topic), BLACKLIST_USER_IDS, BLACKLIST_COUNTRIES,
 * EVENT_TIME_YEARS, APPLICATION_ID, STATE_DIR.
 *
 * <p>With --once it stops when every record the raw topic held at start is processed and
 * committed (its consumer group's offsets, and those of the repartition topics, at their ends),
 * then prints one line: "processed N raw transactions (S s: R records/s in)".
 */
public final class PeerMain {
  private static final int STREAM_PARTITIONS = 3;
  /** When the raw topic's offsets were seen committed (diagnostics of --once). */
  private static long rawCommitted;

  public static void main(String[] args) throws Exception {
    boolean once = Arrays.asList(args).contains("--once");
    String brokers = env("KAFKA_BROKERS", "localhost:9092");
    String key = env("ANONYMIZATION_KEY", null);
    if (key == null) {
      System.err.println("ANONYMIZATION_KEY is not set: the peer refuses to pseudonymize without");
      System.exit(2);
    }
    String appId = env("APPLICATION_ID", "kafka-streams-peer");
    PeerTopology.Topics topics = PeerTopology.Topics.withPrefix(
        env("RAW_TOPIC", "transactions"), env("RATES_TOPIC", "CURRENCY_RATES"),
        env("REJECTED_TOPIC", "transactions_rejected"), env("OUTPUT_PREFIX", ""));
    String[] years = env("EVENT_TIME_YEARS", "1970-2200").split("-");
    PeerTopology.Settings settings = new PeerTopology.Settings(key,
        list(env("BLACKLIST_USER_IDS", "U00013,U00042")),
        list(env("BLACKLIST_COUNTRIES", "North Korea")),
        Integer.parseInt(years[0].trim()), Integer.parseInt(years[1].trim()));

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    // Under exactly-once every commit is a Kafka transaction; the default (100 ms) trades
    // throughput for latency. One second, as outside exactly-once, and a 10 MiB record cache
    // (the default) that folds table updates per key between commits.
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 1000);
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 10 * 1024 * 1024L);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    props.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.OPTIMIZE);
    props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        LogAndContinueExceptionHandler.class);
    props.put(StreamsConfig.STATE_DIR_CONFIG,
        env("STATE_DIR", System.getProperty("java.io.tmpdir") + "/kafka-streams-peer"));
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers))) {
      createOutputTopics(admin, topics);
      Map<TopicPartition, Long> rawEnds = once ? endOffsets(admin, partitions(admin,
          Set.of(topics.raw()))) : Map.of();

      Topology topology = PeerTopology.build(topics, settings, props);
      KafkaStreams streams = new KafkaStreams(topology, props);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      CountDownLatch stopped = new CountDownLatch(1);
      streams.setUncaughtExceptionHandler(e -> {
        failure.set(e);
        stopped.countDown();
        return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
            .StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
      });
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        stopped.countDown();
        streams.close(Duration.ofSeconds(30));
      }));
      AtomicLong running = new AtomicLong();
      streams.setStateListener((next, previous) -> {
        if (next == KafkaStreams.State.RUNNING) running.compareAndSet(0, System.nanoTime());
      });
      long started = System.nanoTime();
      streams.start();
      if (!once) {
        stopped.await();
      } else {
        awaitCaughtUp(admin, appId, rawEnds, failure);
        double seconds = (System.nanoTime() - started) / 1e9;
        System.err.printf("peer: running after %.2f s, raw topic committed after %.2f s%n",
            (running.get() - started) / 1e9, (rawCommitted - started) / 1e9);
        long in = rawEnds.values().stream().mapToLong(Long::longValue).sum();
        if (failure.get() == null) {
          System.out.printf("processed %d raw transactions (%.2f s: %d records/s in)%n", in,
              seconds, Math.round(in / seconds));
        }
      }
      // Leaving the group at once (not after the session timeout) lets the bench delete it.
      streams.close(new KafkaStreams.CloseOptions().leaveGroup(once)
          .timeout(Duration.ofSeconds(30)));
      if (failure.get() != null) {
        System.err.println("peer failed: " + failure.get());
        System.exit(1);
      }
    }
  }

  /**
   * Waits until the group has committed the raw topic's start-time end offsets, then every
   * repartition partition up to its end (the last offset of a transactional partition is its
   * commit marker, never handed to the application: end - 1 is caught up). Polls every 200 ms,
   * raw offsets alone first, so the polling costs the run little.
   */
  static void awaitCaughtUp(Admin admin, String appId, Map<TopicPartition, Long> rawEnds,
      AtomicReference<Throwable> failure) throws ExecutionException, InterruptedException {
    while (failure.get() == null && !committedUpTo(admin, appId, rawEnds, 0)) Thread.sleep(200);
    rawCommitted = System.nanoTime();
    // Committed with the raw offsets in one transaction: the repartition topics' ends are final.
    Set<String> repartition = admin.listTopics().names().get().stream()
        .filter(t -> t.startsWith(appId + "-") && t.endsWith("-repartition"))
        .collect(Collectors.toSet());
    Map<TopicPartition, Long> ends = endOffsets(admin, partitions(admin, repartition));
    while (failure.get() == null && !committedUpTo(admin, appId, ends, 1)) Thread.sleep(200);
  }

  static boolean committedUpTo(Admin admin, String appId, Map<TopicPartition, Long> ends,
      int slack) throws ExecutionException, InterruptedException {
    Map<TopicPartition, OffsetAndMetadata> committed =
        admin.listConsumerGroupOffsets(appId).partitionsToOffsetAndMetadata().get();
    for (var end : ends.entrySet()) {
      OffsetAndMetadata c = committed.get(end.getKey());
      if ((c == null ? 0 : c.offset()) < end.getValue() - slack) return false;
    }
    return true;
  }

  static List<TopicPartition> partitions(Admin admin, Set<String> topics)
      throws ExecutionException, InterruptedException {
    List<TopicPartition> out = new ArrayList<>();
    if (topics.isEmpty()) return out;
    for (var d : admin.describeTopics(topics).allTopicNames().get().values()) {
      d.partitions().forEach(p -> out.add(new TopicPartition(d.name(), p.partition())));
    }
    return out;
  }

  static Map<TopicPartition, Long> endOffsets(Admin admin, List<TopicPartition> partitions)
      throws ExecutionException, InterruptedException {
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    partitions.forEach(p -> request.put(p, OffsetSpec.latest()));
    Map<TopicPartition, Long> out = new HashMap<>();
    admin.listOffsets(request).all().get().forEach((p, info) -> out.put(p, info.offset()));
    return out;
  }

  /** The feed topics, laid out as our processor lays them out (src/kafka/topics.ts). */
  static void createOutputTopics(Admin admin, PeerTopology.Topics t)
      throws ExecutionException, InterruptedException {
    List<NewTopic> wanted = new ArrayList<>();
    for (String s : List.of(t.rejected(), t.secure(), t.usd(), t.blacklisted())) {
      wanted.add(new NewTopic(s, STREAM_PARTITIONS, (short) -1));
    }
    t.byStatus().values().forEach(s -> wanted.add(new NewTopic(s, STREAM_PARTITIONS, (short) -1)));
    for (String table : List.of(t.userSpending(), t.windows(), t.users())) {
      wanted.add(new NewTopic(table, STREAM_PARTITIONS, (short) -1)
          .configs(Map.of("cleanup.policy", "compact")));
    }
    for (var result : admin.createTopics(wanted).values().values()) {
      try {
        result.get();
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) throw e;
      }
    }
  }

  private static Set<String> list(String value) {
    Set<String> out = new HashSet<>();
    for (String v : value.split(",")) if (!v.trim().isEmpty()) out.add(v.trim());
    return out;
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isEmpty() ? fallback : v;
  }
}
