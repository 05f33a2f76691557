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


def protobuf_class(job):
    """A message class built at run time from job["proto"] (no protoc needed): {"package",
    "messages": [{"name", "fields": [[name, number, type, label, type_name]], "nested": [...]}],
    "enums": [{"name", "values": [..]}], "message": the one to produce}."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    spec = job["proto"]
    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(
        name=f"{job['topic']}.proto", package=spec["package"], syntax="proto3")

    def add_message(container, m):
        msg = container.add(name=m["name"])
        for name, number, ftype, label, type_name in m["fields"]:
            field = msg.field.add(
                name=name, number=number, type=getattr(F, f"TYPE_{ftype.upper()}"),
                label=getattr(F, f"LABEL_{label.upper()}"))
            if type_name:
                field.type_name = type_name
        for n in m.get("nested", []):
            add_message(msg.nested_type, n)

    for e in spec.get("enums", []):
        enum = fdp.enum_type.add(name=e["name"])
        for i, v in enumerate(e["values"]):
            enum.value.add(name=v, number=i)
    for m in spec["messages"]:
        add_message(fdp.message_type, m)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    desc = pool.FindMessageTypeByName(f"{spec['package']}.{spec['message']}")
    return message_factory.GetMessageClass(desc)


def protobuf_serializer(job, client):
    from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
    from google.protobuf import json_format

    cls = protobuf_class(job)
    serializer = ProtobufSerializer(cls, client, conf={"use.deprecated.format": False})

    def serialize(record, ctx):
        return serializer(json_format.ParseDict(record, cls()), ctx)
    return serialize


def registry_client(job):
    # The client waits forever by default: a response lost on a kept-alive connection then
    # holds the test until the registry's idle timeout (30 min) closes it. 10 s, then retry.
    return SchemaRegistryClient({"url": job["registry"], "timeout": 10})


def produce(job):
    client = registry_client(job)
    if job.get("format") == "protobuf":
        serializer = protobuf_serializer(job, client)
    elif job.get("format") == "json-schema":
        from confluent_kafka.schema_registry.json_schema import JSONSerializer
        serializer = JSONSerializer(job["schema"], client)
    else:
        serializer = AvroSerializer(client, job["schema"], conf={"auto.register.schemas": True})
    producer = Producer({"bootstrap.servers": job["brokers"], "enable.idempotence": True})
    ctx = SerializationContext(job["topic"], MessageField.VALUE)
    for record in job["records"]:
        value = serializer(tagged(record) if job.get("format") is None else record, ctx)
        key = record.get(job["key"]) if job.get("key") else None
        producer.produce(job["topic"], value=value, key=None if key is None else str(key))
    remaining = producer.flush(30)
    if remaining:
        raise RuntimeError(f"{remaining} records not delivered")
    schema_id = client.get_latest_version(f"{job['topic']}-value").schema_id
    print(json.dumps({"produced": len(job["records"]), "schemaId": schema_id}))


def read(job):
    client = registry_client(job)
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
