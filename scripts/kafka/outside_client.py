"""An outside Kafka client for tests (confluent-kafka, i.e. librdkafka; not ours): reads or
writes a topic over any of our security settings, which it takes from the same environment
names the product uses (KAFKA_BROKERS, KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_SSL_CA_FILE).
Debian's kcat cannot do SCRAM against Kafka 4.1; this can.

  outside_client.py consume TOPIC [--count N] [--timeout S]
      prints the values of the committed records (read_committed), one JSON line each:
      {"partition": P, "offset": O, "key": "...", "value": "..."}; stops once it has read to
      the end of every partition (librdkafka's enable.partition.eof, like kcat -e), after N
      records, or after S seconds without a new record or partition end (default 20)
  outside_client.py produce TOPIC
      sends each stdin line as one record (key<TAB>value when the line has a tab)

Run it with the venv's python: scripts/kafka/outside_client.sh sets it up.
"""

import json
import os
import sys
import time
import uuid

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer


def settings():
    conf = {"bootstrap.servers": os.environ["KAFKA_BROKERS"]}
    protocol = os.environ.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    conf["security.protocol"] = protocol
    if protocol.startswith("SASL"):
        conf["sasl.mechanisms"] = os.environ.get("KAFKA_SASL_MECHANISM", "PLAIN")
        conf["sasl.username"] = os.environ["KAFKA_SASL_USERNAME"]
        conf["sasl.password"] = os.environ["KAFKA_SASL_PASSWORD"]
    if protocol.endswith("SSL") and os.environ.get("KAFKA_SSL_CA_FILE"):
        conf["ssl.ca.location"] = os.environ["KAFKA_SSL_CA_FILE"]
    return conf


def text(data):
    return None if data is None else data.decode("utf-8", "replace")


def consume(topic, count, timeout):
    conf = settings()
    conf.update({
        "group.id": f"outside-{uuid.uuid4()}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        # An event at the end of each partition (the last committed record), so the read ends
        # there instead of waiting out the timeout.
        "enable.partition.eof": True,
    })
    consumer = Consumer(conf)
    assigned, at_end = set(), set()
    consumer.subscribe([topic], on_assign=lambda _c, parts: assigned.update(
        (p.topic, p.partition) for p in parts))
    seen = 0
    last = time.monotonic()
    try:
        while count is None or seen < count:
            if time.monotonic() - last > timeout:
                break
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error() and msg.error().code() == KafkaError._PARTITION_EOF:
                last = time.monotonic()
                at_end.add((msg.topic(), msg.partition()))
                if at_end >= assigned:
                    break
                continue
            if msg.error():
                if msg.error().fatal():
                    raise KafkaException(msg.error())
                print(f"outside_client: {msg.error()}", file=sys.stderr)
                continue
            last = time.monotonic()
            at_end.discard((msg.topic(), msg.partition()))
            seen += 1
            print(json.dumps({
                "partition": msg.partition(), "offset": msg.offset(),
                "key": text(msg.key()), "value": text(msg.value()),
            }), flush=True)
    finally:
        consumer.close()


def produce(topic):
    errors = []
    producer = Producer({**settings(), "enable.idempotence": True})

    def report(err, _msg):
        if err is not None:
            errors.append(str(err))

    for line in sys.stdin:
        line = line.rstrip("\n")
        key, value = line.split("\t", 1) if "\t" in line else (None, line)
        producer.produce(topic, value=value.encode(), key=key and key.encode(), on_delivery=report)
        producer.poll(0)
    left = producer.flush(60)
    if errors or left:
        print(f"outside_client: {len(errors)} records failed ({errors[:1]}), {left} undelivered",
              file=sys.stderr)
        sys.exit(1)


def main(argv):
    if len(argv) < 2 or argv[0] not in ("consume", "produce"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    if argv[0] == "produce":
        produce(argv[1])
        return
    count, timeout = None, 20.0
    rest = argv[2:]
    while rest:
        flag, value, rest = rest[0], rest[1], rest[2:]
        if flag == "--count":
            count = int(value)
        elif flag == "--timeout":
            timeout = float(value)
        else:
            sys.exit(f"unknown option {flag}")
    consume(argv[1], count, timeout)


if __name__ == "__main__":
    main(sys.argv[1:])
