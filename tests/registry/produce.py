"""Produces records with Confluent's own client and Schema Registry serializer (not our code).

Usage: python produce.py < job.json, where job.json is
  {"brokers": "...", "registry": "...", "topic": "...", "format": "avro",
   "schema": "<Avro schema JSON text>", "records": [{...}, ...]}
Values tagged {"$datetime": ISO}, {"$date": "YYYY-MM-DD"}, {"$decimal": "1.50"},
{"$bytes": base64} become the Python types the serializer expects for those Avro types.
Prints one JSON line: {"produced": N, "schemaId": id}, or {"error": "..."} and exits 1.
Also: {"action": "read", ...} reads `count` records back with the AvroDeserializer and prints
them as JSON lines (used to check our own Avro outputs).
"""
import base64
import datetime
import decimal
import json
import sys

from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext


def tagged(value):
    if isinstance(value, dict):
        if len(value) == 1:
            (k, v), = value.items()
            if k == "$datetime":
                return datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
            if k == "$date":
                return datetime.date.fromisoformat(v)
            if k == "$decimal":
                return decimal.Decimal(v)
            if k == "$bytes":
                return base64.b64decode(v)
            if k == "$tuple":  # a union branch chosen explicitly: ["name", value]
                return (v[0], tagged(v[1]))
        return {k: tagged(v) for k, v in value.items()}
    if isinstance(value, list):
        return [tagged(v) for v in value]
    return value


def plain(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def produce(job):
    client = SchemaRegistryClient({"url": job["registry"]})
    serializer = AvroSerializer(client, job["schema"], conf={"auto.register.schemas": True})
    producer = Producer({"bootstrap.servers": job["brokers"], "enable.idempotence": True})
    ctx = SerializationContext(job["topic"], MessageField.VALUE)
    for record in job["records"]:
        value = serializer(tagged(record), ctx)
        key = record.get(job["key"]) if job.get("key") else None
        producer.produce(job["topic"], value=value, key=None if key is None else str(key))
    remaining = producer.flush(30)
    if remaining:
        raise RuntimeError(f"{remaining} records not delivered")
    schema_id = client.get_latest_version(f"{job['topic']}-value").schema_id
    print(json.dumps({"produced": len(job["records"]), "schemaId": schema_id}))


def read(job):
    client = SchemaRegistryClient({"url": job["registry"]})
    deserializer = AvroDeserializer(client)
    consumer = Consumer({
        "bootstrap.servers": job["brokers"],
        "group.id": job["group"],
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
    })
    consumer.subscribe([job["topic"]])
    got = 0
    deadline = datetime.datetime.now() + datetime.timedelta(seconds=job.get("timeout", 60))
    while got < job["count"] and datetime.datetime.now() < deadline:
        msg = consumer.poll(1.0)
        if msg is None or msg.error():
            continue
        value = deserializer(msg.value(), SerializationContext(msg.topic(), MessageField.VALUE))
        print(json.dumps(plain(value)))
        got += 1
    consumer.close()


def raw(job):
    producer = Producer({"bootstrap.servers": job["brokers"]})
    for value in job["values"]:
        producer.produce(job["topic"], value=base64.b64decode(value))
    if producer.flush(30):
        raise RuntimeError("records not delivered")
    print(json.dumps({"produced": len(job["values"])}))


def main():
    job = json.load(sys.stdin)
    try:
        if job.get("action") == "read":
            read(job)
        elif job.get("action") == "raw":
            raw(job)
        else:
            produce(job)
    except Exception as error:  # one line for the test to show
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        sys.exit(1)


main()
